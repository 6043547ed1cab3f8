"""`make reliability`: the guarantees of docs/contract.md proven on real processes and a real Apache Kafka.

Each scenario is bounded in time; the report is printed and written to reliability-report.{txt,json}.
Scale with RELIABILITY_EVENTS (events in the crash scenarios, default 100000) and RELIABILITY_FUZZ_CASES (10000).
"""

import asyncio
import os
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from services.devstack.apache_kafka import ApacheKafka, java_available
from tests.reliability.report import Report, ScenarioResult
from tests.reliability.scenarios_ingestion import broker_outage, ingestion_killed
from tests.reliability.scenarios_input import hostile_webhooks, poison_on_topic
from tests.reliability.scenarios_notification import notification_killed
from tests.reliability.scenarios_scoring import scoring_killed, scoring_scaled_out, store_outage

ROOT = Path(__file__).resolve().parents[2]
SCENARIO_LIMIT_SECONDS = 900


async def bounded(name: str, make: Callable[[], Awaitable[ScenarioResult]]) -> ScenarioResult:
    started = time.monotonic()
    print(f"-- {name} …", flush=True)
    try:
        result = await asyncio.wait_for(make(), SCENARIO_LIMIT_SECONDS)
    except Exception as exc:  # noqa: BLE001 - a scenario that breaks is reported, and the run goes on
        result = ScenarioResult(name, error=f"{type(exc).__name__}: {exc}")
    result.seconds = time.monotonic() - started
    print(f"   {'PASS' if result.ok else 'FAIL'} in {result.seconds:.0f} s", flush=True)
    return result


async def run_all(kafka: ApacheKafka, workdir: Path) -> Report:
    events = int(os.environ.get("RELIABILITY_EVENTS", "100000"))
    fuzz_cases = int(os.environ.get("RELIABILITY_FUZZ_CASES", "10000"))
    report = Report()
    plan: list[tuple[str, Callable[[], Awaitable[ScenarioResult]]]] = [
        ("ingestion crash", lambda: ingestion_killed(kafka.bootstrap, workdir / "ik", events, kills=4)),
        ("broker outage", lambda: broker_outage(workdir / "bo", 20_000, outage_seconds=10)),
        ("poison", lambda: poison_on_topic(kafka.bootstrap, workdir / "po", good_count=200)),
        ("hostile webhooks", lambda: hostile_webhooks(kafka.bootstrap, workdir / "hw", fuzz_cases)),
        ("scoring crash", lambda: scoring_killed(kafka.bootstrap, workdir / "sk", events, kills=4)),
        ("scale-out", lambda: scoring_scaled_out(kafka.bootstrap, workdir / "so", 20_000)),
        ("store outage", lambda: store_outage(kafka.bootstrap, workdir / "ro", 10_000, outage_seconds=8)),
        ("notification crash", lambda: notification_killed(kafka.bootstrap, workdir / "nk", 1000, kills=4)),
    ]
    for name, make in plan:
        report.scenarios.append(await bounded(name, make))
    return report


def main() -> None:
    if not java_available():
        sys.exit("make reliability needs Java 17+ and Maven: it runs against a real Apache Kafka broker")
    kafka = ApacheKafka()
    kafka.start()
    try:
        with tempfile.TemporaryDirectory(prefix="rg-reliability-") as tmp:
            workdir = Path(tmp)
            report = asyncio.run(run_all(kafka, workdir))
    finally:
        kafka.destroy()
    text = report.render()
    print(text)
    (ROOT / "reliability-report.txt").write_text(text + "\n")
    report.write(ROOT / "reliability-report.json")
    sys.exit(0 if report.failed == 0 else 1)


if __name__ == "__main__":
    main()
