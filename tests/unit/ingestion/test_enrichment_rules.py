"""The pure parts of enrichment: phone numbers, the look-up cache, the call window, reply attribution."""

import asyncio
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from schemas import Channel, Direction
from services.ingestion.enrichment.cache import LookupCache
from services.ingestion.enrichment.crm_api import CallWindow, retry_after_seconds
from services.ingestion.enrichment.facts import Facts, enrich_event
from services.ingestion.enrichment.phones import LabelledNumber, classify, number_timezone, phone_channel
from services.ingestion.enrichment.recent import RecentSenders
from tests.harness.events import event

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def test_the_crms_label_of_the_dialled_number_decides_work_or_cell() -> None:
    numbers = [
        LabelledNumber("+49 30 1234 5678", Channel.PHONE_WORK),
        LabelledNumber("+49 151 2345 6789", Channel.PHONE_MOBILE),
    ]
    assert phone_channel("030 12345678", numbers) is Channel.PHONE_WORK
    assert phone_channel("+49 (151) 234-56789", numbers) is Channel.PHONE_MOBILE
    # a number the CRM does not know: the numbering plan decides
    assert phone_channel("+44 7911 123456", numbers) is Channel.PHONE_MOBILE
    assert classify("+49 30 9999 0000") is Channel.PHONE_WORK
    assert classify("+1 415 555 0142") is None  # US numbers do not tell fixed from mobile
    assert phone_channel(None, numbers) is None


def test_a_number_gives_a_time_zone_only_where_its_region_has_one() -> None:
    assert number_timezone(["+49 30 1234 5678"]) == "Europe/Berlin"
    assert number_timezone(["+7 495 123 45 67"]) == "Europe/Moscow"
    assert number_timezone(["not a number", "+1 (415) 555-0142"]) == "America/Los_Angeles"
    assert number_timezone(["+1 800 555 0100"]) is None  # toll-free: the whole of North America


async def test_the_cache_reloads_after_its_ttl_and_never_keeps_a_failure() -> None:
    now = [0.0]
    cache: LookupCache[str, int] = LookupCache(60, 10, lambda: now[0])
    calls = []

    async def load() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("CRM down")
        return len(calls)

    with pytest.raises(RuntimeError):
        await cache.get("c-1", load)
    assert await cache.get("c-1", load) == 2
    assert await cache.get("c-1", load) == 2
    now[0] = 61
    assert await cache.get("c-1", load) == 3


async def test_concurrent_requests_for_one_record_share_one_call() -> None:
    cache: LookupCache[str, int] = LookupCache(60, 10, lambda: 0.0)
    started = []

    async def load() -> int:
        started.append(1)
        await asyncio.sleep(0.05)
        return 7

    assert await asyncio.gather(*(cache.get("c-1", load) for _ in range(50))) == [7] * 50
    assert len(started) == 1


def test_the_call_window_admits_limit_calls_per_window() -> None:
    window = CallWindow(2, 10.0)
    for at in (0.0, 1.0):
        assert window.wait(at) == 0
        window.take(at)
    assert window.wait(5.0) == pytest.approx(5.0)
    assert window.wait(10.0) == 0


def test_retry_after_is_read_as_seconds_an_http_date_or_pipedrives_reset() -> None:
    assert retry_after_seconds(httpx.Headers({"retry-after": "7"}), 0) == 7
    assert retry_after_seconds(httpx.Headers({"x-ratelimit-reset": "2"}), 0) == 2
    date = httpx.Headers({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after_seconds(date, datetime(2015, 10, 21, 7, 27, 30, tzinfo=UTC).timestamp()) == 30
    assert retry_after_seconds(httpx.Headers(), 0) == 10


def test_a_reply_goes_to_the_thread_else_the_last_rep_else_the_owner() -> None:
    recent = RecentSenders(86400, 100, lambda: 0.0)
    reply = event(9, T0 + timedelta(days=3), sender="unattributed", direction=Direction.INBOUND)
    assert enrich_event(reply, Facts(owner_sender="owner-1"), recent).sender_id == "owner-1"
    enrich_event(event(1, T0, sender="rep-sam"), Facts(), recent)
    enrich_event(event(2, T0 + timedelta(days=1), sender="rep-lee"), Facts(), recent)
    enrich_event(event(3, T0 - timedelta(days=1), sender="rep-old"), Facts(), recent)  # late, older
    assert enrich_event(reply, Facts(owner_sender="owner-1"), recent).sender_id == "rep-lee"
    thread = Facts(answered_sender="rep-sam", owner_sender="owner-1")
    assert enrich_event(reply, thread, recent).sender_id == "rep-sam"


def test_the_last_rep_is_forgotten_after_its_ttl() -> None:
    now = [0.0]
    recent = RecentSenders(100, 100, lambda: now[0])
    enrich_event(event(1, T0, sender="rep-sam"), Facts(), recent)
    now[0] = 101
    reply = event(9, T0 + timedelta(days=1), sender="unattributed", direction=Direction.INBOUND)
    assert enrich_event(reply, Facts(), recent).sender_id == "unattributed"
