"""`rapport-notification`: run the notification service."""

import logging
import sys

import uvicorn

from services.notification.app import create_app
from services.notification.routing import RoutingFileError
from services.notification.settings import NotificationSettings
from services.runtime.logs import configure_logging
from services.runtime.startup_checks import refuse_to_start_without_access


def main() -> None:
    settings = NotificationSettings.load()
    configure_logging(settings.log_level)
    refuse_to_start_without_access(settings, {"NOTIFY_COOLDOWN_STORE_URL": settings.notify_cooldown_store_url})
    for chatty in ("httpx", "httpcore"):
        logging.getLogger(chatty).setLevel(logging.WARNING)  # they log request URLs, and a Slack URL is a secret
    try:
        app = create_app(settings)
    except RoutingFileError as exc:
        sys.stderr.write(f"{exc}\n")
        raise SystemExit(2) from None
    uvicorn.run(
        app,
        host=settings.notify_host,
        port=settings.notify_port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
