"""Cooperation type and eligible applicants from source fields and a bilingual lexicon.

Only stated facts count: when no rule fires the value stays None ("no indicado").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from convoca.vocab import APPLICANT_TYPES, COOPERATION_TYPES

if TYPE_CHECKING:
    from crawlers.items import Opportunity

# Ordered: the first type whose pattern matches wins, so specific instruments come first.
_COOPERATION_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("financial_reimbursable", re.compile(
        r"\b(loans?|concessional (?:loan|finance)|credit line|pr[ée]stamos?|cr[ée]ditos? (?:blandos?|concesional)|"
        r"financiaci[oó]n reembolsable|reimbursable)\b", re.I)),
    ("scholarship_exchange", re.compile(
        r"\b(scholarships?|fellowships?|becas?|internships?|pasant[ií]as?|exchange programme|intercambios?|"
        r"study visits?|bolsas? de estudo|bourses?)\b", re.I)),
    ("award_contest", re.compile(r"\b(awards?|prizes?|premios?|concursos?|contests?|competition|challenge prize|pr[eé]mio)\b", re.I)),
    ("humanitarian", re.compile(r"\b(humanitarian|ayuda humanitaria|emergency relief|asistencia humanitaria)\b", re.I)),
    ("procurement", re.compile(
        r"\b(call for tenders?|tenders?|request for (?:proposals?|quotations?)|RFP|RFQ|ITB|invitation to bid|"
        r"expression of interest|licitaci[oó]n|contrataci[oó]n|selecci[oó]n abreviada|m[ií]nima cuant[ií]a|"
        r"concurso de m[eé]ritos|consultancy|consultor[ií]a)\b", re.I)),
    ("technical", re.compile(
        r"\b(technical (?:assistance|cooperation)|cooperaci[oó]n t[eé]cnica|asistencia t[eé]cnica|capacity building|"
        r"fortalecimiento de capacidades|training course|curso|peer exchange|knowledge exchange|mentoring)\b", re.I)),
    ("financial_non_reimbursable", re.compile(
        r"\b(grants?|call for proposals|subvenci[oó]n|subvenciones|donaci[oó]n|no reembolsable|non-reimbursable|"
        r"cofinanciaci[oó]n|co-funding|funding opportunity|financiaci[oó]n|financement|subven[cç][aã]o)\b", re.I)),
]

_APPLICANT_RULES: dict[str, re.Pattern[str]] = {
    "local_government": re.compile(
        r"\b(local (?:authorit(?:y|ies)|governments?)|municipalit(?:y|ies)|cities|city governments?|"
        r"municipios?|alcald[ií]as?|entidades territoriales|gobiernos? locales?|subnational governments?|"
        r"collectivit[ée]s locales|munic[ií]pios)\b", re.I),
    "national_government": re.compile(r"\b(national governments?|ministr(?:y|ies)|ministerios?|gobierno nacional)\b", re.I),
    "public_entity": re.compile(r"\b(public (?:bodies|entities|institutions)|entidades? p[uú]blicas?|public sector)\b", re.I),
    "ngo": re.compile(r"\b(NGOs?|non-governmental|civil society|CSOs?|ONGs?|sociedad civil|nonprofits?|non-profit)\b", re.I),
    "academia": re.compile(r"\b(universit(?:y|ies)|higher education institutions?|research (?:organisations?|organizations?|institutions?|centres?)|"
                           r"universidades?|academia|instituciones de educaci[oó]n superior|researchers?)\b", re.I),
    "private": re.compile(r"\b(SMEs?|companies|private sector|businesses|empresas?|startups?|firms)\b", re.I),
    "individual": re.compile(r"\b(individuals?|natural persons?|personas naturales|young professionals|students)\b", re.I),
    "consortium": re.compile(r"\b(consortia|consortium|consorcios?|partnerships? of|alianzas?)\b", re.I),
}


def classify_cooperation(text: str, hint: str | None = None) -> str | None:
    """A source's explicit type wins; otherwise the first lexicon rule that matches."""
    if hint in COOPERATION_TYPES:
        return hint
    for coop_type, pattern in _COOPERATION_RULES:
        if pattern.search(text):
            return coop_type
    return None


_NEGATION = re.compile(
    r"\b(not eligible|are not|is not|cannot|may not|can not|excluded|ineligible|no (?:son|ser[aá]n) elegibles|"
    r"no podr[aá]n|no pueden|quedan excluid[oa]s|n[aã]o s[aã]o eleg[ií]veis|ne sont pas|only join as|associated partners? only)\b",
    re.I,
)
_SENTENCES = re.compile(r"(?<=[.;!?])\s+|\n+")


def classify_applicants(text: str | None, given: list[str] | None = None) -> list[str] | None:
    """Applicant types a call admits. Sentences that exclude someone do not count as admitting them."""
    if given:
        known = [g for g in given if g in APPLICANT_TYPES]
        if known:
            return sorted(set(known))
    if not text:
        return None
    found: set[str] = set()
    for sentence in _SENTENCES.split(text):
        if _NEGATION.search(sentence):
            continue
        found.update(kind for kind, pattern in _APPLICANT_RULES.items() if pattern.search(sentence))
    return sorted(found) or None


def classify(item: "Opportunity") -> "Opportunity":
    """The classify stage for one normalised call: type, applicants, and facts read from the text.

    Used by the crawl pipeline and by `convoca evaluate ranking`, so both see the same call.
    """
    from crawlers.parsing.dates import find_deadlines, next_deadline

    hints = item.raw.get("_hints", {})
    eligibility = hints.get("eligibility_text")
    text = " ".join(filter(None, [item.title, item.description, eligibility]))
    update: dict[str, object] = {
        "cooperation_type": classify_cooperation(text, hints.get("cooperation_type") or item.cooperation_type),
        "eligible_applicants": classify_applicants(eligibility or item.description,
                                                   hints.get("eligible_applicants") or item.eligible_applicants),
    }
    if not item.deadlines:
        stated = find_deadlines(text)
        if stated:
            update["deadlines"] = stated
            update["deadline"] = next_deadline(stated)
    return item.model_copy(update=update)
