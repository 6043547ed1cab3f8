"""A signed webhook (Standard Webhooks) for the CRM, or any URL that wants alerts as JSON.

The body follows the Standard Webhooks payload shape (`type`, `timestamp`, `data`); `data` is the alert as on
`outreach.alerts` plus the sentences a person would read. The `webhook-id` is the same on every retry and
after a crash, so a receiver that remembers ids sees each alert once.
"""

import json
from collections.abc import Callable
from datetime import datetime

import httpx

from services.notification.channels.http_post import post_json
from services.notification.wording import Notice
from services.runtime.standard_webhooks import signed_headers


def webhook_body(notice: Notice) -> bytes:
    alert = notice.alert
    data = json.loads(alert.model_dump_json())
    data["summary"] = notice.text
    data["held_back"] = notice.held_back
    payload = {
        "type": f"rapport_guard.alert.{alert.level.value}",
        "timestamp": data["emitted_at"],
        "data": data,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


class WebhookChannel:
    kind = "webhook"

    def __init__(
        self, name: str, url: str, key: bytes, client: httpx.AsyncClient, clock: Callable[[], datetime]
    ) -> None:
        self.name = name
        self.url = url
        self.key = key
        self.client = client
        self.clock = clock

    async def send(self, notice: Notice, delivery_id: str) -> None:
        body = webhook_body(notice)
        headers = signed_headers(self.key, delivery_id, body, int(self.clock().timestamp()))
        await post_json(self.client, self.url, body, {**headers, "user-agent": "rapport-guard-notification/1"})
