"""Each channel against a real receiver on loopback, and the failures receivers really have."""

import json
import socket
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from schemas import AlertLevel
from services.devstack.ports import free_port
from services.notification.channels.base import Channel
from services.notification.channels.email import EmailChannel
from services.notification.channels.slack import SlackChannel
from services.notification.channels.webhook import WebhookChannel
from services.notification.notifier import delivery_id
from services.notification.retries import Attempts, RetryPolicy, deliver_with_retries
from services.notification.routing import EmailChannelConfig
from services.notification.wording import Notice
from services.runtime.standard_webhooks import decode_secret, signed_headers
from tests.harness.alerts import make_alert
from tests.harness.receivers import (
    Reply,
    SmtpReceiver,
    delivery_ids,
    running,
    slack_receiver,
    webhook_receiver,
)
from tests.harness.stack import new_secret

POLICY = RetryPolicy(max_attempts=4, initial_seconds=0.05, max_seconds=0.2, attempt_timeout_seconds=1.0)


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=POLICY.attempt_timeout_seconds) as http:
        yield http


async def deliver(channel: Channel, level: AlertLevel = AlertLevel.NUISANCE) -> tuple[Attempts, str, list[str]]:
    alert = make_alert(level)
    errors: list[str] = []

    async def report(attempt: int, error: str) -> None:
        errors.append(error)

    msg_id = delivery_id(alert.alert_id, channel.name)
    return await deliver_with_retries(channel, Notice(alert), msg_id, POLICY, report), msg_id, errors


async def test_the_webhook_arrives_signed_with_the_alert_and_its_words(client: httpx.AsyncClient) -> None:
    secret = new_secret()
    with running(webhook_receiver(secret)) as crm:
        result, msg_id, _ = await deliver(WebhookChannel("crm", crm.url, decode_secret(secret), client, now))
    assert (result.delivered, result.attempts) == (True, 1)
    [request] = crm.accepted()
    assert request.headers["webhook-id"] == msg_id
    assert request.headers["content-type"] == "application/json"
    payload = request.json()
    assert payload["type"] == "rapport_guard.alert.nuisance"
    assert "6 touches in 12 days without a reply." in payload["data"]["summary"]
    assert crm.problems() == []


async def test_a_webhook_signed_with_another_secret_is_refused_by_the_receiver(client: httpx.AsyncClient) -> None:
    with running(webhook_receiver(new_secret())) as crm:
        result, _, _ = await deliver(WebhookChannel("crm", crm.url, decode_secret(new_secret()), client, now))
    assert (result.delivered, result.attempts, result.error) == (False, 1, "receiver answered HTTP 400")
    assert crm.problems() == ["bad signature: no v1 signature matches a configured secret"]


def test_a_sender_dying_mid_body_leaves_no_delivery_and_no_signature_complaint() -> None:
    """The notification crash scenario kills senders mid-request; the cut-off body is not the signer's fault."""
    secret = new_secret()
    body = json.dumps({"type": "rapport_guard.alert.nuisance", "data": {"summary": "x" * 200}}).encode()
    headers = signed_headers(decode_secret(secret), "msg_cut", body, int(now().timestamp()))
    head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
    with running(webhook_receiver(secret)) as crm:
        request = f"POST /hook HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: {len(body)}\r\n{head}\r\n"
        with socket.create_connection(("127.0.0.1", crm.port), timeout=5) as sender:
            sender.sendall(request.encode() + body[: len(body) // 2])
        crm.wait_for(lambda receiver: receiver.cut_off == 1, seconds=5)
        assert (crm.accepted(), crm.problems()) == ([], [])


async def test_a_receiver_answering_500_then_recovering_gets_the_alert_once(client: httpx.AsyncClient) -> None:
    secret = new_secret()
    with running(webhook_receiver(secret)) as crm:
        crm.script = [Reply(500), Reply(503)]
        result, msg_id, errors = await deliver(WebhookChannel("crm", crm.url, decode_secret(secret), client, now))
    assert (result.delivered, result.attempts) == (True, 3)
    assert errors == ["receiver answered HTTP 500", "receiver answered HTTP 503"]
    assert delivery_ids(crm.requests) == [msg_id] * 3
    assert delivery_ids(crm.accepted()) == [msg_id]


async def test_a_receiver_that_hangs_is_timed_out_and_tried_again(client: httpx.AsyncClient) -> None:
    secret = new_secret()
    with running(webhook_receiver(secret)) as crm:
        crm.script = [Reply(200, delay=3 * POLICY.attempt_timeout_seconds)]
        result, _, errors = await deliver(WebhookChannel("crm", crm.url, decode_secret(secret), client, now))
    assert (result.delivered, result.attempts) == (True, 2)
    assert errors in (["receiver did not answer in time"], ["no answer within 1 s"])


async def test_a_refused_connection_is_retried_then_given_up(client: httpx.AsyncClient) -> None:
    nobody = f"http://127.0.0.1:{free_port()}/hook"
    result, _, errors = await deliver(WebhookChannel("crm", nobody, decode_secret(new_secret()), client, now))
    assert (result.delivered, result.attempts) == (False, POLICY.max_attempts)
    assert result.error == "cannot connect to receiver"
    assert errors == ["cannot connect to receiver"] * (POLICY.max_attempts - 1)


async def test_410_gone_is_not_retried(client: httpx.AsyncClient) -> None:
    secret = new_secret()
    with running(webhook_receiver(secret)) as crm:
        crm.default = Reply(410)
        result, _, _ = await deliver(WebhookChannel("crm", crm.url, decode_secret(secret), client, now))
    assert (result.delivered, result.attempts, result.error) == (False, 1, "receiver answered HTTP 410")
    assert len(crm.requests) == 1


async def test_slack_gets_block_kit_and_a_rate_limit_is_waited_out(client: httpx.AsyncClient) -> None:
    with running(slack_receiver()) as slack:
        slack.script = [Reply(429, headers=(("Retry-After", "0"),))]
        result, _, errors = await deliver(SlackChannel("chat", slack.url, client), AlertLevel.STALKING)
    assert (result.delivered, result.attempts) == (True, 2)
    assert errors == ["receiver answered HTTP 429"]
    [request] = slack.accepted()
    message = request.json()
    assert message["blocks"][0]["type"] == "header"
    assert "pressure that reads as stalking" in message["blocks"][0]["text"]["text"]
    assert "Please stop and let them come to you." in json.dumps(message)
    assert slack.problems() == []


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    receiver = SmtpReceiver()
    receiver.start()
    try:
        yield receiver
    finally:
        receiver.stop()


def mailbox(port: int) -> EmailChannelConfig:
    return EmailChannelConfig.model_validate(
        {
            "type": "email",
            "host": "127.0.0.1",
            "port": port,
            "security": "none",
            "sender": "Rapport Guard <guard@example.org>",
            "recipients": ["sales-managers@example.org"],
        }
    )


async def test_email_arrives_as_plain_text_and_html(smtp: SmtpReceiver) -> None:
    result, msg_id, _ = await deliver(EmailChannel("mail", mailbox(smtp.port), 2.0))
    assert result.delivered
    [message] = smtp.messages
    assert message["Message-ID"] == f"<{msg_id}@rapport-guard>"
    assert message["To"] == "sales-managers@example.org"
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    assert rich is not None
    assert "starting to feel like nagging" in plain.get_content()
    assert "<li>3 different channels used without an answer.</li>" in rich.get_content()


async def test_an_smtp_server_that_is_down_and_comes_back_gets_the_mail(smtp: SmtpReceiver) -> None:
    smtp.stop()
    patient = RetryPolicy(max_attempts=30, initial_seconds=0.1, max_seconds=0.2, attempt_timeout_seconds=2.0)
    channel = EmailChannel("mail", mailbox(smtp.port), 2.0)
    alert = make_alert()
    errors: list[str] = []

    async def restart_after_two_failures(attempt: int, error: str) -> None:
        errors.append(error)
        if attempt == 2:
            smtp.start()

    result = await deliver_with_retries(channel, Notice(alert), "msg_x", patient, restart_after_two_failures)
    assert (result.delivered, result.attempts) == (True, 3)
    assert errors[0].startswith("cannot talk to the SMTP server")
    assert len(smtp.messages) == 1


async def test_smtp_try_later_is_retried_and_a_permanent_refusal_is_not(smtp: SmtpReceiver) -> None:
    channel = EmailChannel("mail", mailbox(smtp.port), 2.0)
    smtp.refuse_with = ["451 4.3.0 try again later"]
    later, _, errors = await deliver(channel)
    assert (later.delivered, later.attempts, errors) == (True, 2, ["SMTP server answered 451"])
    smtp.refuse_with = ["554 5.7.1 rejected"]
    refused, _, _ = await deliver(channel)
    assert (refused.delivered, refused.attempts, refused.error) == (False, 1, "SMTP server answered 554")
