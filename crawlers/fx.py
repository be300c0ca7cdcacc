"""Conversion to COP with the configured, dated rate table (config/fx_rates.yaml)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field


class RateTable(BaseModel):
    model_config = ConfigDict(extra="forbid")
    valid_from: date
    source: str
    rates_to_cop: dict[str, float] = Field(min_length=1)


class FxRates(BaseModel):
    model_config = ConfigDict(extra="forbid")
    tables: list[RateTable] = Field(min_length=1)

    def rate(self, currency: str, on: date) -> float | None:
        usable = [t for t in self.tables if t.valid_from <= on] or sorted(self.tables, key=lambda t: t.valid_from)[:1]
        table = max(usable, key=lambda t: t.valid_from)
        return table.rates_to_cop.get(currency.upper())

    def to_cop(self, amount: float | None, currency: str | None, on: date) -> float | None:
        if amount is None or currency is None:
            return None
        rate = self.rate(currency, on)
        return None if rate is None else round(amount * rate, 2)


@lru_cache(maxsize=4)
def load_rates(path: Path) -> FxRates:
    from config.loader import load_model

    return load_model(path, FxRates)


def check_rates_file(path: Path) -> None:
    from config.loader import load_model

    load_model(path, FxRates)
