"""Spanish labels and one-line texts shared by the pages and the exports."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from convoca.vocab import APPLICANT_TYPE_LABELS_ES, COOPERATION_TYPE_LABELS_ES
from notifier.formatting import days_until, long_date, money

MATCH_STATUS_LABELS = {"new": "Nueva", "reviewed": "Revisada", "applying": "Postulando", "dismissed": "Descartada"}
VERDICT_LABELS = {"relevant": "Relevante", "not_relevant": "No relevante", "applying": "Postulando"}
REASON_LABELS = {
    "not_aligned": "No se alinea con el proyecto",
    "not_eligible": "No somos elegibles",
    "no_counterpart_funding": "Sin recursos de contrapartida",
    "deadline_too_short": "Plazo demasiado corto",
    "no_capacity": "Sin capacidad para formularla",
    "duplicate": "Duplicada",
    "other": "Otra razón",
}
LANGUAGE_LABELS = {"es": "Español", "en": "Inglés", "fr": "Francés", "pt": "Portugués"}
OPPORTUNITY_STATUS_LABELS = {"forthcoming": "Próxima a abrir", "open": "Abierta", "closed": "Cerrada"}
FILTER_LABELS = {
    "status": "Estado de la convocatoria",
    "deadline": "Tiempo para preparar la postulación",
    "country": "País elegible",
    "applicant": "Tipo de solicitante",
    "cooperation_type": "Tipo de cooperación",
    "amount": "Monto frente al presupuesto del perfil",
    "language": "Idioma",
}
FILTER_STATUS_LABELS = {"passed": "Cumple", "failed": "No cumple", "unknown": "No indicado"}
FEATURE_LABELS = {
    "semantic": "Similitud del texto con el perfil",
    "sdg": "Metas ODS compartidas",
    "keywords": "Palabras clave del perfil",
    "urgency": "Cercanía del cierre",
}
FIELD_LABELS = {
    "title": "Título", "description": "Descripción", "status": "Estado", "opens_at": "Apertura",
    "deadline": "Cierre", "deadlines": "Fechas de cierre", "amount_min": "Monto mínimo",
    "amount_max": "Monto máximo", "currency": "Moneda", "cooperation_type": "Tipo de cooperación",
    "eligible_countries": "Países elegibles", "eligible_applicants": "Solicitantes elegibles", "url": "Enlace",
}
COOPERATION_LABELS = COOPERATION_TYPE_LABELS_ES
APPLICANT_LABELS = APPLICANT_TYPE_LABELS_ES
NOT_STATED = "no indicado"


def reason_line(explanation: dict[str, Any] | None, profile_title: str) -> str:
    """Why the call fits, in one line: keywords, then SDG targets (or goals), else the profile."""
    expl = explanation or {}
    parts: list[str] = []
    keywords = list(expl.get("matched_keywords") or [])
    if keywords:
        parts.append("coincide en " + ", ".join(keywords[:4]))
    targets, goals = list(expl.get("shared_sdg_targets") or []), list(expl.get("shared_sdg_goals") or [])
    if targets:
        parts.append("metas ODS " + ", ".join(targets))
    elif goals:
        parts.append("ODS " + ", ".join(goals))
    if not parts:
        parts.append(f"texto afín al perfil «{profile_title}»")
    text = "; ".join(parts)
    return text[:1].upper() + text[1:]


def countdown(deadline: datetime | None, today: date) -> str:
    days = days_until(deadline, today)
    if days is None:
        return "Cierre no indicado"
    if days == 0:
        return "Cierra hoy"
    if days == 1:
        return "Cierra mañana"
    if days > 0:
        return f"Cierra en {days} días"
    return f"Cerró hace {-days} días" if days < -1 else "Cerró ayer"


def amount_text(amount_min: float | None, amount_max: float | None, currency: str | None) -> str:
    if not currency or (amount_min is None and amount_max is None):
        return NOT_STATED
    if amount_min is not None and amount_max is not None and amount_min != amount_max:
        low = money(amount_min, currency) or ""
        return f"{low} – {(money(amount_max, currency) or '').removeprefix(currency + ' ')}"
    if amount_max is not None and amount_min is None:
        return f"hasta {money(amount_max, currency)}"
    return money(amount_max if amount_max is not None else amount_min, currency) or NOT_STATED


def date_text(value: datetime | date | None) -> str:
    return long_date(value) or NOT_STATED


def filter_detail(name: str, status: str, detail: dict[str, Any]) -> str:
    """What a hard filter compared, in words."""
    if name == "deadline":
        lead = detail.get("lead_days")
        if "days_left" in detail:
            return f"faltaban {detail['days_left']} días al calcular; el perfil necesita {lead}"
        return f"sin fecha de cierre; el perfil necesita {lead} días"
    if name == "country":
        if detail.get("eligible"):
            return "países elegibles: " + ", ".join(detail["eligible"])
        return "la convocatoria no indica países"
    if name == "applicant":
        if detail.get("eligible"):
            return "admite: " + ", ".join(APPLICANT_LABELS.get(a, a) for a in detail["eligible"])
        return "la convocatoria no indica quién puede postular"
    if name == "cooperation_type":
        accepted = ", ".join(COOPERATION_LABELS.get(a, a) for a in detail.get("accepted", []))
        if detail.get("type"):
            return f"{COOPERATION_LABELS.get(detail['type'], detail['type'])}; el perfil acepta: {accepted}"
        return f"tipo no indicado; el perfil acepta: {accepted}"
    if name == "amount":
        if status == "unknown":
            return "monto o presupuesto no indicado"
        low, high = detail.get("amount_min_cop"), detail.get("amount_max_cop")
        return (f"convocatoria {amount_text(low, high, 'COP')}; perfil "
                f"{amount_text(detail.get('budget_min_cop'), detail.get('budget_max_cop'), 'COP')}")
    if name == "language":
        if detail.get("language"):
            return LANGUAGE_LABELS.get(detail["language"], detail["language"])
        return "idioma no detectado"
    if name == "status":
        return OPPORTUNITY_STATUS_LABELS.get(detail.get("status", ""), NOT_STATED)
    return ""
