"""What happens to a request's items once they are read: rate limit, dedupe, publish, then answer.

Every endpoint goes through here, so every CRM gets the same guarantees: `202` only after Kafka acknowledged,
`503` with nothing marked as seen, `429` before anything is published.
"""

import logging
import time
from collections import Counter
from dataclasses import dataclass

from schemas import OutreachEvent, Source
from services.ingestion.dedupe import DedupeStore, dedupe_key
from services.ingestion.items import Item
from services.ingestion.metrics import EVENTS, EVENTS_PUBLISHED, PUBLISH_DURATION
from services.ingestion.publisher import BrokerUnavailable, EventSink
from services.ingestion.results import BatchResult, ItemResult, ItemStatus, batch_result
from services.runtime.rate_limit import TokenBuckets

log = logging.getLogger("rapport_guard.ingestion")


class Refusal(Exception):
    """The whole request is refused; `detail` tells the integrator what to fix."""

    def __init__(self, status: int, error: str, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error
        self.detail = detail
        self.retry_after = retry_after


@dataclass(frozen=True)
class Answer:
    status: int
    result: BatchResult


class Intake:
    def __init__(
        self,
        sink: EventSink,
        dedupe: DedupeStore,
        limiter: TokenBuckets,
    ) -> None:
        self.sink = sink
        self.dedupe = dedupe
        self.limiter = limiter

    async def accept(self, source: Source, items: list[Item]) -> Answer:
        """Publish the new events among `items` and say what became of each; raise Refusal for 429 and 503."""
        candidates = [(item, item.event) for item in items if item.event is not None]
        self._rate_limit([event for _, event in candidates])
        keys = [dedupe_key(event.source, event.tenant, event.event_id) for _, event in candidates]
        already = await self.dedupe.seen(keys)
        statuses: dict[int, ItemStatus] = {}
        fresh: dict[str, OutreachEvent] = {}
        for (item, event), key in zip(candidates, keys, strict=True):
            if key in already or key in fresh:
                statuses[item.index] = ItemStatus.DUPLICATE
            else:
                fresh[key] = event
        await self._publish(list(fresh.values()))
        await self.dedupe.mark(list(fresh))
        EVENTS_PUBLISHED.labels(source=source).inc(len(fresh))
        results = [item.result(statuses.get(item.index)) for item in items]
        return self._answer(source, results)

    def _rate_limit(self, events: list[OutreachEvent]) -> None:
        if not events:
            return
        retry_after = self.limiter.take(Counter([event.tenant for event in events]), time.monotonic())
        if retry_after is not None:
            raise Refusal(
                429,
                "rate_limited",
                f"too many events for this tenant; retry after {retry_after} s, or send fewer events per second",
                retry_after,
            )

    async def _publish(self, events: list[OutreachEvent]) -> None:
        if not events:
            return
        started = time.perf_counter()
        try:
            await self.sink.publish(events)
        except BrokerUnavailable as exc:
            log.warning("publish failed, answering 503: %s", exc)
            raise Refusal(
                503,
                "broker_unavailable",
                "Kafka did not acknowledge the events; nothing was accepted, retry later",
            ) from None
        finally:
            PUBLISH_DURATION.observe(time.perf_counter() - started)

    @staticmethod
    def _answer(source: Source, results: list[ItemResult]) -> Answer:
        counts = Counter([result["status"] for result in results])
        for status, count in counts.items():
            EVENTS.labels(source=source, result=status).inc(count)
        outcome = batch_result(results, counts)
        every_item_invalid = outcome["rejected"] == len(results)
        return Answer(422 if every_item_invalid else 202, outcome)
