"""Reads an activity export into rows in event-time order; a malformed record is reported, skipped and counted.

Formats: the generic webhook's items as JSON Lines (one event a line), the same items as CSV with flattened
columns (`sender_id`, `contact_email`, ...; see `GENERIC_COLUMNS`), and HubSpot's exported activities
(`services/backtest/hubspot_export.py`). Addresses and numbers are pseudonymised with the identity key exactly as
the webhook does, so a backtest names people as the live system would.
"""

import csv
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from schemas import OutreachEvent
from schemas.events import event_problem
from services.backtest.collector import Collector, Export, ExportError, Format, Problem
from services.backtest.history import Labels
from services.backtest.hubspot_export import is_hubspot_header, read_hubspot
from services.ingestion.generic import GenericEvent, outreach_fields

__all__ = ["Export", "ExportError", "Format", "read_export"]

GENERIC_COLUMNS = (
    "event_id",
    "tenant",
    "occurred_at",
    "sender_id",
    "sender_email",
    "sender_name",
    "contact_id",
    "contact_email",
    "contact_phone",
    "contact_timezone",
    "channel",
    "direction",
    "kind",
    "outcome",
    "category",
)
"""The generic webhook's item, flattened: `sender.email` is `sender_email`, `contact.timezone` is `contact_timezone`."""

REQUIRED_COLUMNS = ("event_id", "occurred_at", "direction", "kind")

Progress = Callable[[int], None]
"""Called with the number of characters read since the last call."""


def detect_format(path: Path) -> Format:
    """By extension; a CSV whose header has HubSpot's `Activity date` is HubSpot's export."""
    if path.suffix.lower() in {".jsonl", ".ndjson", ".json"}:
        return Format.JSONL
    if path.suffix.lower() == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as file:
            header = next(csv.reader(file), [])
        return Format.HUBSPOT if is_hubspot_header(header) else Format.CSV
    raise ExportError(f"{path}: cannot tell the format from the extension; name it with --format jsonl|csv|hubspot")


def read_export(
    path: Path,
    key: bytes,
    *,
    labels: Labels,
    fmt: Format | None = None,
    strict: bool = False,
    progress: Progress | None = None,
    tenant: str = "default",
    export_timezone: tzinfo = UTC,
) -> Export:
    """Every valid record of the file as a row, sorted by event time (ties keep the file's order)."""
    try:
        fmt = fmt or detect_format(path)
        export = Export(fmt)
        collector = Collector(export, path, strict, key, labels)
        with path.open(encoding="utf-8-sig", newline="") as file:
            lines = _counted(file, progress)
            if fmt is Format.JSONL:
                _read_jsonl(lines, collector)
            elif fmt is Format.CSV:
                _read_generic_csv(lines, collector)
            else:
                read_hubspot(lines, tenant, collector, export_timezone)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ExportError(f"{path}: cannot read: {exc}") from None
    if export.records == 0:
        raise ExportError(
            f"{path}: no events in the file (it is empty{' but for the header' if fmt != 'jsonl' else ''})"
        )
    export.rows.sort(key=lambda row: row.occurred_at)
    return export


def _counted(file: TextIO, progress: Progress | None, every: int = 1000) -> Iterator[str]:
    """The file's lines, telling `progress` how far the reading got every `every` lines."""
    if progress is None:
        yield from file
        return
    read = 0
    for number, line in enumerate(file, start=1):
        read += len(line)
        if number % every == 0:
            progress(read)
            read = 0
        yield line
    progress(read)


def _read_jsonl(lines: Iterable[str], collector: Collector) -> None:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = GenericEvent.model_validate_json(line)
        except ValidationError as exc:
            collector.reject(_problems(number, exc, "."))
            continue
        _accept(number, item, collector, ".")


def _read_generic_csv(lines: Iterable[str], collector: Collector) -> None:
    reader = csv.DictReader(lines)
    header = reader.fieldnames or []
    known = set(GENERIC_COLUMNS)
    collector.export.unknown_columns = [name for name in header if name not in known]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    if header and missing:
        raise ExportError(
            f"{collector.path}: missing column(s) {', '.join(missing)}; expected {', '.join(GENERIC_COLUMNS)}"
        )
    for record in reader:
        number = reader.line_num
        nested = _nested(record)
        try:
            item = GenericEvent.model_validate(nested)
        except ValidationError as exc:
            collector.reject(_problems(number, exc, "_"))
            continue
        _accept(number, item, collector, "_")


def _nested(record: dict[str | Any, str | Any]) -> dict[str, Any]:
    """`sender_email` → `{"sender": {"email": ...}}`; empty cells are absent fields."""
    item: dict[str, Any] = {"sender": {}, "contact": {}}
    for column, value in record.items():
        if not isinstance(column, str) or column not in GENERIC_COLUMNS or value in (None, ""):
            continue
        party, _, name = column.partition("_")
        if party in ("sender", "contact"):
            item[party][name] = value
        else:
            item[column] = value
    return item


def _accept(number: int, item: GenericEvent, collector: Collector, joiner: str) -> None:
    event = OutreachEvent.model_construct(**outreach_fields(item, collector.key, collector.received_at))
    problem = event_problem(event)
    if problem is not None:
        name, _, message = problem[1].partition(": ")
        column = "contact.timezone" if name == "contact_timezone" else name
        collector.reject([Problem(number, column.replace(".", joiner), message)])
        return
    collector.labels.remember(event.contact_id, item.contact.id or item.contact.email or item.contact.phone)
    collector.add(event)


def _problems(number: int, exc: ValidationError, joiner: str) -> list[Problem]:
    problems = []
    for error in exc.errors():
        if error["type"] == "json_invalid":
            problems.append(Problem(number, "line", f"not a JSON object: {error['msg']}"))
            continue
        location = joiner.join(str(part) for part in error["loc"])
        message = str(error["msg"]).removeprefix("Value error, ")
        problems.append(Problem(number, location or "event", message))
    return problems
