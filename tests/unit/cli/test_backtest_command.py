import json
from pathlib import Path

import pytest

from services.cli.main import main
from tests.harness.exports import email, write_jsonl


def history(tmp_path: Path) -> Path:
    return write_jsonl(tmp_path / "h.jsonl", [email(n, "a", 3 * n) for n in range(3)] + ["{broken"])


def test_backtest_writes_the_summary_and_the_report(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    assert main(["backtest", str(history(tmp_path)), "--out", str(out), "--identity-key", "k" * 20]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["counts"]["alerts_by_level"]["watch"] == 1
    assert summary["input"]["malformed"] == 1
    assert (out / "report.html").read_text().startswith("<!DOCTYPE html>")
    captured = capsys.readouterr()
    assert "watch 1" in captured.out
    assert "skipped line 4: line: not a JSON object" in captured.err
    assert "\r" not in captured.err  # no progress bar when stderr is not a terminal


def test_backtest_strict_exits_1_at_the_first_bad_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", str(history(tmp_path)), "--out", str(tmp_path / "r"), "--strict"]) == 1
    assert "line 4" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_backtest_of_an_empty_file_exits_1_saying_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert main(["backtest", str(empty), "--out", str(tmp_path / "r")]) == 1
    assert "no events in the file" in capsys.readouterr().err


def test_backtest_of_a_file_with_no_usable_record_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every line skipped is not a clean report of nothing: the user would read "0 alerts" as "all is well"."""
    broken = write_jsonl(tmp_path / "broken.jsonl", ["{broken", "[1]"])
    assert main(["backtest", str(broken), "--out", str(tmp_path / "r"), "--identity-key", "k" * 20]) == 1
    err = capsys.readouterr().err
    assert "skipped line 1" in err
    assert "none of its 2 record(s) could be replayed" in err
    assert not (tmp_path / "r").exists()


def test_counts_of_one_are_singular(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "report"
    assert main(["backtest", str(history(tmp_path)), "--out", str(out), "--identity-key", "k" * 20]) == 0
    assert "3 events, 1 pair, 1 pair flagged; 1 alert (" in capsys.readouterr().out


def test_without_a_key_a_random_one_is_used_with_a_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("IDENTITY_HMAC_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    assert main(["backtest", str(history(tmp_path)), "--out", str(tmp_path / "r")]) == 0
    assert "random key" in capsys.readouterr().err


def test_compare_adds_the_differences_to_the_summary(tmp_path: Path) -> None:
    stricter = tmp_path / "stricter.yaml"
    stricter.write_text("tiers:\n  stranger:\n    max_unanswered: 1\n")
    out = tmp_path / "r"
    assert main(["backtest", str(history(tmp_path)), "--out", str(out), "--compare", str(stricter)]) == 0
    compare = json.loads((out / "summary.json").read_text())["compare"]
    assert (compare["added_count"], compare["removed_count"]) == (2, 1)


def test_a_missing_export_exits_1_naming_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["backtest", str(tmp_path / "gone.csv"), "--out", str(tmp_path / "r")]) == 1
    assert "gone.csv: cannot read" in capsys.readouterr().err


def test_an_unknown_export_timezone_exits_1_naming_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    arguments = ["backtest", str(history(tmp_path)), "--out", str(tmp_path / "r"), "--export-timezone", "Mars/Base"]
    assert main(arguments) == 1
    assert "--export-timezone: unknown time zone 'Mars/Base'" in capsys.readouterr().err
