"""`rapport-notification`: run the notification service."""

import uvicorn

from services.notification.app import create_app
from services.notification.settings import NotificationSettings
from services.runtime.logs import configure_logging


def main() -> None:
    settings = NotificationSettings.load()
    configure_logging(settings.log_level)
    uvicorn.run(
        create_app(settings),
        host=settings.notify_host,
        port=settings.notify_port,
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
