"""Which CRMs can be asked, from the settings; and, once at start, what the others cannot see."""

import logging
import time

import httpx

from schemas import Source
from services.ingestion.enrichment.cache import LookupCache
from services.ingestion.enrichment.crm_api import CallWindow, CrmApi, StaticToken
from services.ingestion.enrichment.hubspot import HubSpotEnricher
from services.ingestion.enrichment.pipedrive import PipedriveEnricher
from services.ingestion.enrichment.recent import RecentSenders
from services.ingestion.enrichment.salesforce import SalesforceEnricher
from services.ingestion.enrichment.salesforce_token import SalesforceToken
from services.ingestion.enrichment.service import Enricher, Enrichment
from services.ingestion.settings import IngestionSettings

log = logging.getLogger("rapport_guard.ingestion.enrichment")

MAX_CACHED_RECORDS = 50_000
MAX_REMEMBERED_CONTACTS = 200_000
HUBSPOT_WINDOW_SECONDS = 10.0

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
    timeout = httpx.Timeout(settings.enrichment_timeout_seconds)
    enrichers: dict[Source, Enricher] = {}
    clients: list[httpx.AsyncClient] = []

    def cache() -> LookupCache[str, object]:
        return LookupCache(settings.enrichment_cache_ttl_seconds, MAX_CACHED_RECORDS, time.monotonic)

    if settings.hubspot_access_token is not None:
        token = StaticToken({"authorization": f"Bearer {settings.hubspot_access_token.get_secret_value()}"})
        client = httpx.AsyncClient(base_url=settings.hubspot_api_base_url, timeout=timeout)
        clients.append(client)
        window = CallWindow(settings.hubspot_requests_per_10_seconds, HUBSPOT_WINDOW_SECONDS)
        enrichers[Source.HUBSPOT] = HubSpotEnricher(CrmApi("HubSpot", client, token, window), cache())
    if settings.salesforce_client_id is not None and settings.salesforce_client_secret is not None:
        base_url = settings.salesforce_api_base_url or settings.salesforce_instance_url
        assert base_url is not None  # the settings refuse client credentials without one
        client = httpx.AsyncClient(base_url=base_url, timeout=timeout)
        clients.append(client)
        oauth = SalesforceToken(settings.salesforce_client_id, settings.salesforce_client_secret)
        enrichers[Source.SALESFORCE] = SalesforceEnricher(CrmApi("Salesforce", client, oauth), cache())
    if settings.pipedrive_api_token is not None:
        token = StaticToken({"x-api-token": settings.pipedrive_api_token.get_secret_value()})
        client = httpx.AsyncClient(base_url=settings.pipedrive_api_base_url, timeout=timeout)
        clients.append(client)
        enrichers[Source.PIPEDRIVE] = PipedriveEnricher(CrmApi("Pipedrive", client, token), cache())
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
            log.info("%s enrichment on: engagements, contacts and owners are read from its API", source)
