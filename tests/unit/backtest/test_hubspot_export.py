from datetime import UTC
from pathlib import Path
from zoneinfo import ZoneInfo

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


def test_an_export_of_the_calls_page_alone_needs_no_activity_type_column(tmp_path: Path) -> None:
    """One object's index page exported: its own columns (`Call outcome`) say what every row is."""
    header = ["Record ID", "Activity date", "Activity assigned to", "Associated Contact", "Call outcome", "Call title"]
    rows = [
        {"Record ID": "21", "Activity date": "2026-03-02 14:30", "Associated Contact": "901", "Call outcome": "Busy"},
        {"Record ID": "22", "Activity date": "2026-03-03 14:30", "Associated Contact": "901", "Call outcome": ""},
    ]
    path = write_csv(tmp_path / "calls.csv", header, rows)
    read = read_export(path, KEY, labels=Labels(KEY, False), tenant="acme")
    assert read.format is Format.HUBSPOT
    assert [(r.event_id, r.kind, r.outcome) for r in read.rows] == [
        ("hubspot-21", Kind.CALL, Outcome.NO_ANSWER),
        ("hubspot-22", Kind.CALL, None),
    ]
    assert "no activity type column: every row is read as a call, as its columns say" in read.notes


def test_without_a_type_column_an_export_mixing_kinds_is_refused_naming_the_column(tmp_path: Path) -> None:
    header = ["Activity date", "Associated Contact", "Call outcome", "Meeting outcome"]
    path = write_csv(tmp_path / "mixed.csv", header, [{"Activity date": "2026-03-02", "Associated Contact": "9"}])
    with pytest.raises(ExportError, match=r"missing column.*Activity type"):
        read_export(path, KEY, labels=Labels(KEY, False), fmt=Format.HUBSPOT)


def test_dates_without_a_zone_are_read_in_the_exports_zone(tmp_path: Path) -> None:
    """HubSpot writes dates in the account's zone; `--export-timezone` names it. A date with its zone keeps it."""
    rows = [
        {"Record ID": "31", "Activity type": "Call", "Activity date": "2026-03-02 14:30", "Associated Contact": "901"},
        {"Record ID": "32", "Activity type": "Call", "Activity date": "2026-07-02 14:30", "Associated Contact": "901"},
        {"Record ID": "33", "Activity type": "Call", "Activity date": "2026-07-03T10:00Z", "Associated Contact": "901"},
    ]
    read = export(tmp_path, rows, export_timezone=ZoneInfo("Europe/Berlin"))
    assert [row.occurred_at.astimezone(UTC).isoformat() for row in read.rows] == [
        "2026-03-02T13:30:00+00:00",
        "2026-07-02T12:30:00+00:00",
        "2026-07-03T10:00:00+00:00",
    ]
