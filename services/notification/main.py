"""`rapport-notification`: run the notification service."""

import logging
import sys

import uvicorn

from services.notification.app import create_app
from services.notification.routing import RoutingFileError
from services.notification.settings import NotificationSettings
from services.runtime.logs import configure_logging


def main() -> None:
    settings = NotificationSettings.load()
    configure_logging(settings.log_level)
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
