"""What reading an export gathers: the rows, and every problem with its line and field."""

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path

from schemas import OutreachEvent
from services.backtest.history import Labels, Row, row_of

MAX_PROBLEMS_KEPT = 1000
"""Problems kept word for word; beyond that they are only counted."""


class Format(StrEnum):
    JSONL = "jsonl"
    CSV = "csv"
    HUBSPOT = "hubspot"


class ExportError(Exception):
    """The export cannot be used at all (empty, unreadable, missing columns, or --strict met a bad record)."""


@dataclass(frozen=True)
class Problem:
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.field}: {self.message}"


@dataclass
class Export:
    format: Format
    rows: list[Row] = field(default_factory=list)
    records: int = 0
    malformed: int = 0
    problems: list[Problem] = field(default_factory=list)
    unknown_columns: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


class Collector:
    """Gathers rows and problems; with `strict`, the first problem ends the reading."""

    def __init__(self, export: Export, path: Path, strict: bool, key: bytes, labels: Labels) -> None:
        self.export = export
        self.path = path
        self.strict = strict
        self.key = key
        self.labels = labels
        self.received_at = datetime.now(UTC)
        """What the webhook would stamp: events more than a day after it are refused, as the scorer does."""

    def add(self, event: OutreachEvent) -> None:
        self.export.records += 1
        self.export.rows.append(row_of(event))

    def note(self, message: str) -> None:
        self.export.notes.append(message)

    def remember(self, contact_id: str, original: str | None) -> None:
        self.labels.remember(contact_id, original)

    def reject(self, problems: list[Problem]) -> None:
        self.export.records += 1
        self.export.malformed += 1
        if self.strict:
            raise ExportError(f"{self.path}: {problems[0]} (stopped at the first malformed record: --strict)")
        room = MAX_PROBLEMS_KEPT - len(self.export.problems)
        self.export.problems.extend(problems[: max(room, 0)])
