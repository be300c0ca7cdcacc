"""Job functions for scheduler tests: they record that they ran, in this process."""

from __future__ import annotations

from datetime import UTC, datetime

RUNS: list[tuple[str, datetime]] = []


def record(slug: str = "reminders") -> None:
    RUNS.append((slug, datetime.now(UTC)))
