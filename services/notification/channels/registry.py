"""Builds the channels the routing file names, plus the built-in log."""

from collections.abc import Callable
from datetime import datetime

import httpx

from services.notification.channels.base import Channel
from services.notification.channels.email import EmailChannel
from services.notification.channels.log import LogChannel
from services.notification.channels.slack import SlackChannel
from services.notification.channels.webhook import WebhookChannel
from services.notification.routing import (
    LOG_CHANNEL,
    EmailChannelConfig,
    Routing,
    SlackChannelConfig,
    WebhookChannelConfig,
)


def build_channels(
    routing: Routing, client: httpx.AsyncClient, clock: Callable[[], datetime], timeout_seconds: float
) -> dict[str, Channel]:
    channels: dict[str, Channel] = {LOG_CHANNEL: LogChannel()}
    for name, config in routing.channels.items():
        match config:
            case WebhookChannelConfig():
                channels[name] = WebhookChannel(name, str(config.url), config.key(), client, clock)
            case SlackChannelConfig():
                channels[name] = SlackChannel(name, config.url.get_secret_value(), client)
            case EmailChannelConfig():
                channels[name] = EmailChannel(name, config, timeout_seconds)
    return channels
