"""Notification settings."""

from pydantic import Field

from services.runtime.settings import ServiceSettings


class NotificationSettings(ServiceSettings):
    notify_port: int = Field(default=8082, ge=1, le=65535)
    notify_host: str = "127.0.0.1"
    notification_group_id: str = "rapport-guard-notification"
