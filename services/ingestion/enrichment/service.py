"""Enrich one request's items: look-ups concurrently within a time budget, then the pure mapping in time order.

A CRM API that is down, slow or rate-limited never costs an event: what could not be asked in time is published
as the webhook said it (as without credentials), counted in `rapport_ingestion_enrichment_total{result=
"not_enriched"}` and named in the item's `reason`. Answering `503` instead would lose events at Pipedrive (three
retries within three minutes, then a ban) and would hold every touch of the batch back for one slow contact.
"""

import asyncio
import logging
from collections.abc import Mapping, Sequence
from typing import Protocol

from pydantic import ValidationError

from schemas import Source
from services.ingestion.enrichment.consent import consent_event
from services.ingestion.enrichment.facts import NOT_ENRICHED, Facts, enrich_event
from services.ingestion.enrichment.recent import RecentSenders
from services.ingestion.enrichment.unavailable import CrmUnavailable
from services.ingestion.intake import describe
from services.ingestion.items import Item
from services.ingestion.metrics import ENRICHMENT, ENRICHMENT_FAILURES

log = logging.getLogger("rapport_guard.ingestion.enrichment")

NOT_ENRICHED_NOTE = "published without enrichment: the CRM's API could not be asked in time"


class Closable(Protocol):
    async def aclose(self) -> None: ...


class Enricher(Protocol):
    async def look_up(self, lookup: object) -> Facts | None:
        """What the CRM says about the item's touch; None when the item asks nothing."""


class Enrichment:
    def __init__(
        self,
        enrichers: Mapping[Source, Enricher],
        recent: RecentSenders,
        timeout_seconds: float,
        clients: Sequence[Closable] = (),
    ) -> None:
        self.enrichers = enrichers
        self.recent = recent
        self.timeout_seconds = timeout_seconds
        self.clients = clients

    async def close(self) -> None:
        for client in self.clients:
            await client.aclose()

    async def apply(self, source: Source, items: list[Item]) -> list[Item]:
        enricher = self.enrichers.get(source)
        if enricher is None:
            return items
        asking = [item for item in items if item.event is not None and item.lookup is not None]
        if not asking:
            return items
        facts = await self._look_up_all(source, enricher, asking)
        consent: dict[str, Item] = {}
        for item in sorted(asking, key=lambda item: item.event.occurred_at if item.event else 0):
            for flag_item in self._enrich(source, item, facts[id(item)]):
                consent.setdefault(flag_item.event_id or "", flag_item)
        known = {item.event_id for item in items}
        return items + [item for event_id, item in consent.items() if event_id not in known]

    async def _look_up_all(self, source: Source, enricher: Enricher, items: list[Item]) -> dict[int, Facts]:
        tasks = {id(item): asyncio.ensure_future(enricher.look_up(item.lookup)) for item in items}
        await asyncio.wait(tasks.values(), timeout=self.timeout_seconds)
        found: dict[int, Facts] = {}
        for key, task in tasks.items():
            if not task.done():
                task.cancel()
                ENRICHMENT_FAILURES.labels(source=source, reason="timeout").inc()
                found[key] = NOT_ENRICHED
            elif task.exception() is not None:
                found[key] = self._failed(source, task.exception())
            else:
                found[key] = task.result() or NOT_ENRICHED
        return found

    @staticmethod
    def _failed(source: Source, exc: BaseException | None) -> Facts:
        if isinstance(exc, CrmUnavailable):
            ENRICHMENT_FAILURES.labels(source=source, reason=exc.reason).inc()
            log.warning("%s look-up failed (%s): %s", source, exc.reason, exc)
        else:
            ENRICHMENT_FAILURES.labels(source=source, reason="error").inc()
            log.error("%s look-up failed unexpectedly: %s", source, type(exc).__name__)
        return NOT_ENRICHED

    def _enrich(self, source: Source, item: Item, facts: Facts) -> list[Item]:
        """Enrich the item in place; the consent flags the look-up saw come back as items of their own."""
        assert item.event is not None  # only items with events are asked about
        ENRICHMENT.labels(source=source, result="enriched" if facts.enriched else "not_enriched").inc()
        if not facts.enriched:
            item.note = NOT_ENRICHED_NOTE
        try:
            item.event = enrich_event(item.event, facts, self.recent)
        except ValidationError as exc:
            log.warning("%s gave a value the event cannot carry, kept the webhook's: %s", source, describe(exc))
            item.event = enrich_event(item.event, NOT_ENRICHED, self.recent)
        touch = item.event
        return [
            Item.touch(
                item.index,
                consent_event(flag, source, touch.tenant, touch.contact_id, touch.sender_id, touch.received_at),
            )
            for flag in facts.consent
        ]
