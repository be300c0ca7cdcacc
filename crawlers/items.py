"""The one Opportunity schema (DESIGN.md §3) and the loose item a spider yields before it.

Spiders fill a `CallItem` with what the source states, in the source's own shapes (date
strings, amount text, HTML). The pipelines turn it into an `Opportunity`, the only shape the
database, the matcher and the notifier ever see. Unknown stays None: never guessed.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from convoca.vocab import ApplicantType, CooperationType, Language, OpportunityStatus


@dataclass
class CallItem:
    """What a spider saw, before normalisation. Values may be raw text."""

    source: str
    source_id: str
    url: str
    title: str
    description: str | None = None  # HTML or text
    summary: str | None = None
    funder: str | None = None
    language: str | None = None
    status: str | None = None
    opens_at: str | datetime | None = None
    deadlines: list[str | datetime] = field(default_factory=list)
    amount_min: float | str | None = None
    amount_max: float | str | None = None
    amount_text: str | None = None  # free text such as "hasta USD 50.000" when no numbers are given
    currency: str | None = None
    cooperation_type: str | None = None
    eligible_countries: list[str] | None = None
    eligible_applicants: list[str] | None = None
    eligibility_text: str | None = None
    cofinancing_required: float | None = None
    topics: list[str] = field(default_factory=list)
    raw: dict[str, Any] = field(default_factory=dict)


class Opportunity(BaseModel):
    """A normalised funding call."""

    model_config = ConfigDict(extra="forbid")

    source: str
    source_id: str
    url: str
    title: str = Field(min_length=1)
    summary: str | None = None
    description: str | None = None
    language: Language | None = None
    funder: str | None = None
    cooperation_type: CooperationType | None = None
    status: OpportunityStatus | None = None
    opens_at: datetime | None = None
    deadline: datetime | None = None
    deadlines: list[datetime] = Field(default_factory=list)
    amount_min: float | None = None
    amount_max: float | None = None
    currency: str | None = None
    amount_cop: float | None = None
    eligible_countries: list[str] | None = None
    eligible_applicants: list[ApplicantType] | None = None
    cofinancing_required: float | None = None
    topics: list[str] = Field(default_factory=list)
    raw: dict[str, Any] = Field(default_factory=dict)
    # Set by the dedupe stage: the stored opportunity this call duplicates ("url" or "near").
    # Not part of the call's content: excluded from dumps and from the content hash.
    duplicate_of: int | None = Field(default=None, exclude=True)
    duplicate_how: str | None = Field(default=None, exclude=True)

    @field_validator("opens_at", "deadline")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            raise ValueError("datetimes must be timezone-aware")
        return v

    def tracked_values(self) -> dict[str, Any]:
        """JSON-ready values of the fields whose changes are versioned."""
        from models.opportunity import TRACKED_FIELDS

        dumped = self.model_dump(mode="json", include=set(TRACKED_FIELDS))
        return {name: dumped.get(name) for name in TRACKED_FIELDS}

    @property
    def content_hash(self) -> str:
        payload = json.dumps(
            self.model_dump(mode="json", exclude={"raw"}), sort_keys=True, ensure_ascii=False
        )
        return hashlib.sha256(payload.encode()).hexdigest()
