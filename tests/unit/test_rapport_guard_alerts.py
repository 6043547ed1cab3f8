"""`rapport-guard alerts` and `make run` print the same line per alert, from an in-memory topic here."""

import asyncio
from dataclasses import dataclass
from pathlib import Path

import pytest

from schemas import AlertLevel
from services.cli.main import main
from services.devstack.alert_feed import alert_line, print_alerts
from services.devstack.broker_address import find_broker, forget_broker, record_broker
from tests.harness.alerts import make_alert


@dataclass
class Record:
    value: bytes
    partition: int
    offset: int


class MemoryTopic:
    """One partition handed out two records per poll, as an aiokafka consumer would page through it."""

    def __init__(self, values: list[bytes]) -> None:
        self.records = [Record(value, 0, offset) for offset, value in enumerate(values)]
        self.next_offset = 0

    def assignment(self) -> set[int]:
        return {0}

    async def getmany(self, *partitions: int, timeout_ms: int = 0) -> dict[int, list[Record]]:
        batch = self.records[self.next_offset : self.next_offset + 2]
        self.next_offset += len(batch)
        return {0: batch} if batch else {}

    async def end_offsets(self, partitions: list[int]) -> dict[int, int]:
        return dict.fromkeys(partitions, len(self.records))

    async def position(self, partition: int) -> int:
        return self.next_offset


def printed(topic: MemoryTopic, *, follow: bool, stop_after: int | None = None) -> list[str]:
    lines: list[str] = []
    stop = asyncio.Event()

    def say(line: str) -> None:
        lines.append(line)
        if stop_after is not None and len(lines) >= stop_after:
            stop.set()

    asyncio.run(print_alerts(topic, say, stop, follow=follow))
    return lines


def test_without_follow_every_alert_on_the_topic_is_printed_once_then_it_stops() -> None:
    alerts = [make_alert(AlertLevel.WATCH), make_alert(AlertLevel.STALKING), make_alert(AlertLevel.RESOLVED)]
    topic = MemoryTopic([alert.model_dump_json().encode() for alert in alerts])
    assert printed(topic, follow=False) == [alert_line(alert) for alert in alerts]


def test_the_line_names_the_level_the_pair_and_the_pause() -> None:
    line = alert_line(make_alert(AlertLevel.STALKING, contact="c-9", sender="rep-7"))
    assert line.startswith("ALERT [STALKING] Sender rep-7 → contact c-9 (acme)")


def test_an_alert_about_pressure_already_past_says_it_is_historical() -> None:
    alert = make_alert(AlertLevel.STALKING, contact="c-9", sender="rep-7").model_copy(update={"historical": True})
    assert alert_line(alert).startswith("ALERT [STALKING, historical] Sender rep-7 → contact c-9 (acme)")


def test_a_record_that_is_not_an_alert_is_skipped_with_a_note_not_a_crash() -> None:
    watch = make_alert(AlertLevel.WATCH)
    topic = MemoryTopic([b"not json", watch.model_dump_json().encode()])
    assert printed(topic, follow=False) == [
        "(skipped a record that is not an alert: partition 0, offset 0)",
        alert_line(watch),
    ]


def test_follow_keeps_reading_until_stopped() -> None:
    alerts = [make_alert(AlertLevel.WATCH) for _ in range(5)]
    topic = MemoryTopic([alert.model_dump_json().encode() for alert in alerts])
    assert len(printed(topic, follow=True, stop_after=5)) == 5


def test_the_broker_is_the_environments_else_the_one_make_run_recorded(tmp_path: Path) -> None:
    assert find_broker({}, tmp_path) is None
    record_broker("127.0.0.1:39092", tmp_path)
    assert find_broker({}, tmp_path) == "127.0.0.1:39092"
    assert find_broker({"KAFKA_BOOTSTRAP_SERVERS": "kafka:9092"}, tmp_path) == "kafka:9092"
    forget_broker(tmp_path)
    assert find_broker({}, tmp_path) is None


def test_alerts_without_a_broker_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("KAFKA_BOOTSTRAP_SERVERS", raising=False)
    assert main(["alerts", "--follow"]) == 2
    assert "start `make run`" in capsys.readouterr().err


def test_an_unknown_subcommand_is_refused_with_the_usage(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["nagging"])
    assert exit_info.value.code == 2
    assert "alerts" in capsys.readouterr().err
