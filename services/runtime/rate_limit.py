"""Token buckets per caller: one noisy tenant (ingestion) or API key (scoring's check) cannot starve the others."""

import math
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class TokenBuckets:
    """`rate` events per second per caller (a tenant, a key's name), bursts up to `burst`; all or nothing."""

    def __init__(self, rate: float, burst: int, max_tenants: int = 10_000) -> None:
        self.rate = rate
        self.burst = burst
        self.max_tenants = max_tenants
        self._buckets: dict[str, _Bucket] = {}

    def take(self, costs: Mapping[str, int], now: float) -> int | None:
        """None when every tenant could pay (and paid); else the seconds until they could, for `Retry-After`."""
        buckets = {tenant: self._refilled(tenant, now) for tenant in costs}
        # A batch larger than the burst could never pass; a full bucket admits it.
        owed = {tenant: min(cost, self.burst) for tenant, cost in costs.items()}
        short = [owed[tenant] - bucket.tokens for tenant, bucket in buckets.items() if bucket.tokens < owed[tenant]]
        if short:
            return max(1, math.ceil(max(short) / self.rate))
        for tenant, bucket in buckets.items():
            bucket.tokens -= owed[tenant]
        return None

    def _refilled(self, tenant: str, now: float) -> _Bucket:
        bucket = self._buckets.get(tenant)
        if bucket is None:
            if len(self._buckets) >= self.max_tenants:
                self._forget_full(now)
            bucket = self._buckets[tenant] = _Bucket(float(self.burst), now)
        bucket.tokens = min(float(self.burst), bucket.tokens + max(0.0, now - bucket.updated) * self.rate)
        bucket.updated = now
        return bucket

    def _forget_full(self, now: float) -> None:
        """A bucket that has refilled is the same as no bucket at all; past that, the longest-known tenant goes."""
        for tenant, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.rate >= self.burst:
                del self._buckets[tenant]
        if len(self._buckets) >= self.max_tenants:
            del self._buckets[next(iter(self._buckets))]
