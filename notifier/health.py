"""The operator's source-health alert: sources that yielded nothing or dropped too much (DESIGN §4).

It goes out with the same exactly-once machinery as the digests, as message kind "health" of
the metropolitan entity (AMVA runs the service and owns the source list), at most once a day and
only when some source is unhealthy. Recipients: CONVOCA_OPERATOR_EMAILS, else AMVA's recipients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from crawlers.service import SourceHealth, source_health
from models import Municipality


@dataclass
class HealthReport:
    kind: str
    municipality_slug: str
    municipality_name: str
    period: str
    today: date
    unhealthy: list[SourceHealth] = field(default_factory=list)
    total_sources: int = 0
    entries: list[Any] = field(default_factory=list)  # no call is listed: nothing to remember per call

    @property
    def is_empty(self) -> bool:
        return not self.unhealthy

    @property
    def counts(self) -> dict[str, int]:
        return {"unhealthy": len(self.unhealthy), "sources": self.total_sources}

    def calls(self) -> list[Any]:
        return []

    def context(self, web_url: str) -> dict[str, Any]:
        base = web_url.rstrip("/")
        return {"report": self, "municipality": self.municipality_name, "overview_url": f"{base}/amva#fuentes"}


def collect_health(session: Session, municipality: Municipality, today: date, period: str) -> HealthReport:
    report = HealthReport("health", municipality.slug, municipality.name, period, today)
    if not municipality.is_metropolitan:
        return report
    rows = source_health(session)
    report.total_sources = len(rows)
    report.unhealthy = [r for r in rows if not r.healthy]
    return report
