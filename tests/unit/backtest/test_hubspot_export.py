from pathlib import Path

import pytest

from schemas import Channel, Direction, Kind, Outcome, Source
from services.backtest.history import Labels
from services.backtest.reading import Export, ExportError, Format, read_export
from services.identity.pseudonyms import email_pseudonym
from tests.harness.exports import KEY, write_csv

HEADER = [
    "Record ID",
    "Activity type",
    "Activity date",
    "Activity assigned to",
    "Associated Contact",
    "Call direction",
    "Call outcome",
    "Email direction",
    "Meeting outcome",
    "Email subject",
]


def export(tmp_path: Path, rows: list[dict[str, str]], **options: object) -> Export:
    path = write_csv(tmp_path / "hubspot-activities.csv", HEADER, rows)
    return read_export(path, KEY, labels=Labels(KEY, False), tenant="acme", **options)  # type: ignore[arg-type]


def test_a_hubspot_export_is_recognised_by_its_columns_and_mapped_like_the_webhook(tmp_path: Path) -> None:
    rows = [
        {
            "Record ID": "11",
            "Activity type": "Call",
            "Activity date": "2026-03-02 14:30",
            "Activity assigned to": "41",
            "Associated Contact": "901",
            "Call direction": "Outbound",
            "Call outcome": "No answer",
        },
        {
            "Record ID": "12",
            "Activity type": "Email",
            "Activity date": "2026-03-03 09:00",
            "Activity assigned to": "Sam Lee (sam@acme.example)",
            "Associated Contact": "Dana Doe (dana@example.org)",
            "Email direction": "Email",
            "Email subject": "Quick follow-up",
        },
        {
            "Record ID": "13",
            "Activity type": "Email",
            "Activity date": "2026-03-04T10:00:00Z",
            "Associated Contact": "901",
            "Email direction": "INCOMING_EMAIL",
        },
        {
            "Record ID": "14",
            "Activity type": "Meeting",
            "Activity date": "03/05/2026 02:00 PM",
            "Activity assigned to": "41",
            "Associated Contact": "901",
            "Meeting outcome": "Completed",
        },
        {"Record ID": "15", "Activity type": "Note", "Activity date": "2026-03-05 15:00", "Associated Contact": "901"},
    ]
    read = export(tmp_path, rows)
    assert read.format is Format.HUBSPOT
    shapes = [(r.event_id, r.sender_id, r.contact_id, r.channel, r.direction, r.kind, r.outcome) for r in read.rows]
    assert shapes == [
        ("hubspot-11", "41", "901", Channel.PHONE_WORK, Direction.OUTBOUND, Kind.CALL, Outcome.NO_ANSWER),
        (
            "hubspot-12",
            email_pseudonym(KEY, "sam@acme.example"),
            email_pseudonym(KEY, "dana@example.org"),
            Channel.EMAIL,
            Direction.OUTBOUND,
            Kind.MESSAGE,
            None,
        ),
        ("hubspot-13", "unattributed", "901", Channel.EMAIL, Direction.INBOUND, Kind.REPLY, None),
        ("hubspot-14", "41", "901", Channel.MEETING, Direction.INBOUND, Kind.MEETING, None),
    ]
    assert {row.source for row in read.rows} == {Source.HUBSPOT}
    assert {row.tenant for row in read.rows} == {"acme"}
    assert read.rows[3].occurred_at.isoformat() == "2026-03-05T14:00:00+00:00"
    assert "1 note row(s) are not touches and were left out" in read.notes
    assert any("Email subject" in note for note in read.notes)


def test_hubspot_rows_without_what_a_touch_needs_name_the_column(tmp_path: Path) -> None:
    rows = [
        {"Record ID": "1", "Activity type": "Call", "Activity date": "yesterday", "Associated Contact": "901"},
        {"Record ID": "2", "Activity type": "Call", "Activity date": "2026-03-02 14:30", "Associated Contact": "Dana"},
        {"Record ID": "3", "Activity type": "Fax", "Activity date": "2026-03-02 14:30", "Associated Contact": "901"},
        {"Record ID": "4", "Activity type": "Call", "Activity date": "2026-03-02 14:30", "Associated Contact": "901"},
    ]
    read = export(tmp_path, rows)
    assert [(p.line, p.field) for p in read.problems] == [
        (2, "Activity date"),
        (3, "Associated Contact"),
        (4, "Activity type"),
    ]
    assert [row.event_id for row in read.rows] == ["hubspot-4"]
    with pytest.raises(ExportError, match="line 2: Activity date"):
        export(tmp_path, rows, strict=True)
