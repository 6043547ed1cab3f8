"""Dashboards and alert rules proven on a live Prometheus scraping the running services.

Traffic goes through the public doors (signed webhooks, a forged one, a malformed body, a pre-send check, and
garbage put straight on outreach.events and outreach.alerts for the dead-letter paths); then every PromQL
expression of every dashboard panel and every rule must parse and return at least one series. Alert rules are
run with their comparisons made `bool`, so that the series an alert watches must exist even while it is quiet.
"""

import asyncio
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from aiokafka import AIOKafkaProducer

from tests.harness.prometheus_server import PrometheusServer, local_config
from tests.harness.promql import Expression, dashboard_expressions, rule_expressions, with_bool_comparisons
from tests.harness.stack import Stack, read_topic
from tests.integration.test_walking_skeleton import unanswered_emails

pytestmark = pytest.mark.slow

SETTLE_SECONDS = 90
"""Upper bound on waiting for series to appear: counters need two scrapes inside a rate() window."""


@pytest.fixture(scope="module")
def prometheus(stack: Stack, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusServer]:
    targets = {f"rapport-{name}": f"127.0.0.1:{process.port}" for name, process in stack.processes.items()}
    server = PrometheusServer(local_config(targets), tmp_path_factory.mktemp("prometheus"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def put_raw(bootstrap: str, topic: str, value: bytes) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=False)
    await producer.start()
    try:
        await producer.send_and_wait(topic, value, key=b"acme:garbage")
    finally:
        await producer.stop()


def drive_traffic(stack: Stack) -> None:
    """Enough of every kind of traffic that each panel and rule has something to show."""
    contact = f"obs-{secrets.token_hex(4)}"
    accepted = stack.post_generic({"events": unanswered_emails(contact, 4)})
    assert accepted.status_code == 202, accepted.text
    assert stack.post_generic(unanswered_emails(contact, 1)[0], key=secrets.token_bytes(32)).status_code == 401
    assert stack.post_generic(["not", "an", "event"]).status_code == 400
    httpx.post(
        f"{stack.url('scoring')}/v1/check",
        json={"tenant": "acme", "sender": {"id": "rep-1"}, "contact": {"id": contact}, "channel": "phone_mobile"},
        headers=stack.auth,
        timeout=15,
    )
    asyncio.run(put_raw(stack.bootstrap, "outreach.events", b"{this is not an outreach event"))
    asyncio.run(put_raw(stack.bootstrap, "outreach.alerts", b"{this is not an alert"))
    receipts = asyncio.run(
        read_topic(stack.bootstrap, "outreach.notifications", lambda rs: any(contact.encode() in v for _, v, _ in rs))
    )
    assert receipts, "the alert for the observability contact never reached notification"
    asyncio.run(
        read_topic(
            stack.bootstrap, "outreach.events.dlq", lambda rs: any(b"not an outreach event" in v for _, v, _ in rs)
        )
    )


def problems(prometheus: PrometheusServer, expressions: list[Expression]) -> dict[Expression, str]:
    """What is wrong with each expression right now: a parse error, or no series."""
    found = {}
    for expression in expressions:
        answer = prometheus.query(expression.promql)
        if answer["status"] != "success":
            found[expression] = f"does not run: {answer.get('errorType')}: {answer.get('error')}"
        elif not answer["data"]["result"]:
            found[expression] = "returns no series"
    return found


def report(found: dict[Expression, str], exported: set[str]) -> str:
    lines = [f"{len(found)} expressions fail on the live Prometheus:"]
    for expression, problem in found.items():
        absent = sorted(
            name
            for name in expression.metric_names()
            if name not in exported and f"{name}_bucket" not in exported and f"{name}_total" not in exported
        )
        because = f" (not exported by any service: {', '.join(absent)})" if absent else ""
        lines.append(f"  - {expression.where}: {problem}{because}\n      {expression.promql}")
    return "\n".join(lines)


def test_every_target_is_scraped_and_every_rule_loads(prometheus: PrometheusServer, stack: Stack) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    health: dict[str, str] = {}
    while time.monotonic() < deadline:
        targets = prometheus.api("targets")["data"]["activeTargets"]
        health = {target["labels"]["job"]: target["health"] for target in targets}
        if len(health) == len(stack.processes) and set(health.values()) == {"up"}:
            break
        time.sleep(1)
    assert health == {f"rapport-{name}": "up" for name in stack.processes}
    groups = prometheus.api("rules")["data"]["groups"]
    rules = [rule for group in groups for rule in group["rules"]]
    assert {rule["name"] for rule in rules} == {
        expression.where.removeprefix("rule ") for expression in rule_expressions()
    }
    assert all(rule["health"] in {"ok", "unknown"} and not rule.get("lastError") for rule in rules), rules


def test_every_panel_and_rule_expression_returns_series(prometheus: PrometheusServer, stack: Stack) -> None:
    drive_traffic(stack)
    unparsed = {e: p for e, p in problems(prometheus, rule_expressions()).items() if p != "returns no series"}
    if unparsed:
        pytest.fail(report(unparsed, prometheus.metric_names()), pytrace=False)
    expressions = dashboard_expressions() + [
        Expression(e.where, with_bool_comparisons(e.promql)) for e in rule_expressions()
    ]
    deadline = time.monotonic() + SETTLE_SECONDS
    found = problems(prometheus, expressions)
    while found and time.monotonic() < deadline:
        time.sleep(2)
        found = problems(prometheus, expressions)
    if found:
        pytest.fail(report(found, prometheus.metric_names()), pytrace=False)


def test_consumer_lag_covers_every_partition_and_drains_to_zero(prometheus: PrometheusServer, stack: Stack) -> None:
    """Scoring owns outreach.events, notification outreach.alerts; once traffic stops, nothing waits."""
    expected = {("scoring", "outreach.events", str(n)): 0.0 for n in range(3)} | {
        ("notification", "outreach.alerts", str(n)): 0.0 for n in range(3)
    }
    deadline = time.monotonic() + SETTLE_SECONDS
    lag: dict[tuple[str, str, str], float] = {}
    while lag != expected and time.monotonic() < deadline:
        time.sleep(1)
        result = prometheus.query("rapport_consumer_lag")["data"]["result"]
        lag = {
            (r["metric"]["service"], r["metric"]["topic"], r["metric"]["partition"]): float(r["value"][1])
            for r in result
        }
    assert lag == expected
