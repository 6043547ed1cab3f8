"""A Slack incoming-webhook message in Block Kit, with the plain text as the notification fallback."""

import json

import httpx

from services.notification.channels.http_post import post_json
from services.notification.wording import Notice

HEADER_LIMIT = 150
SECTION_LIMIT = 3000


def _mrkdwn(text: str) -> str:
    """Slack's three control characters, escaped as its documentation asks."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _section(text: str) -> dict[str, object]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": _mrkdwn(text)[:SECTION_LIMIT]}}


def slack_message(notice: Notice) -> dict[str, object]:
    blocks: list[dict[str, object]] = [
        {"type": "header", "text": {"type": "plain_text", "text": notice.headline[:HEADER_LIMIT]}},
        _section(notice.pattern),
    ]
    if notice.reasons:
        blocks.append(_section("*Why*\n" + "\n".join(f"• {reason}" for reason in notice.reasons)))
    blocks.append(_section(f"*Next touch*\n{notice.next_touch}"))
    context = [f"Rapport Guard · alert {notice.alert.alert_id}"]
    if notice.held_back_note:
        context.insert(0, notice.held_back_note)
    blocks.append({"type": "context", "elements": [{"type": "mrkdwn", "text": _mrkdwn(line)} for line in context]})
    return {"text": _mrkdwn(notice.text), "blocks": blocks}


class SlackChannel:
    kind = "slack"

    def __init__(self, name: str, url: str, client: httpx.AsyncClient) -> None:
        self.name = name
        self.url = url
        self.client = client

    async def send(self, notice: Notice, delivery_id: str) -> None:
        body = json.dumps(slack_message(notice), ensure_ascii=False).encode()
        await post_json(self.client, self.url, body, {"content-type": "application/json"})
