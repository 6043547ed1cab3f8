"""What every channel promises, and how it reports a failure without leaking a secret."""

from typing import Protocol

from services.notification.wording import Notice


class DeliveryFailed(Exception):
    """One attempt failed. `reason` is safe to log and to put in headers: no URL, address or secret."""

    def __init__(self, reason: str, *, retryable: bool, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retryable = retryable
        self.retry_after = retry_after


class Channel(Protocol):
    @property
    def name(self) -> str:
        """The name the routing file gives it (`crm`, `sales-slack`)."""
        ...

    @property
    def kind(self) -> str:
        """webhook | slack | email | log: the bounded metric label."""
        ...

    async def send(self, notice: Notice, delivery_id: str) -> None:
        """Deliver once; raise DeliveryFailed. `delivery_id` is the same on every retry, so receivers can dedupe."""
        ...
