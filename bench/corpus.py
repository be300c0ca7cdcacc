"""Synthetic funding calls for benchmarks: varied, distinct texts built from the project's own phrases.

Each call combines a theme, an instrument, an applicant clause, a region and a closing sentence, with a
serial number, so every text (and every passage) is distinct and the cache sees no accidental hits.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

THEMES = [
    ("protected bike lanes and safer school crossings", "movilidad activa"),
    ("drinking water networks and sanitation for rural villages", "agua y saneamiento"),
    ("solar mini-grids and energy efficiency in public buildings", "energía"),
    ("early warning systems for landslides and floods", "gestión del riesgo"),
    ("urban forests, green corridors and biodiversity in hillsides", "biodiversidad"),
    ("school meals, family farming and food security", "seguridad alimentaria"),
    ("violence prevention and support for women survivors", "género"),
    ("digital public services, open data and connectivity", "gobierno digital"),
    ("youth employment, vocational training and small businesses", "empleo"),
    ("primary health care teams and mental health services", "salud"),
    ("solid waste separation, recycling and circular economy", "residuos"),
    ("cultural heritage, creative industries and public libraries", "cultura"),
    ("migrant integration, documentation and social cohesion", "migración"),
    ("climate adaptation plans and heat-resilient neighbourhoods", "clima"),
    ("coastal mangroves and small-scale fisheries", "océanos"),
]
INSTRUMENTS = ["Grants of up to USD {n},000 are available.", "Technical assistance is offered for up to {m} months.",
               "Concessional loans of USD {n} million are offered.", "A prize of EUR {n},000 will be awarded.",
               "Se otorgarán aportes no reembolsables de hasta USD {n}.000.", "Scholarships cover {m} months of study."]
APPLICANTS = ["Municipal governments may apply directly.", "Only universities and research centres may apply.",
              "Civil society organisations and local authorities are eligible.", "Pueden postularse alcaldías y entidades públicas.",
              "Small and medium enterprises are the lead applicants.", "Individuals may apply."]
REGIONS = ["in Latin America", "in any country", "in Colombia", "in West Africa", "in South Asia", "in the Caribbean",
           "en América Latina", "in EU Member States"]


@dataclass(frozen=True)
class SyntheticCall:
    source_id: str
    title: str
    description: str
    deadline: datetime


def calls(n: int, *, seed: int = 0, start: int = 0) -> list[SyntheticCall]:
    rng = random.Random(seed)
    today = datetime(2026, 11, 23, 12, tzinfo=UTC)
    out: list[SyntheticCall] = []
    for i in range(start, start + n):
        theme, label = THEMES[rng.randrange(len(THEMES))]
        region = REGIONS[rng.randrange(len(REGIONS))]
        instrument = INSTRUMENTS[rng.randrange(len(INSTRUMENTS))].format(n=rng.randint(2, 900), m=rng.randint(3, 36))
        applicants = APPLICANTS[rng.randrange(len(APPLICANTS))]
        deadline = today + timedelta(days=rng.randint(1, 240))  # open: every call is a candidate
        title = f"Call {i}: {theme.capitalize()} ({label}) {region}"
        description = (
            f"Programme {i} supports projects on {theme} {region}. {instrument} {applicants} "
            f"Proposals should describe the problem, the expected results and how communities take part, with a "
            f"budget and a monitoring plan for indicator set {rng.randint(1, 10_000)}. "
            f"Priority goes to places with the highest needs and to projects that combine public and community "
            f"resources. Selected projects start within {rng.randint(2, 9)} months and report every quarter. "
            f"Applications close on {deadline:%d %B %Y}."
        )
        out.append(SyntheticCall(f"bench-{i}", title, description, deadline))
    return out
