"""Dedupe keys keep events apart; tenants are held to their rate."""

from services.ingestion.dedupe import dedupe_key
from services.runtime.rate_limit import TokenBuckets


def test_keys_separate_source_tenant_and_event() -> None:
    keys = {dedupe_key("hubspot", "a", "1"), dedupe_key("generic", "a", "1"), dedupe_key("hubspot", "b", "1")}
    assert len(keys) == 3
    assert dedupe_key("hubspot", "a", "1") == dedupe_key("hubspot", "a", "1")


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
