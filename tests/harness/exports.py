"""Small activity exports written to disk, in the generic webhook's item shape."""

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

T0 = datetime(2026, 3, 2, 10, tzinfo=UTC)
KEY = b"backtest-test-key-0123456789"


def email(n: int, contact: str, days: float, *, sender: str = "rep-1", **extra: Any) -> dict[str, Any]:
    """An unanswered e-mail from `sender` to `contact`, `days` after T0."""
    return {
        "event_id": f"{contact}-{n}",
        "tenant": "acme",
        "occurred_at": (T0 + timedelta(days=days)).isoformat(),
        "sender": {"id": sender},
        "contact": {"id": contact},
        "channel": "email",
        "direction": "outbound",
        "kind": "message",
        **extra,
    }


def write_jsonl(path: Path, items: list[Any]) -> Path:
    path.write_text("".join((item if isinstance(item, str) else json.dumps(item)) + "\n" for item in items))
    return path


def write_csv(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def flat(item: dict[str, Any]) -> dict[str, Any]:
    """The generic item as a CSV row: `sender.id` → `sender_id`."""
    row = {key: value for key, value in item.items() if key not in ("sender", "contact")}
    row.update({f"sender_{key}": value for key, value in item["sender"].items()})
    row.update({f"contact_{key}": value for key, value in item["contact"].items()})
    return row
