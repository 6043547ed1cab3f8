"""Which CRMs can be asked, from the settings; and, once at start, what the others cannot see."""

import logging
import time

from schemas import Source
from services.ingestion.enrichment.recent import RecentSenders
from services.ingestion.enrichment.service import Closable, Enricher, Enrichment
from services.ingestion.settings import IngestionSettings

log = logging.getLogger("rapport_guard.ingestion.enrichment")

MAX_REMEMBERED_CONTACTS = 200_000

BLIND_SPOTS = {
    Source.HUBSPOT: "HUBSPOT_ACCESS_TOKEN is unset: HubSpot replies stay 'unattributed' and every call counts as "
    "phone_work; no e-mail direction, time zone, booked meetings or e-mail opt-outs",
    Source.SALESFORCE: "SALESFORCE_CLIENT_ID/SECRET are unset: EmailMessage contacts stay pseudonymised addresses "
    "(apart from Tasks' WhoId), replies go to whoever logged them, every call counts as phone_work; no time zone, "
    "support cases, HasOptedOutOfEmail or DoNotCall",
    Source.PIPEDRIVE: "PIPEDRIVE_API_TOKEN is unset: every Pipedrive call counts as phone_work, replies go to the "
    "person's owner; no time zone or marketing status",
}


def build_enrichment(settings: IngestionSettings) -> Enrichment:
    enrichers: dict[Source, Enricher] = {}
    clients: list[Closable] = []
    if settings.crm_api_configured():
        # httpx (with its command line's imports) costs about a second of CPU at start: only when it is needed
        from services.ingestion.enrichment.clients import crm_enrichers

        enrichers, clients = crm_enrichers(settings)
    _say_what_is_not_seen(settings, enrichers)
    recent = RecentSenders(settings.enrichment_recent_sender_ttl_seconds, MAX_REMEMBERED_CONTACTS, time.monotonic)
    return Enrichment(enrichers, recent, settings.enrichment_timeout_seconds, clients)


def _say_what_is_not_seen(settings: IngestionSettings, enrichers: dict[Source, Enricher]) -> None:
    webhooks = {
        Source.HUBSPOT: settings.hubspot_client_secret is not None,
        Source.SALESFORCE: settings.salesforce_organization_id is not None,
        Source.PIPEDRIVE: settings.pipedrive_webhook_user is not None,
    }
    for source, receiving in webhooks.items():
        if receiving and source not in enrichers:
            log.warning("%s enrichment off: %s", source, BLIND_SPOTS[source])
        elif source in enrichers:
            log.info("%s enrichment on: its API is asked what the webhooks leave out", source)
