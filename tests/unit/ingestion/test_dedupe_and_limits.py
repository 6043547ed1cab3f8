"""Retries are remembered for the TTL and no longer; tenants are held to their rate."""

from services.ingestion.dedupe import MemoryDedupe, dedupe_key
from services.runtime.rate_limit import TokenBuckets

HOUR = 3600.0
TTL = 96 * HOUR


def test_keys_separate_source_tenant_and_event() -> None:
    keys = {dedupe_key("hubspot", "a", "1"), dedupe_key("generic", "a", "1"), dedupe_key("hubspot", "b", "1")}
    assert len(keys) == 3
    assert dedupe_key("hubspot", "a", "1") == dedupe_key("hubspot", "a", "1")


async def test_a_retry_within_96_hours_is_seen_and_after_it_is_not() -> None:
    store = MemoryDedupe(TTL, max_keys=10_000)
    await store.mark(["k1"], now=1_000_000.0)
    assert await store.seen(["k1", "k2"], now=1_000_000.0 + TTL - 1) == {"k1"}
    assert await store.seen(["k1"], now=1_000_000.0 + TTL + 2 * HOUR) == set()
    assert len(store) == 0


async def test_memory_stays_under_the_cap_by_forgetting_the_oldest_keys() -> None:
    store = MemoryDedupe(TTL, max_keys=1_000)
    for hour in range(5):
        await store.mark([f"h{hour}-{n}" for n in range(400)], now=hour * HOUR)
    assert len(store) == 1_000
    oldest_thousand_gone = await store.seen(["h0-0", "h1-399", "h2-199", "h2-200", "h4-399"], now=5 * HOUR)
    assert oldest_thousand_gone == {"h2-200", "h4-399"}


def test_rate_limit_admits_a_burst_then_asks_to_wait() -> None:
    limiter = TokenBuckets(rate=10, burst=20)
    assert limiter.take({"acme": 20}, now=0.0) is None
    assert limiter.take({"acme": 5}, now=0.0) == 1
    assert limiter.take({"acme": 5}, now=0.5) is None


def test_one_tenant_over_its_limit_does_not_slow_another() -> None:
    limiter = TokenBuckets(rate=1, burst=10)
    assert limiter.take({"noisy": 10}, now=0.0) is None
    assert limiter.take({"noisy": 10}, now=1.0) == 9
    assert limiter.take({"quiet": 10}, now=1.0) is None


def test_a_mixed_request_pays_for_all_tenants_or_none() -> None:
    limiter = TokenBuckets(rate=1, burst=10)
    assert limiter.take({"a": 10}, now=0.0) is None
    assert limiter.take({"a": 1, "b": 5}, now=0.0) is not None
    assert limiter.take({"b": 10}, now=0.0) is None


def test_a_batch_larger_than_the_burst_passes_on_a_full_bucket() -> None:
    limiter = TokenBuckets(rate=1, burst=10)
    assert limiter.take({"a": 500}, now=0.0) is None


def test_tenant_buckets_are_bounded() -> None:
    limiter = TokenBuckets(rate=1, burst=10, max_tenants=10)
    for n in range(50):
        limiter.take({f"t{n}": 1}, now=float(n))
    assert len(limiter._buckets) <= 10
