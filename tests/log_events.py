"""Structured log lines of a child process, read as they come (the scheduler tests watch them)."""

from __future__ import annotations

import json
from typing import Any


def read_log_events(stream: Any, sink: list[dict[str, Any]], raw: list[str]) -> None:
    """Append every JSON log record with an "event" to `sink`, and every line to `raw`, until EOF."""
    for line in iter(stream.readline, ""):
        raw.append(line)
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if isinstance(record, dict) and "event" in record:
            sink.append(record)
