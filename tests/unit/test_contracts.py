"""The committed JSON Schema and AsyncAPI files are what the code produces, and they validate real messages."""

import json
from datetime import UTC, datetime, timedelta

import jsonschema

from schemas import Alert, AlertLevel, Level, Reason, Scope, Tier
from services.contracts import ROOT, expected_files
from services.scoring.policy.file import PolicySet
from services.scoring.processing.processor import Processor
from services.scoring.state.memory_store import MemoryStore
from tests.harness.events import event
from tests.unit.scoring.builders import DAY, T0, emails, reply

HOUR = timedelta(hours=1)


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


async def test_every_score_and_alert_the_scorer_publishes_is_exactly_what_the_committed_schemas_describe() -> None:
    """The judgement the engine makes reaches the wire with the schemas' fields only (nothing of the engine's own,
    such as when a level falls), for a rise, a team alert and a fall back to ok."""
    scorer = Processor(MemoryStore(expire_after=10**9), PolicySet())
    colleagues = [
        event(f"rep-{rep}-{n}", T0 + n * 3 * DAY + rep * HOUR, sender=f"rep-{rep}")
        for rep in range(2, 6)
        for n in range(2)
    ]
    pressure = sorted(emails(6, DAY) + colleagues, key=lambda item: item.occurred_at)
    documents: list[tuple[str, str]] = []
    for batch in (pressure, [reply("r-1", T0 + 7 * DAY)]):
        outputs, states = await scorer.process(batch, T0 + 8 * DAY)
        await scorer.save(states)
        documents += [("pair-score", score.model_dump_json()) for score in outputs.scores]
        documents += [("alert", alert.model_dump_json()) for alert in outputs.alerts]
    alerts = [json.loads(text) for name, text in documents if name == "alert"]
    assert {alert["scope"] for alert in alerts} == {"pair", "team"}
    assert "resolved" in {alert["level"] for alert in alerts}
    for name, text in documents:
        schema = json.loads((ROOT / "schemas" / "json" / f"{name}.schema.json").read_text())
        wire = json.loads(text)
        jsonschema.validate(wire, schema)
        assert set(wire) == set(schema["properties"])
