"""Builders for notifier tests: municipalities, profiles, calls and matches as the matcher stores them,
plus a real SMTP server (aiosmtpd) that keeps what it receives."""

from __future__ import annotations

import email
import hashlib
import socket
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email import policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy.orm import Session

from models import Match, Municipality, Opportunity, Profile

NOW = datetime.now(UTC)


def municipality(session: Session, slug: str, name: str, recipients: list[tuple[str, str]], *,
                 metropolitan: bool = False, max_items: int = 15, lead_days: int = 21,
                 weekday: str = "monday", hour: int = 7) -> Municipality:
    config = {
        "municipality": name, "slug": slug, "is_metropolitan": metropolitan, "country": "CO",
        "recipients": [{"name": n, "email": e} for n, e in recipients],
        "digest": {"weekday": weekday, "hour": hour, "max_items": max_items},
        "defaults": {"min_lead_days": lead_days, "languages": ["es", "en"], "min_score": 55},
    }
    row = Municipality(slug=slug, name=name, dane_code=None, is_metropolitan=metropolitan, config=config,
                       config_hash=hashlib.sha256(repr(config).encode()).hexdigest())
    session.add(row)
    session.flush()
    return row


def profile(session: Session, m: Municipality, slug: str, title: str, *, lead_days: int = 21) -> Profile:
    row = Profile(municipality_id=m.id, slug=slug, title=title,
                  description=f"{title}: proyecto del municipio descrito para las pruebas del boletín semanal.",
                  sector="pruebas", sdg_targets=["11.2"], keywords=["movilidad"], exclude=[], budget_min=None,
                  budget_max=None, budget_currency=None, cooperation_types=["financial_non_reimbursable"],
                  min_lead_days=lead_days, active=True)
    session.add(row)
    session.flush()
    return row


_counter = iter(range(1, 1_000_000))


def call(session: Session, title: str, *, days_left: int | None = 60, funder: str | None = "Comisión Europea",
         cooperation_type: str | None = "financial_non_reimbursable", amount: tuple[float | None, float | None] = (None, None),
         currency: str | None = None, amount_cop: float | None = None, countries: list[str] | None = None,
         applicants: list[str] | None = None, status: str | None = "open", url: str | None = None) -> Opportunity:
    n = next(_counter)
    row = Opportunity(
        source="eu_sedia", source_id=f"TEST-{n}", url=url or f"https://ec.europa.eu/info/funding-tenders/opportunities/topic-details/TEST-{n}",
        title=title, summary=None, description=f"{title}. Texto completo de la convocatoria.", language="en",
        funder=funder, cooperation_type=cooperation_type, status=status, opens_at=None,
        deadline=(NOW + timedelta(days=days_left)).replace(hour=17, minute=0, second=0, microsecond=0) if days_left is not None else None,
        deadlines=[], amount_min=amount[0], amount_max=amount[1], currency=currency, amount_cop=amount_cop,
        eligible_countries=countries, eligible_applicants=applicants, cofinancing_required=None, topics=[], raw={},
        content_hash=f"hash-{n}")
    session.add(row)
    session.flush()
    return row


def match(session: Session, m: Municipality, p: Profile, opp: Opportunity, score: float, *,
          keywords: list[str] | None = None, targets: list[str] | None = None, joint: bool = False,
          status: str = "new") -> Match:
    explanation: dict[str, Any] = {
        "score": score, "best_passage": opp.description, "passage_similarity": 0.41,
        "shared_sdg_targets": targets or [], "shared_sdg_goals": sorted({t.split(".")[0] for t in targets or []}),
        "matched_keywords": keywords or [], "excluded_keywords": [], "filters": [], "unknown_filters": [],
        "breakdown": {},
    }
    row = Match(municipality_id=m.id, profile_id=p.id, opportunity_id=opp.id, score=score, passed_filters=True,
                above_threshold=True, components={}, explanation=explanation, model_id="test", joint_call=joint,
                status=status)
    session.add(row)
    session.flush()
    return row


@dataclass
class Scenario:
    envigado: Municipality
    amva: Municipality
    ranked_titles: list[str]  # Envigado's new calls in the order the digest must show them
    recipients: list[str]
    calls: dict[str, Opportunity]


def envigado_scenario(session: Session) -> Scenario:
    """Envigado with three recipients, two profiles and five matching calls; AMVA with one joint call."""
    env = municipality(session, "envigado", "Envigado", [
        ("Secretaría de Planeación", "planeacion@envigado.example.gov.co"),
        ("Oficina de Cooperación", "cooperacion@envigado.example.gov.co"),
        ("Despacho del Alcalde", "despacho@envigado.example.gov.co")])
    amva = municipality(session, "amva", "Área Metropolitana del Valle de Aburrá", [
        ("Subdirección de Cooperación", "cooperacion@amva.example.gov.co")], metropolitan=True)
    bello = municipality(session, "bello", "Bello", [("Planeación", "planeacion@bello.example.gov.co")])
    itagui = municipality(session, "itagui", "Itagüí", [("Planeación", "planeacion@itagui.example.gov.co")])
    mobility = profile(session, env, "movilidad-activa", "Red de ciclorrutas y caminabilidad")
    water = profile(session, env, "quebradas", "Recuperación de quebradas urbanas", lead_days=30)
    amva_profile = profile(session, amva, "electromovilidad", "Electromovilidad metropolitana")
    p_bello = profile(session, bello, "movilidad", "Movilidad sostenible en Bello")
    p_itagui = profile(session, itagui, "movilidad", "Movilidad sostenible en Itagüí")

    bikes = call(session, "Urban cycling infrastructure for Latin American cities", days_left=40,
                 amount=(500_000, 1_500_000), currency="EUR", amount_cop=6_600_000_000, countries=["CO", "PE"],
                 applicants=["local_government"])
    walk = call(session, "Safe streets & walkable neighbourhoods <pilot> programme", days_left=95,
                funder="Bloomberg Philanthropies", amount=(None, 250_000), currency="USD", amount_cop=1_050_000_000)
    rivers = call(session, "Nature-based solutions for urban streams", days_left=70, funder="GEF Small Grants",
                  cooperation_type="technical")
    loans = call(session, "Green urban mobility credit line", days_left=120, funder="CAF",
                 cooperation_type="financial_reimbursable", amount=(5_000_000, 20_000_000), currency="USD",
                 amount_cop=84_000_000_000)
    closed = call(session, "A call that already closed", days_left=-3)
    dismissed = call(session, "A call the municipality marked not relevant", days_left=50)

    match(session, env, mobility, bikes, 91.4, keywords=["ciclorruta", "cycling infrastructure"], targets=["11.2", "3.6"], joint=True)
    match(session, env, water, bikes, 58.0)  # same call, weaker profile: listed once, under movilidad
    match(session, env, mobility, walk, 77.25, keywords=["walkable"], targets=["11.2"])
    match(session, env, water, rivers, 84.0, keywords=["nature-based solutions"], targets=["6.6"])
    match(session, env, mobility, loans, 61.5)
    match(session, env, mobility, closed, 95.0)
    match(session, env, mobility, dismissed, 90.0, status="dismissed")
    match(session, amva, amva_profile, loans, 70.0)
    match(session, bello, p_bello, bikes, 80.0, joint=True)
    match(session, itagui, p_itagui, bikes, 75.0, joint=True)
    session.commit()
    # Profiles in the order of their best call; calls by score inside each profile.
    ranked = [bikes.title, walk.title, loans.title, rivers.title]
    return Scenario(env, amva, ranked, [r["email"] for r in env.config["recipients"]],
                    {"bikes": bikes, "walk": walk, "rivers": rivers, "loans": loans})


# ------------------------------------------------------------------ a real SMTP server

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Mailbox:
    """An aiosmtpd handler that keeps every accepted message, with knobs for failures."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> permanent reply
    defer_once: set[str] = field(default_factory=set)  # addresses answered 451 once
    on_quit: Callable[[int], None] | None = None  # called with the number of messages so far

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        if address in self.defer_once:
            self.defer_once.discard(address)
            return "451 4.3.0 Mailbox temporarily unavailable, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        msg = email.message_from_bytes(envelope.original_content or envelope.content, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        self.messages.append(msg)
        return "250 Message accepted for delivery"

    async def handle_QUIT(self, server, session, envelope):
        if self.on_quit is not None:
            self.on_quit(len(self.messages))
        return "221 Bye"

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages if address in str(m["To"])]


def smtp_server(mailbox: Mailbox, port: int | None = None, **kwargs: Any) -> Controller:
    controller = Controller(mailbox, hostname="127.0.0.1", port=port or free_port(), **kwargs)
    controller.start()
    return controller


def kill_and_reap(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()  # SIGKILL: no cleanup, no commit
    proc.wait(timeout=30)
