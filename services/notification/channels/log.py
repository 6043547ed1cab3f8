"""The service's own log: always there, so that `make run` and an unconfigured install still say something."""

import logging

from services.notification.wording import Notice, summary

log = logging.getLogger("rapport_guard.notification")


class LogChannel:
    name = "log"
    kind = "log"

    async def send(self, notice: Notice, delivery_id: str) -> None:
        log.info("alert %s: %s", notice.alert.alert_id, summary(notice.alert))
