from pathlib import Path

import pytest

from services.backtest.history import Labels
from services.backtest.reading import GENERIC_COLUMNS, Export, ExportError, Format, read_export
from services.identity.pseudonyms import email_pseudonym
from tests.harness.exports import KEY, email, flat, write_csv, write_jsonl


def read(path: Path, **options: object) -> Export:
    return read_export(path, KEY, labels=Labels(KEY, False), **options)  # type: ignore[arg-type]


def test_jsonl_rows_come_out_in_event_time_order(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [email(2, "c", 4), email(0, "c", 0), email(1, "c", 2)])
    export = read(path)
    assert [row.event_id for row in export.rows] == ["c-0", "c-1", "c-2"]
    assert (export.format, export.records, export.malformed) == (Format.JSONL, 3, 0)


def test_addresses_are_pseudonymised_with_the_identity_key_as_the_webhook_does(tmp_path: Path) -> None:
    item = email(0, "x", 0) | {"contact": {"email": "Dana@Example.org"}}
    export = read(write_jsonl(tmp_path / "a.jsonl", [item]))
    assert export.rows[0].contact_id == email_pseudonym(KEY, "Dana@Example.org")
    assert "example" not in repr(export.rows).lower()


def test_csv_with_the_flattened_columns_reads_like_jsonl(tmp_path: Path) -> None:
    items = [email(0, "c", 0), email(1, "c", 1) | {"contact": {"id": "c", "timezone": "Europe/Berlin"}}]
    from_csv = read(write_csv(tmp_path / "a.csv", list(GENERIC_COLUMNS), [flat(i) for i in items]))
    from_jsonl = read(write_jsonl(tmp_path / "a.jsonl", items))
    assert from_csv.format is Format.CSV
    assert from_csv.rows == from_jsonl.rows
    assert from_csv.rows[1].contact_timezone == "Europe/Berlin"


def test_malformed_lines_are_reported_with_line_and_field_skipped_and_counted(tmp_path: Path) -> None:
    path = write_jsonl(
        tmp_path / "a.jsonl",
        [
            email(0, "c", 0),
            "{not json",
            email(1, "c", 1) | {"channel": "pigeon"},
            email(2, "c", 2) | {"contact": {"id": "c", "timezone": "Mars/Olympus"}},
            "",
            email(3, "c", 3),
        ],
    )
    export = read(path)
    assert [row.event_id for row in export.rows] == ["c-0", "c-3"]
    assert (export.records, export.malformed) == (5, 3)
    assert [(p.line, p.field) for p in export.problems] == [(2, "line"), (3, "channel"), (4, "contact.timezone")]
    assert "Mars/Olympus" in export.problems[2].message


def test_strict_stops_at_the_first_malformed_line(tmp_path: Path) -> None:
    path = write_jsonl(tmp_path / "a.jsonl", [email(0, "c", 0), email(1, "c", 1) | {"direction": "sideways"}])
    with pytest.raises(ExportError, match=r"line 2: direction: .*--strict"):
        read(path, strict=True)


def test_csv_problems_name_the_column_and_unknown_columns_are_named(tmp_path: Path) -> None:
    rows = [flat(email(0, "c", 0)) | {"deal_stage": "won"}, flat(email(1, "c", 1)) | {"contact_email": "nope"}]
    path = write_csv(tmp_path / "a.csv", [*GENERIC_COLUMNS, "deal_stage"], rows)
    export = read(path)
    assert export.unknown_columns == ["deal_stage"]
    assert [(p.line, p.field) for p in export.problems] == [(3, "contact_email")]


def test_csv_without_a_required_column_is_refused_naming_it(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", ["event_id", "sender_id", "contact_id"], [{"event_id": "1"}])
    with pytest.raises(ExportError, match=r"missing column.*occurred_at"):
        read(path)


@pytest.mark.parametrize(
    ("name", "text"), [("a.jsonl", ""), ("a.jsonl", "\n\n"), ("a.csv", ",".join(GENERIC_COLUMNS) + "\n")]
)
def test_an_empty_file_is_an_error_saying_so(tmp_path: Path, name: str, text: str) -> None:
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(ExportError, match="no events in the file"):
        read(path)


def test_reports_name_contacts_by_pseudonym_unless_asked(tmp_path: Path) -> None:
    item = email(0, "x", 0) | {"contact": {"email": "dana@example.org"}}
    for show, expected in ((False, "contact-"), (True, "dana@example.org")):
        labels = Labels(KEY, show)
        export = read_export(write_jsonl(tmp_path / "a.jsonl", [item]), KEY, labels=labels)
        assert labels.contact(export.rows[0].contact_id).startswith(expected)
