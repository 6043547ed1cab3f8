"""In-memory stand-ins for channels and the Kafka outbox."""

from dataclasses import dataclass, field

from schemas import NotificationReceipt
from services.notification.channels.base import Channel, DeliveryFailed
from services.notification.wording import Notice


@dataclass
class ScriptedChannel:
    """Fails with the scripted failures first, then delivers; records every attempt's delivery id."""

    name: str
    kind: str = "webhook"
    failures: list[DeliveryFailed] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    delivered: list[Notice] = field(default_factory=list)

    async def send(self, notice: Notice, delivery_id: str) -> None:
        self.attempts.append(delivery_id)
        if self.failures:
            raise self.failures.pop(0)
        self.delivered.append(notice)


def retryable(times: int, reason: str = "receiver answered HTTP 500") -> list[DeliveryFailed]:
    return [DeliveryFailed(reason, retryable=True) for _ in range(times)]


@dataclass
class RecordingOutbox:
    receipts: list[tuple[NotificationReceipt, str | None]] = field(default_factory=list)
    dead_letters: list[tuple[str, int, str]] = field(default_factory=list)

    async def receipt(self, receipt: NotificationReceipt, reason: str | None = None) -> None:
        self.receipts.append((receipt, reason))

    async def dead_letter(self, channel: Channel, attempts: int, error: str) -> None:
        self.dead_letters.append((channel.name, attempts, error))

    def outcomes(self) -> list[tuple[str, str, int]]:
        return [(r.channel, r.outcome.value, r.attempts) for r, _ in self.receipts]
