"""Pydantic schema of a municipality (or AMVA) YAML file (DESIGN.md §7).

Unknown keys are errors everywhere (`extra="forbid"`): a typo in a key must not silently
drop a setting. Every field carries a description, which the loader turns into the "fix" of
an error message.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from convoca.vocab import ApplicantType, CooperationType, Language, Weekday

SDG_TARGET_RE = re.compile(r"^(?:[1-9]|1[0-7])\.(?:[1-9][0-9]?|[a-z])$")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Recipient(_Strict):
    name: str = Field(min_length=1, description="who receives the digest, e.g. 'Secretaría de Planeación'")
    email: str = Field(description="a valid e-mail address such as planeacion@example.gov.co")

    @field_validator("email")
    @classmethod
    def _email(cls, v: str) -> str:
        if not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", v):
            raise ValueError(f"'{v}' is not an e-mail address; write it as name@domain.tld")
        return v.lower()


class DigestSettings(_Strict):
    weekday: Weekday = Field("monday", description="day of the weekly digest: monday … sunday")
    hour: int = Field(7, ge=0, le=23, description="hour of the weekly digest, 0–23, America/Bogota")
    max_items: int = Field(15, ge=1, le=100, description="new matches listed per digest, 1–100")


class Defaults(_Strict):
    min_lead_days: int = Field(
        21, ge=0, le=365,
        description="days a municipality needs before a deadline (budget certificate, council "
        "approval, partner letters), 0–365",
    )
    languages: list[Language] = Field(
        default_factory=lambda: ["es", "en"],
        description="languages of calls the municipality can work in: any of es, en, fr, pt",
    )
    min_score: float = Field(55, ge=0, le=100, description="lowest match score (0–100) worth a digest line")


class ScoringWeights(_Strict):
    semantic: float = Field(0.55, ge=0, le=1, description="weight of passage-level semantic similarity, 0–1")
    sdg: float = Field(0.20, ge=0, le=1, description="weight of SDG target alignment, 0–1")
    keywords: float = Field(0.20, ge=0, le=1, description="weight of the profile's keywords found in the call, 0–1")
    urgency: float = Field(0.05, ge=0, le=1, description="weight of a near (but reachable) deadline, 0–1")

    @model_validator(mode="after")
    def _some_weight(self) -> "ScoringWeights":
        if self.semantic + self.sdg + self.keywords + self.urgency <= 0:
            raise ValueError("all weights are zero; give at least one a positive value")
        return self


class Budget(_Strict):
    min: float = Field(ge=0, description="lowest amount the project would seek, a number without separators")
    max: float = Field(gt=0, description="highest amount the project would seek, a number without separators")
    currency: str = Field("COP", description="ISO 4217 code such as COP, USD or EUR")

    @field_validator("currency")
    @classmethod
    def _iso(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z]{3}", v):
            raise ValueError(f"'{v}' is not an ISO 4217 currency code; use three capitals such as COP, USD, EUR")
        return v

    @model_validator(mode="after")
    def _ordered(self) -> "Budget":
        if self.min > self.max:
            raise ValueError(f"min ({self.min:g}) is larger than max ({self.max:g}); swap them")
        return self


SdgTarget = Annotated[str, Field(description="an SDG target code such as '11.2' or '6.b'")]


class Profile(_Strict):
    id: str = Field(description="a short slug, lowercase words joined by hyphens, e.g. 'movilidad-activa'")
    title: str = Field(min_length=5, description="the project's title in Spanish")
    description: str = Field(min_length=40, description="two to five Spanish sentences on what the project does")
    sector: str = Field(min_length=2, description="the sector, e.g. 'movilidad' or 'agua y saneamiento'")
    sdg_targets: list[SdgTarget] = Field(
        min_length=1, description="one or more SDG target codes such as '11.2', '6.b' (strings, quoted)"
    )
    keywords: list[str] = Field(min_length=1, description="terms in Spanish and English that signal a fitting call")
    exclude: list[str] = Field(default_factory=list, description="terms that signal a call that does not fit")
    budget: Budget | None = Field(None, description="{min, max, currency} the project would seek")
    cooperation_types: list[CooperationType] = Field(
        min_length=1,
        description="accepted types: technical, financial_non_reimbursable, financial_reimbursable, "
        "scholarship_exchange, award_contest, humanitarian, procurement, other",
    )
    min_lead_days: int | None = Field(None, ge=0, le=365, description="overrides defaults.min_lead_days for this profile")

    @field_validator("id")
    @classmethod
    def _slug(cls, v: str) -> str:
        if not SLUG_RE.fullmatch(v):
            raise ValueError(f"'{v}' is not a slug; use lowercase letters, digits and hyphens")
        return v

    @field_validator("sdg_targets", mode="before")
    @classmethod
    def _targets_as_text(cls, v: object) -> object:
        # YAML reads an unquoted 11.2 as a float; 11.20 would then be lost, so refuse numbers.
        if isinstance(v, list):
            for item in v:
                if not isinstance(item, str):
                    raise ValueError(f"{item!r} must be quoted, e.g. \"{item}\" (YAML reads it as a number)")
        return v

    @field_validator("sdg_targets")
    @classmethod
    def _targets(cls, v: list[str]) -> list[str]:
        for code in v:
            if not SDG_TARGET_RE.fullmatch(code):
                raise ValueError(f"'{code}' is not an SDG target code; use goal.target such as '11.2' or '6.b'")
        return v


class MunicipalityConfig(_Strict):
    municipality: str = Field(min_length=2, description="the entity's name, e.g. 'Envigado' or 'Área Metropolitana del Valle de Aburrá'")
    slug: str | None = Field(None, description="identifier used in URLs; defaults to the file name without .yaml")
    dane_code: str | None = Field(
        None, description="the five-digit DIVIPOLA code as a quoted string, e.g. \"05266\"; omit it for AMVA"
    )
    country: str = Field("CO", description="ISO 3166-1 alpha-2 country code of the entity")
    applicant_types: list[ApplicantType] = Field(
        default_factory=lambda: ["local_government", "public_entity"],
        description="what the entity counts as when a call lists eligible applicants: local_government, "
        "national_government, public_entity, ngo, academia, private, individual, consortium",
    )
    is_metropolitan: bool = Field(False, description="true only in amva.yaml: receives joint-call notes")
    recipients: list[Recipient] = Field(min_length=1, description="a list of {name, email}")
    digest: DigestSettings = Field(default_factory=DigestSettings, description="{weekday, hour, max_items}")
    defaults: Defaults = Field(default_factory=Defaults, description="{min_lead_days, languages, min_score}")
    weights: ScoringWeights = Field(default_factory=ScoringWeights, description="{semantic, sdg, keywords, urgency}")
    profiles: list[Profile] = Field(min_length=1, description="the municipality's project profiles")

    @field_validator("dane_code", mode="before")
    @classmethod
    def _dane_text(cls, v: object) -> object:
        if isinstance(v, int):
            raise ValueError("must be quoted, e.g. \"05266\" (YAML drops the leading zero of a number)")
        return v

    @field_validator("dane_code")
    @classmethod
    def _dane(cls, v: str | None) -> str | None:
        if v is not None and not re.fullmatch(r"\d{5}", v):
            raise ValueError(f"'{v}' is not a DANE code; use five digits such as \"05266\"")
        return v

    @field_validator("slug")
    @classmethod
    def _slug(cls, v: str | None) -> str | None:
        if v is not None and not SLUG_RE.fullmatch(v):
            raise ValueError(f"'{v}' is not a slug; use lowercase letters, digits and hyphens")
        return v

    @model_validator(mode="after")
    def _unique_profiles(self) -> "MunicipalityConfig":
        seen: set[str] = set()
        for p in self.profiles:
            if p.id in seen:
                raise ValueError(f"profile id '{p.id}' appears twice; give each profile its own id")
            seen.add(p.id)
        return self

    def lead_days(self, profile: Profile) -> int:
        return profile.min_lead_days if profile.min_lead_days is not None else self.defaults.min_lead_days
