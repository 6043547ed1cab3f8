"""The committed JSON Schema and AsyncAPI files are what the code produces, and they validate real messages."""

import json
from datetime import UTC, datetime

import jsonschema

from schemas import Alert, AlertLevel, Level, Reason, Scope, Tier
from services.contracts import ROOT, expected_files


def test_committed_contract_files_match_the_code() -> None:
    drifted = [
        str(path.relative_to(ROOT))
        for path, text in expected_files().items()
        if not path.exists() or path.read_text() != text
    ]
    assert drifted == [], "run `make contracts` and commit the result"


def test_an_alert_on_the_wire_validates_against_the_committed_schema() -> None:
    alert = Alert(
        alert_id="a-1",
        tenant="acme",
        contact_id="c-1",
        sender_id="rep-1",
        scope=Scope.PAIR,
        level=AlertLevel.WATCH,
        previous_level=Level.OK,
        nuisance_score=40,
        rapport_score=0,
        tier=Tier.STRANGER,
        reasons=[Reason(rule="unanswered_streak", message="3 touches", observed=3, limit=2, window="30d")],
        next_allowed_at=datetime(2026, 12, 12, tzinfo=UTC),
        event_id="e-3",
        occurred_at=datetime(2026, 11, 2, tzinfo=UTC),
        emitted_at=datetime(2026, 11, 2, tzinfo=UTC),
    )
    wire = json.loads(alert.model_dump_json())
    assert wire["next_allowed_at"] == "2026-12-12T00:00:00Z"
    schema = json.loads((ROOT / "schemas" / "json" / "alert.schema.json").read_text())
    jsonschema.validate(wire, schema)
