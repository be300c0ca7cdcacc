"""SECOP II processes (datos.gov.co, Socrata SODA dataset p6dx-8zbt): public procurement by the
ten municipalities of the Valle de Aburrá and by national entities.

GET /resource/p6dx-8zbt.json?$select=…&$where=…&$order=…&$limit=N&$offset=M answers a JSON
array of flat records whose values are all strings; `urlproceso` is an object {"url": …};
timestamps are "floating" (no zone: Colombian local time). Paging stops at a short page.
Every process is tagged `procurement` and Colombia.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import scrapy
from scrapy.http import Response

from crawlers.items import CallItem
from crawlers.platforms.base import ConvocaSpider

DATASET_URL = "https://www.datos.gov.co/resource/p6dx-8zbt.json"
MUNICIPALITIES = ("Medellín", "Bello", "Itagüí", "Envigado", "Sabaneta", "La Estrella", "Caldas",
                  "Copacabana", "Girardota", "Barbosa")
FIELDS = ("id_del_proceso,referencia_del_proceso,entidad,nit_entidad,departamento_entidad,ciudad_entidad,"
          "ordenentidad,nombre_del_procedimiento,descripci_n_del_procedimiento,fase,fecha_de_publicacion_del,"
          "fecha_de_recepcion_de,precio_base,modalidad_de_contratacion,duracion,unidad_de_duracion,"
          "estado_del_procedimiento,estado_de_apertura_del_proceso,urlproceso,codigo_principal_de_categoria")
_CLOSED = ("adjudicado", "cancelado", "desierto", "cerrado", "terminado", "celebrado")


def where_clause(published_since: str) -> str:
    towns = ",".join(f"'{m}'" for m in MUNICIPALITIES)
    return (f"((departamento_entidad='Antioquia' AND ciudad_entidad in({towns})) OR ordenentidad='Nacional') "
            f"AND estado_de_apertura_del_proceso='Abierto' AND fecha_de_publicacion_del>='{published_since}'")


class SecopSpider(ConvocaSpider):
    name = "secop"
    source_name = "SECOP II – procesos de contratación (datos.gov.co)"

    def __init__(self, page_size: str | int = 1000, max_pages: str | int = 20, since: str = "",
                 days: str | int = 45, **kwargs: Any):
        super().__init__(**kwargs)
        self.page_size = int(page_size)
        self.max_pages = int(max_pages)
        # A fixed `since` makes a crawl reproducible (tests, replay); by default the last weeks.
        self.since = since or (datetime.now(UTC) - timedelta(days=int(days))).strftime("%Y-%m-%dT00:00:00")

    def page_request(self, page: int) -> scrapy.Request:
        query = {"$select": FIELDS, "$where": where_clause(self.since), "$order": "id_del_proceso",
                 "$limit": self.page_size, "$offset": page * self.page_size}
        return scrapy.Request(f"{DATASET_URL}?{urlencode(query)}", callback=self.parse, cb_kwargs={"page": page},
                              headers={"Accept": "application/json"}, errback=self.on_error)

    async def start(self) -> AsyncIterator[scrapy.Request]:
        yield self.page_request(0)

    def parse(self, response: Response, page: int = 0) -> Iterator[Any]:
        try:
            rows = json.loads(response.text)
        except json.JSONDecodeError as exc:
            self.bad_page(response, "invalid_json", error=exc.msg, page=page)
            return
        if not isinstance(rows, list):
            # SODA reports query errors as an object: {"error": true, "message": …}
            self.bad_page(response, "not_a_record_list", message=str(rows)[:200] if rows else None)
            return
        for row in rows:
            if isinstance(row, dict):
                item = self.parse_row(row)
                if item is not None:
                    yield item
        if len(rows) >= self.page_size and page + 1 < self.max_pages:
            yield self.page_request(page + 1)

    def parse_row(self, row: dict[str, Any]) -> CallItem | None:
        process_id = str(row.get("id_del_proceso") or "").strip()
        if not process_id:
            self.drop_record("missing_source_id", str(row.get("referencia_del_proceso")))
            return None
        state = str(row.get("estado_del_procedimiento") or "").strip()
        link = row.get("urlproceso")
        url = link.get("url") if isinstance(link, dict) else link
        town = row.get("ciudad_entidad")
        entity = row.get("entidad")
        topics = [t for t in (row.get("modalidad_de_contratacion"), row.get("codigo_principal_de_categoria")) if t]
        return CallItem(
            source=self.name,
            source_id=process_id,
            url=str(url or f"https://community.secop.gov.co/Public/Tendering/OpportunityDetail/Index?noticeUID={process_id}"),
            title=row.get("nombre_del_procedimiento") or "",
            description=row.get("descripci_n_del_procedimiento"),
            funder=f"{entity} ({town})" if entity and town and row.get("ordenentidad") != "Nacional" else entity,
            language="es",
            status="closed" if state.lower().startswith(_CLOSED) else "open",
            opens_at=row.get("fecha_de_publicacion_del"),
            deadlines=[row["fecha_de_recepcion_de"]] if row.get("fecha_de_recepcion_de") else [],
            amount_max=row.get("precio_base"),
            currency="COP",
            cooperation_type="procurement",
            eligible_countries=["CO"],
            topics=topics,
            raw=row,
        )
