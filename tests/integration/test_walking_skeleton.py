"""The whole path through real processes and a real broker: signed webhook → alert → receipt."""

import asyncio
import json
import secrets
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from schemas import Alert, NotificationReceipt, OutreachEvent
from services.devstack.ports import free_port
from services.devstack.processes import ServiceProcess
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker, new_broker
from tests.harness.stack import Stack, new_secret, read_topic, running_stack


def unanswered_emails(contact: str, count: int) -> list[dict[str, Any]]:
    start = datetime.now(UTC) - timedelta(days=7)  # recent: an alert about pressure long over is not news
    return [
        {
            "event_id": f"{contact}-{n}",
            "tenant": "acme",
            "occurred_at": (start + timedelta(days=2 * n)).isoformat(),
            "sender": {"id": "rep-1"},
            "contact": {"id": contact},
            "channel": "email",
            "direction": "outbound",
            "kind": "message",
        }
        for n in range(count)
    ]


def test_signed_webhook_becomes_alert_read_by_plain_consumer(stack: Stack) -> None:
    contact = f"c-{secrets.token_hex(4)}"
    response = stack.post_generic({"events": unanswered_emails(contact, 3)})
    assert response.status_code == 202, response.text
    assert response.json()["accepted"] == 3

    def alert_for_contact(records: list[tuple[bytes | None, bytes, dict[str, bytes]]]) -> bool:
        return any(key == f"acme:{contact}".encode() for key, _, _ in records)

    records = asyncio.run(read_topic(stack.bootstrap, "outreach.alerts", alert_for_contact))
    mine = [(key, value, headers) for key, value, headers in records if key == f"acme:{contact}".encode()]
    assert len(mine) == 1
    _, value, headers = mine[0]
    alert = Alert.model_validate_json(value)
    assert (alert.level, alert.sender_id, alert.event_id) == ("watch", "rep-1", f"{contact}-2")
    assert alert.reasons
    assert "without a reply" in alert.reasons[0].message
    assert headers["ce_id"] == alert.alert_id.encode()
    assert headers["ce_specversion"] == b"1.0"

    receipts = asyncio.run(
        read_topic(
            stack.bootstrap,
            "outreach.notifications",
            lambda rs: any(json.loads(v)["alert_id"] == alert.alert_id for _, v, _ in rs),
        )
    )
    receipt = next(
        NotificationReceipt.model_validate_json(v)
        for _, v, _ in receipts
        if json.loads(v)["alert_id"] == alert.alert_id
    )
    assert receipt.outcome == "delivered"


def test_contact_email_is_pseudonymised_before_kafka(stack: Stack) -> None:
    address = f"Dana.{secrets.token_hex(3)}@Example.org"
    event = unanswered_emails("ignored", 1)[0] | {
        "contact": {"email": address},
        "event_id": secrets.token_hex(6),
    }
    assert stack.post_generic(event).status_code == 202
    records = asyncio.run(
        read_topic(
            stack.bootstrap,
            "outreach.events",
            lambda rs: any(event["event_id"].encode() in v for _, v, _ in rs),
        )
    )
    published = next(OutreachEvent.model_validate_json(v) for _, v, _ in records if event["event_id"].encode() in v)
    assert published.contact_id.startswith("em_")
    assert address.lower().encode() not in b"".join(v for _, v, _ in records).lower()


def test_bad_signature_gets_401_and_publishes_nothing(stack: Stack) -> None:
    event = unanswered_emails(f"c-{secrets.token_hex(4)}", 1)[0]
    response = stack.post_generic(event, key=secrets.token_bytes(32))
    assert response.status_code == 401
    assert "signature" in response.json()["detail"]
    stale = stack.post_generic(event, timestamp=int(datetime.now(UTC).timestamp()) - 3600)
    assert stale.status_code == 401
    canary = unanswered_emails(f"c-{secrets.token_hex(4)}", 1)[0]
    assert stack.post_generic(canary).status_code == 202
    records = asyncio.run(
        read_topic(
            stack.bootstrap,
            "outreach.events",
            lambda rs: any(canary["event_id"].encode() in v for _, v, _ in rs),
        )
    )
    assert not any(str(event["event_id"]).encode() in value for _, value, _ in records)


def test_broker_down_gets_503_and_readyz_fails(tmp_path: Path) -> None:
    broker: ApacheTestBroker | EmbeddedTestBroker = new_broker()
    broker.start()
    try:
        with running_stack(broker.bootstrap, tmp_path, names=("ingestion",), PUBLISH_TIMEOUT_SECONDS="2") as stack:
            assert stack.post_generic(unanswered_emails("c-up", 1)[0]).status_code == 202
            broker.stop()
            response = stack.post_generic(unanswered_emails("c-down", 1)[0])
            assert response.status_code == 503
            assert "nothing was accepted" in response.json()["detail"]
            ready = httpx.get(f"{stack.url('ingestion')}/readyz", timeout=10)
            assert ready.status_code == 503
    finally:
        broker.destroy()


def wait_for_answer(url: str, attempts: int = 100) -> httpx.Response:
    for _ in range(attempts):
        try:
            return httpx.get(url, timeout=2)
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} never answered")


def test_ingestion_keeps_serving_when_kafka_is_absent_at_start(tmp_path: Path) -> None:
    nowhere = f"127.0.0.1:{free_port()}"
    process = ServiceProcess(
        "ingestion",
        free_port(),
        {
            "KAFKA_BOOTSTRAP_SERVERS": nowhere,
            "GENERIC_WEBHOOK_SECRET": new_secret(),
            "IDENTITY_HMAC_KEY": "k" * 32,
        },
        tmp_path / "ingestion.log",
    )
    process.start()
    try:
        ready = wait_for_answer(f"{process.url}/readyz")
        assert ready.status_code == 503
        assert ready.json()["reason"] == "not connected to Kafka yet"
    finally:
        process.stop()
