"""The classify stage: what a call funds and who may apply, read from source fields and the text.

Only stated facts count: when no rule fires the value stays None ("no indicado"). Read from
the text, in es/en/fr/pt:
- cooperation type (the instrument family: grant, loan, technical assistance, prize, …);
- eligible applicants, where a sentence that excludes someone ("cannot receive funds", "sin
  recibir recursos") does not admit them and an "only …" sentence restricts the list;
- eligible countries, from the places named in eligibility sentences ("only city governments in
  Nigeria, Ghana …", "municípios brasileiros", "Latin America"), or `*` for "any country";
- the closing date, when the source gives none ("closed on 15 November 2026", "a más tardar el …").
The signals behind the decision (research only, individuals only, firms only, region restricted,
instrument word) are kept in `raw["_signals"]` for audit and explanation.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from convoca.vocab import APPLICANT_TYPES, COOPERATION_TYPES

if TYPE_CHECKING:
    from crawlers.items import Opportunity

# Ordered: the first type whose pattern matches wins, so specific instruments come first.
_COOPERATION_RULES: list[tuple[str, re.Pattern[str]]] = [
    ("financial_reimbursable", re.compile(
        r"\b(loans?|concessional (?:loan|finance)|credit lines?|lines? of credit|sovereign-guaranteed|borrowers?|"
        r"pr[ée]stamos?|cr[ée]ditos? (?:blandos?|concesional(?:es)?)|l[ií]neas? de cr[ée]dito|"
        r"(?<!no )financiaci[oó]n reembolsable|(?<!non-)(?<!non )(?<!no )reimbursable|empr[ée]stimos?|pr[eê]ts?)\b", re.I)),
    ("scholarship_exchange", re.compile(
        r"\b(scholarships?|fellowships?|becas?|internships?|pasant[ií]as?|exchange programmes?|programas? de intercambio|"
        r"study visits?|bolsas? de estudo|bourses?|staff and student mobility)\b", re.I)),
    ("award_contest", re.compile(r"\b(awards?|prizes?|premios?|concursos?|contests?|competition|challenge prize|"
                                 r"pr[eé]mios?|prix)\b", re.I)),
    ("humanitarian", re.compile(r"\b(humanitarian|ayuda humanitaria|emergency relief|asistencia humanitaria|"
                                r"refugee response)\b", re.I)),
    ("procurement", re.compile(
        r"\b(call for tenders?|tenders?|request for (?:proposals?|quotations?)|RFP|RFQ|ITB|invitation to bid|"
        r"expression of interest for consult\w+|licitaci[oó]n|contrataci[oó]n|selecci[oó]n abreviada|m[ií]nima cuant[ií]a|"
        r"concurso de m[eé]ritos|consultancy services|consultor[ií]a|procurement notice|appel d'offres)\b", re.I)),
    ("technical", re.compile(
        r"\b(technical (?:assistance|cooperation|support)|cooperaci[oó]n t[eé]cnica|asistencia t[eé]cnica|"
        r"acompañamiento t[eé]cnico|capacity building|fortalecimiento de capacidades|training course|"
        r"peer exchange|knowledge exchange|mentoring|coaching|expert services|misiones t[eé]cnicas|"
        r"assistance technique|coopera[cç][aã]o t[eé]cnica|not cash|no hay transferencia de recursos|"
        r"intercambios t[eé]cnicos|technical exchanges?|advisory support|expert advisers?|misiones de expertos)\b", re.I)),
    ("financial_non_reimbursable", re.compile(
        r"\b(grants?|call for proposals|subvenci[oó]n|subvenciones|donaci[oó]n|donaciones|microdonaciones|"
        r"no reembolsables?|non-reimbursable|cofinanciaci[oó]n|cofinanciar|co-funding|funding opportunity|"
        r"financiaci[oó]n|financia|finances|funds|financement|subven[cç][aã]o|subventions?|aportes? no reembolsables?|"
        r"edital|appel [àa] projets|chamada (?:p[uú]blica|de projetos))\b", re.I)),
]

_APPLICANT_RULES: dict[str, re.Pattern[str]] = {
    "local_government": re.compile(
        r"\b(local (?:authorit(?:y|ies)|governments?)|municipal(?:ities|ity)?(?: governments?)?|cities|city (?:governments?|authorit(?:y|ies))|"
        r"metropolitan governments?|mayors?'? offices?|municipios?|alcald[ií]as?|entidades territoriales|"
        r"gobiernos? (?:locales?|municipales?)|subnational governments?|distritos?|collectivit[ée]s (?:locales|territoriales)|"
        r"munic[ií]pios|prefeituras?|communes|villes)\b", re.I),
    "national_government": re.compile(r"\b(national governments?|ministr(?:y|ies)|ministerios?|gobierno nacional|"
                                      r"governments? of (?:eligible|member|partner) countries)\b", re.I),
    "public_entity": re.compile(r"\b(public (?:bodies|entities|institutions|agencies)|entidades? p[uú]blicas?|"
                                r"public sector bodies|[oó]rganos? p[uú]blicos?|organismos? p[uú]blicos?)\b", re.I),
    "ngo": re.compile(r"\b(NGOs?|non-governmental|civil society|CSOs?|ONGs?|sociedad civil|nonprofits?|non-profit|"
                      r"not-for-profit|sin [aá]nimo de lucro|fundaciones|associations?|sociedade civil|"
                      r"organiza[cç](?:ões|iones) (?:da|de la) sociedade? civil|community organi[sz]ations?)\b", re.I),
    "academia": re.compile(r"\b(universit(?:y|ies)|higher education institutions?|research (?:organisations?|organizations?|"
                           r"institutions?|institutes?|centres?|centers?)|universidades?|academia|"
                           r"instituciones de educaci[oó]n superior|centros de investigaci[oó]n|researchers?|"
                           r"investigadores?|universit[ée]s?)\b", re.I),
    "private": re.compile(r"\b(SMEs?|MSMEs?|companies|private sector|businesses|enterprises|empresas?|startups?|"
                          r"firms|entreprises|mipymes|pymes)\b", re.I),
    "individual": re.compile(r"\b(individuals?|natural persons?|personas naturales|young professionals|students|"
                             r"estudiantes|artists?|artistas|doctoral candidates|pessoas f[ií]sicas)\b", re.I),
    "consortium": re.compile(r"\b(consortia|consortium|consorcios?|partnerships? of|alianzas?)\b", re.I),
}

# A sentence that says someone cannot apply, or takes part without receiving money, admits nobody.
_NEGATION = re.compile(
    r"\b(not eligible|are not|is not|cannot|can ?not|may not|excluded|ineligible|non-funded|without receiving|"
    r"may only (?:provide|contribute|join|participate|act)|only (?:as|join as) (?:associated|non-funded )?partners?|"
    r"associated partners? only|at their own cost|no (?:son|ser[aá]n) elegibles|no podr[aá]n|no pueden|no se financian|"
    r"quedan excluid[oa]s|sin recibir|n[aã]o s[aã]o eleg[ií]veis|n[aã]o podem|sem receber|ne sont pas|ne peuvent pas|"
    r"sans recevoir)\b",
    re.I,
)
_ONLY = re.compile(r"\b(only|solely|exclusively|solo|s[oó]lo|solamente|[uú]nicamente|exclusivamente|apenas|"
                   r"somente|seules?|uniquement|must be|deben ser|lead applicants? must)\b", re.I)
_ELIGIBILITY_CUE = re.compile(
    r"\b(eligible|elegibles?|eleg[ií]veis|[ée]ligibles?|(?:may|can|could) (?:apply|request|submit|enter|participate)|"
    r"apply (?:directly|together|alone)|are invited|invites?|invitan?|pueden (?:postular|presentar|participar|solicitar|aplicar)\w*|"
    r"podr[aá]n (?:postular|presentar|participar)\w*|podem (?:participar|solicitar|inscrever|candidatar)\w*|"
    r"peuvent (?:postuler|soumettre|participer|candidater|demander)\w*|open to|abiert[ao] a|dirigid[ao] a|"
    r"destinad[ao] a|aimed at|offers? \w+(?: \w+)? to|ofrece|oferece|seleciona|selecciona|for (?:city|municipal|local)|based in|"
    r"established in|registered in|con sede en|sediad[ao]s|bas[ée]es?|"
    r"only|solo|s[oó]lo|[uú]nicamente|exclusively|apenas|uniquement)\b", re.I)
_SENTENCES = re.compile(r"(?<=[.;!?])\s+|\n+")
# Places that say where support happens or whom applicants learn from, not who may apply.
_NOT_ELIGIBILITY = re.compile(
    r"\b(?:training|study (?:tours?|visits?)|visits?|missions?|exchanges?|experience|experts?|expertos?|intercambios?|"
    r"pasant[ií]as?|misiones|capacitaci[oó]n|formaci[oó]n)\s+(?:to|in|at|with|from|en|a|con|de|em|au|aux|na|no)\s+"
    r"[^,.;]{0,40}|\b(?:on behalf of|funded by|funding from|financiad[oa] por|con (?:la )?financiaci[oó]n de|"
    r"implemented by|implementad[oa] por|financ[ée] par|financiado pel[oa])\s+[^,.;]{0,60}", re.I)


# When a call names several instruments, the most often named wins; ties follow this order.
_TIE_ORDER = ("financial_reimbursable", "financial_non_reimbursable", "technical", "award_contest",
              "scholarship_exchange", "humanitarian", "procurement")


def classify_cooperation(text: str, hint: str | None = None, title: str | None = None) -> str | None:
    """A source's explicit type wins; otherwise the instrument the text names most (the title counts twice)."""
    if hint in COOPERATION_TYPES:
        return hint
    counts: dict[str, int] = {}
    for coop_type, pattern in _COOPERATION_RULES:
        n = len(pattern.findall(text)) + (2 * len(pattern.findall(title)) if title else 0)
        if n:
            counts[coop_type] = n
    if not counts:
        return None
    return max(counts, key=lambda t: (counts[t], -_TIE_ORDER.index(t)))


def _instrument_word(text: str) -> str | None:
    for _, pattern in _COOPERATION_RULES:
        match = pattern.search(text)
        if match:
            return match.group(0).lower()
    return None


def _sentences(text: str) -> list[str]:
    return [s for s in _SENTENCES.split(text) if s.strip()]


def classify_applicants(text: str | None, given: list[str] | None = None) -> list[str] | None:
    """Applicant types a call admits.

    Sentences that exclude someone do not count as admitting them; when a sentence restricts
    ("only universities may apply"), the types it names are the whole answer.
    """
    if given:
        known = [g for g in given if g in APPLICANT_TYPES]
        if known:
            return sorted(set(known))
    if not text:
        return None
    found: set[str] = set()
    restricted: set[str] = set()
    excluded: set[str] = set()
    for sentence in _sentences(text):
        kinds = {kind for kind, pattern in _APPLICANT_RULES.items() if pattern.search(sentence)}
        if _NEGATION.search(sentence):
            excluded |= kinds
            continue
        found |= kinds
        if kinds and _ONLY.search(sentence):
            restricted |= kinds
    admitted = (restricted or found) - excluded
    if not admitted and excluded and not (restricted or found):
        # Only exclusions are stated ("local authorities are not eligible"): everyone else is admitted.
        admitted = set(APPLICANT_TYPES) - excluded - {"consortium"}
    return sorted(admitted) or None


def classify_countries(title: str, text: str | None, given: list[str] | None = None) -> list[str] | None:
    """ISO codes of the countries whose applicants a call admits, `["*"]` for any, None when unstated."""
    if given:  # the source's own list, as it gave it
        return list(dict.fromkeys(g.upper() if g != "*" else g for g in given))
    from crawlers.regions import names_worldwide, places_in

    places: set[str] = set()
    worldwide = False
    for sentence in [title] + _sentences(text or ""):
        if sentence is not title and not _ELIGIBILITY_CUE.search(sentence):
            continue
        if _NEGATION.search(sentence) and sentence is not title:
            continue  # "entities from third countries cannot receive funding" names who is out
        scope = _NOT_ELIGIBILITY.sub(" ", sentence)
        places |= places_in(scope)
        worldwide = worldwide or names_worldwide(scope)
    if places:
        return sorted(places)
    return ["*"] if worldwide else None


# Closing dates the generic deadline finder may miss: "closed on …", "a más tardar el …", "by …".
_CLOSING_CUE = re.compile(
    r"\b(?:by|before|no later than|(?:the )?deadline is|deadline:|due(?: on| by)?|closed on|closes on|closing on|close on|closing date|submitted by|received by|"
    r"cierran? el|cerr[oó] el|a m[aá]s tardar el|antes del?|vence el|hasta el|fecha l[ií]mite(?: de \w+)? es el|"
    r"jusqu'au|avant le|au plus tard le|at[eé] (?:o dia )?|encerra(?:m)? em|prazo (?:final )?(?:é )?)\s*",
    re.I)
_DATE_AFTER = re.compile(
    r"(\d{4}-\d{2}-\d{2}|\d{1,2}[/.-]\d{1,2}[/.-]\d{4}|\d{1,2}(?:st|nd|rd|th|º|°)?\s+(?:de\s+)?[A-Za-zéûçã]{3,12}\.?,?\s+"
    r"(?:de\s+|del\s+)?\d{4}|[A-Za-z]{3,9}\.?\s+\d{1,2}(?:st|nd|rd|th)?,?\s+\d{4})", re.I)
_CLOSED = re.compile(
    r"\b(call (?:has )?closed|is (?:now )?closed|not (?:receiving|accepting) (?:further |new |any )?applications|"
    r"no longer accepting|convocatoria (?:est[aá] )?cerrada|ya cerr[oó]|se cerr[oó]|inscri[cç][õo]es encerradas|"
    r"appel (?:est )?clos)\b", re.I)


def closing_dates(text: str | None) -> list[datetime]:
    """Dates introduced by a closing cue, parsed with the project's date parser."""
    if not text:
        return []
    from crawlers.parsing.dates import parse_datetime

    found: list[datetime] = []
    for cue in _CLOSING_CUE.finditer(text):
        match = _DATE_AFTER.match(text, cue.end())
        if match is None:
            continue
        parsed = parse_datetime(match.group(0), languages=("es", "en", "fr", "pt"))
        if parsed is not None and parsed not in found:
            found.append(parsed)
    return sorted(found)


def eligibility_signals(applicants: list[str] | None, countries: list[str] | None, text: str) -> dict[str, Any]:
    """Named restrictions a formulator wants to see at a glance."""
    kinds = set(applicants or [])
    return {
        "research_only": bool(kinds) and kinds <= {"academia"},
        "individuals_only": bool(kinds) and kinds <= {"individual"},
        "firms_only": bool(kinds) and kinds <= {"private"},
        "region_restricted": bool(countries) and "*" not in (countries or []),
        "instrument": _instrument_word(text),
        "closed_stated": bool(_CLOSED.search(text)),
    }


def classify(item: "Opportunity", now: datetime | None = None) -> "Opportunity":
    """The classify stage for one normalised call: type, applicants, countries, deadline.

    Used by the crawl pipeline and by `convoca evaluate ranking`, so both see the same call.
    """
    from crawlers.parsing.dates import find_deadlines, next_deadline

    hints = item.raw.get("_hints", {})
    eligibility = hints.get("eligibility_text")
    body = " ".join(filter(None, [item.description, eligibility]))
    text = " ".join(filter(None, [item.title, body]))
    applicants = classify_applicants(eligibility or item.description,
                                     hints.get("eligible_applicants") or item.eligible_applicants)
    countries = classify_countries(item.title, body, item.eligible_countries)
    update: dict[str, object] = {
        "cooperation_type": classify_cooperation(body, hints.get("cooperation_type") or item.cooperation_type,
                                                 item.title),
        "eligible_applicants": applicants,
        "eligible_countries": countries,
    }
    signals = eligibility_signals(applicants, countries, text)
    if not item.deadlines:
        stated = sorted(set(find_deadlines(text)) | set(closing_dates(text)))
        if stated:
            update["deadlines"] = stated
            update["deadline"] = next_deadline(stated, now)
            if item.status is None and update["deadline"] < (now or datetime.now(update["deadline"].tzinfo)):
                update["status"] = "closed"
    if signals["closed_stated"] and item.status is None and "status" not in update:
        update["status"] = "closed"
    update["raw"] = {**item.raw, "_signals": signals}
    return item.model_copy(update=update)
