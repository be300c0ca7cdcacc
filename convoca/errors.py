"""Domain errors. Services raise them; only the CLI, the scheduler and the web layer turn them
into messages and exit codes.

    ConvocaError
    ├── ConfigError      a configuration file or setting is invalid (exit code 2)
    ├── CrawlError       a crawl could not run or failed as a whole
    ├── MatchError       matching could not run (model, data)
    └── NotifyError      a digest could not be rendered or delivered
"""

from __future__ import annotations

from dataclasses import dataclass


class ConvocaError(Exception):
    """Base of every error Convoca raises on purpose."""


@dataclass(frozen=True)
class ConfigIssue:
    """One problem in one file: where it is, which field, what is wrong and how to fix it."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else self.file
        return f"{where}: {self.field}: {self.message}"


class ConfigError(ConvocaError):
    def __init__(self, issues: list[ConfigIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


class CrawlError(ConvocaError):
    pass


class MatchError(ConvocaError):
    pass


class NotifyError(ConvocaError):
    pass
