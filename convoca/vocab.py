"""Controlled vocabularies shared by the Opportunity schema, configs and the matcher.

One place for each list, so a spider, a YAML file and the scorer can never disagree on a spelling.
"""

from __future__ import annotations

from typing import Literal, get_args

CooperationType = Literal[
    "technical",
    "financial_non_reimbursable",
    "financial_reimbursable",
    "scholarship_exchange",
    "award_contest",
    "humanitarian",
    "procurement",
    "other",
]
COOPERATION_TYPES: tuple[str, ...] = get_args(CooperationType)

ApplicantType = Literal[
    "local_government",
    "national_government",
    "public_entity",
    "ngo",
    "academia",
    "private",
    "individual",
    "consortium",
]
APPLICANT_TYPES: tuple[str, ...] = get_args(ApplicantType)

OpportunityStatus = Literal["forthcoming", "open", "closed"]
OPPORTUNITY_STATUSES: tuple[str, ...] = get_args(OpportunityStatus)

Language = Literal["es", "en", "fr", "pt"]
LANGUAGES: tuple[str, ...] = get_args(Language)

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[str, ...] = get_args(Weekday)

# Spanish labels for user-facing text (emails, web page). Kept here so templates never hard-code them.
COOPERATION_TYPE_LABELS_ES: dict[str, str] = {
    "technical": "Cooperación técnica",
    "financial_non_reimbursable": "Financiera no reembolsable",
    "financial_reimbursable": "Financiera reembolsable",
    "scholarship_exchange": "Becas e intercambios",
    "award_contest": "Premio o concurso",
    "humanitarian": "Ayuda humanitaria",
    "procurement": "Contratación pública",
    "other": "Otro",
}

APPLICANT_TYPE_LABELS_ES: dict[str, str] = {
    "local_government": "Gobierno local",
    "national_government": "Gobierno nacional",
    "public_entity": "Entidad pública",
    "ngo": "ONG / sociedad civil",
    "academia": "Academia",
    "private": "Sector privado",
    "individual": "Personas naturales",
    "consortium": "Consorcio o alianza",
}
