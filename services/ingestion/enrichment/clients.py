"""The HTTP clients and enrichers for the CRMs whose API credentials are set."""

import time

import httpx

from schemas import Source
from services.ingestion.enrichment.cache import LookupCache
from services.ingestion.enrichment.crm_api import CallWindow, CrmApi, StaticToken
from services.ingestion.enrichment.hubspot import HubSpotEnricher
from services.ingestion.enrichment.pipedrive import PipedriveEnricher
from services.ingestion.enrichment.salesforce import SalesforceEnricher
from services.ingestion.enrichment.salesforce_token import SalesforceToken
from services.ingestion.enrichment.service import Closable, Enricher
from services.ingestion.settings import IngestionSettings

MAX_CACHED_RECORDS = 50_000
HUBSPOT_WINDOW_SECONDS = 10.0


def crm_enrichers(settings: IngestionSettings) -> tuple[dict[Source, Enricher], list[Closable]]:
    timeout = httpx.Timeout(settings.enrichment_timeout_seconds)
    enrichers: dict[Source, Enricher] = {}
    clients: list[Closable] = []

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
    return enrichers, clients
