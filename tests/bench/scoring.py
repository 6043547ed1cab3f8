"""`make bench`, scoring part: throughput against a raw Kafka passthrough, and bytes of state per pair.

On one Apache Kafka broker started here (or the embedded one without Java; KAFKA_IMPL as in the tests):
  1. the same events are read by a raw aiokafka consume→produce passthrough and by the scorer (the service's
     own stream, processor and store, in this process), each in its own consumer group; events/s of each and
     the ratio, once with the memory store and once with Redis (a real redis-server started here); then the
     scorer's microseconds per event in each part of its batch cycle (parsing, loading state, judging and
     placing, publishing and waiting for the acks, saving state, and the rest), so a missed target shows where;
  2. bytes of state per tracked pair at 100k and 1M pairs: the memory store's traced allocations, and Redis'
     `used_memory`, each divided by the number of pairs.
Speeds are printed as ratios against the baseline measured in the same run, never asserted in tests.
Run: `python -m tests.bench.scoring` (`make bench`); `--without-engine` prints the ceiling the rest of the cycle sets
(`tests/bench/without_engine.py`). Takes a few minutes.
"""

import argparse
import asyncio
import gc
import random
import secrets
import sys
import time
import tracemalloc
from collections import defaultdict
from collections.abc import Callable, Coroutine, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from prometheus_client import REGISTRY

from schemas import Alert, Channel, Direction, Kind, Outcome, OutreachEvent, PairScore, Source
from services.runtime.broker import build_broker
from services.runtime.clock import utc_now
from services.runtime.topics import create_topics
from services.scoring.engine.touches import Touch
from services.scoring.main import tune_garbage_collection
from services.scoring.policy.file import PolicySet
from services.scoring.processing.processor import Outputs, Processor
from services.scoring.recovery.factory import open_recovery
from services.scoring.recovery.state_machine import Batch
from services.scoring.settings import ScoringSettings
from services.scoring.state.factory import open_store
from services.scoring.state.history import ContactState, PairHistory
from services.scoring.state.memory_store import MemoryStore
from services.scoring.state.redis_store import RedisStore
from services.scoring.stream.consumer import Record, ScoringStream
from services.scoring.stream.outputs import MAX_BATCH_BYTES, ProducerSender, Sender
from tests.bench.without_engine import reach, without_engine
from tests.harness.brokers import new_broker
from tests.harness.redis_server import RedisServer

PARTITIONS = 3
JUDGING = "judging, placing"
STORE_TIME = "rapport_scoring_store_operation_duration_seconds"
BATCH = 500
TARGETS = {"memory": 0.3, "redis": 0.25}
BYTES_TARGET = 1024


def workload(events: int, contacts: int, seed: int = 7) -> list[tuple[bytes, bytes]]:
    """(key, value) pairs: each contact gets weeks of mixed outreach, in event order, from one sender (70 % of
    contacts), two (20 %) or three (10 %), so that the team rule is judged for some contacts and not for most;
    a touch every 1-10 days, three in ten of them from the contact, so most relationships stay fine and some
    do not (the run prints how many alerts that made)."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=150)
    senders = [rng.choices([1, 2, 3], weights=[70, 20, 10])[0] for _ in range(contacts)]
    elapsed = [0] * contacts
    records = []
    for n in range(events):
        contact = n % contacts
        elapsed[contact] += rng.randint(1, 10) * 24 * 60 + rng.randint(-300, 300)
        direction = Direction.INBOUND if rng.random() < 0.3 else Direction.OUTBOUND
        channel = rng.choice([Channel.EMAIL] * 4 + [Channel.PHONE_WORK, Channel.PHONE_MOBILE, Channel.LINKEDIN])
        event = OutreachEvent(
            event_id=f"bench-{n}",
            tenant="bench",
            source=Source.GENERIC,
            occurred_at=start + timedelta(minutes=elapsed[contact]),
            received_at=start + timedelta(minutes=elapsed[contact] + 1),
            sender_id=f"rep-{contact % 97 + rng.randrange(senders[contact])}",
            contact_id=f"contact-{contact}",
            contact_timezone="Europe/Berlin",
            channel=channel,
            direction=direction,
            kind=Kind.REPLY if direction is Direction.INBOUND else Kind.CALL if "phone" in channel else Kind.MESSAGE,
            outcome=Outcome.NO_ANSWER if "phone" in channel and direction is Direction.OUTBOUND else None,
        )
        records.append((event.contact_key.encode(), event.model_dump_json().encode()))
    return records


async def produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False, linger_ms=5)
    await producer.start()
    try:
        futures = [await producer.send(topic, value, key=key) for key, value in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def committed(admin: AIOKafkaAdminClient, group: str) -> int:
    try:
        offsets = await admin.list_consumer_group_offsets(group)
    except KafkaError:
        return 0  # the group (or the offsets topic) does not exist yet
    return sum(meta.offset for meta in offsets.values() if meta.offset > 0)


@dataclass
class Clock:
    """Starts at the first consumed batch (not at group join), stops when the group has committed everything."""

    started: float | None = None

    def start(self) -> None:
        if self.started is None:
            self.started = time.perf_counter()


async def timed(
    bootstrap: str, group: str, count: int, clock: Clock, run: Callable[[], Coroutine[Any, Any, None]]
) -> float:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    task = asyncio.create_task(run())
    try:
        deadline = time.monotonic() + 600
        while await committed(admin, group) < count:
            if task.done():
                task.result()
                raise RuntimeError(f"{group} stopped before committing {count} events")
            if time.monotonic() > deadline:
                raise TimeoutError(f"{group} did not finish in 600 s")
            await asyncio.sleep(0.05)
        finished = time.perf_counter()
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await admin.close()
    assert clock.started is not None
    return count / (finished - clock.started)


async def passthrough(bootstrap: str, source: str, sink: str, count: int) -> float:
    """The baseline: consume a batch, produce every record unchanged, wait for the acks, commit."""
    group = f"bench-passthrough-{secrets.token_hex(3)}"
    clock = Clock()

    async def run() -> None:
        consumer = AIOKafkaConsumer(
            source, bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False, auto_offset_reset="earliest"
        )
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=False)
        await consumer.start()
        await producer.start()
        try:
            while True:
                batches = await consumer.getmany(timeout_ms=100, max_records=BATCH)
                records = [record for batch in batches.values() for record in batch]
                if not records:
                    continue
                clock.start()
                futures = [await producer.send(sink, record.value, key=record.key) for record in records]
                await asyncio.gather(*futures)
                await consumer.commit()
        finally:
            await producer.stop()
            await consumer.stop()

    return await timed(bootstrap, group, count, clock, run)


class Parts:
    """Wall seconds the scorer spent in each part of its batch cycle, summed over a run."""

    def __init__(self) -> None:
        self.seconds: defaultdict[str, float] = defaultdict(float)

    @contextmanager
    def timing(self, part: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[part] += time.perf_counter() - started


class TimedProcessor(Processor):
    def __init__(self, processor: Processor, parts: Parts) -> None:
        super().__init__(processor.store, processor.policies)
        self.parts = parts

    async def process(self, events: Sequence[OutreachEvent], now: datetime) -> tuple[Outputs, dict[str, ContactState]]:
        with self.parts.timing(JUDGING):
            return await super().process(events, now)

    async def save(self, states: Mapping[str, ContactState]) -> None:
        with self.parts.timing("saving state"):
            await super().save(states)


class TimedStream(ScoringStream):
    """The service's stream, timing the parts it does itself (parsing, publishing and waiting for the acks). The
    clock starts when the first batch is scored, not when the group is joined and the partitions taken over."""

    def __init__(self, clock: Clock, parts: Parts, *args: Any, sender: Sender) -> None:
        self.run_clock = clock
        self.parts = parts
        super().__init__(*args, sender=sender)

    async def _score(self, batch: Batch) -> None:
        self.run_clock.start()
        await super()._score(batch)

    async def _parse(self, records: Sequence[Record], now: datetime) -> tuple[list[OutreachEvent], list[Record]]:
        with self.parts.timing("parsing events"):
            return await super()._parse(records, now)

    async def _publish(self, scores: list[tuple[str, PairScore]], alerts: list[Alert]) -> None:
        with self.parts.timing("publishing, acks"):
            await super()._publish(scores, alerts)


def _store_seconds(operation: str) -> float:
    """The state store's time in `operation` so far, from the service's own metric."""
    return REGISTRY.get_sample_value(f"{STORE_TIME}_sum", {"operation": operation}) or 0.0


def per_event(parts: Parts, wall: float, loading: float, count: int) -> dict[str, float]:
    """Microseconds per event of each part: the timed ones, the store's reads (taken out of the processor's time,
    from the store's own metric), and the rest (polling, FastStream's dispatch, recovery's bookkeeping, committing
    the offsets, counting the metrics)."""
    seconds = dict(parts.seconds)
    seconds[JUDGING] -= loading
    seconds["loading state"] = loading
    seconds["the rest: poll, commit, FastStream, metrics"] = max(0.0, wall - sum(parts.seconds.values()))
    return {part: spent / count * 1e6 for part, spent in seconds.items()}


async def through_scorer(bootstrap: str, source: str, store_url: str, count: int) -> tuple[float, dict[str, float]]:
    """The scoring service's own stream, processor and (metered) store, in this process: events/s, and the
    microseconds per event each part of the batch cycle took."""
    run_id = secrets.token_hex(3)
    settings = ScoringSettings(
        kafka_bootstrap_servers=bootstrap,
        topic_events=source,
        topic_scores=f"bench.scores.{run_id}",
        topic_alerts=f"bench.alerts.{run_id}",
        topic_events_dlq=f"bench.dlq.{run_id}",
        scoring_group_id=f"bench-scorer-{run_id}",
        scoring_batch_max_records=BATCH,
        state_store_url=store_url,
        identity_hmac_key="bench-identity-key-0123456789",
    )
    await create_topics(
        bootstrap, [settings.topic_scores, settings.topic_alerts, settings.topic_events_dlq], PARTITIONS
    )
    clock, parts = Clock(), Parts()
    store = open_store(settings)
    broker = build_broker(settings, "bench", MAX_BATCH_BYTES)
    processor = Processor(store, PolicySet())
    TimedStream(
        clock,
        parts,
        broker,
        settings,
        TimedProcessor(processor, parts),
        utc_now,
        open_recovery(settings, processor, utc_now),
        sender=ProducerSender(broker, "bench"),
    )
    loading = _store_seconds("load")

    async def run() -> None:
        await broker.start()
        try:
            await asyncio.Event().wait()
        finally:
            await broker.stop()
            await store.close()

    rate = await timed(bootstrap, settings.scoring_group_id, count, clock, run)
    return rate, per_event(parts, count / rate, _store_seconds("load") - loading, count)


def pair_state(n: int, touches: int) -> ContactState:
    """A typical tracked pair: a sender's few weeks of outreach and a reply or two."""
    start = 1_790_000_000 + n * 60
    history = [
        Touch.of(
            at=start + k * 2 * 86400,
            key=(n << 8) | k,
            channel=Channel.EMAIL if k % 3 else Channel.PHONE_WORK,
            direction=Direction.INBOUND if k % 4 == 3 else Direction.OUTBOUND,
            kind=Kind.REPLY if k % 4 == 3 else Kind.MESSAGE,
        )
        for k in range(touches)
    ]
    return ContactState(pairs={f"rep-{n % 50}": PairHistory(touches=history)}, timezone="Europe/Berlin")


def memory_bytes_per_pair(pairs: int, touches: int) -> float:
    store = MemoryStore(expire_after=10**9)
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for first in range(0, pairs, 10_000):
        states = {f"bench:contact-{n}": pair_state(n, touches) for n in range(first, min(pairs, first + 10_000))}
        asyncio.run(store.save_many(states))
        del states
    gc.collect()
    used = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert len(store) == pairs
    return used / pairs


async def redis_bytes_per_pair(url: str, pairs: int, touches: int) -> float:
    store = RedisStore(url, expire_after=10**7)
    try:
        await store.client.flushall()
        before = int((await store.client.info("memory"))["used_memory"])
        for first in range(0, pairs, 5_000):
            states = {f"bench:contact-{n}": pair_state(n, touches) for n in range(first, min(pairs, first + 5_000))}
            await store.save_many(states)
        after = int((await store.client.info("memory"))["used_memory"])
        assert await store.client.dbsize() == pairs
        await store.client.flushall()
        return (after - before) / pairs
    finally:
        await store.close()


def verdict(ok: bool) -> str:
    return "meets target" if ok else "BELOW TARGET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=30_000)
    parser.add_argument("--contacts", type=int, default=3_000)
    parser.add_argument("--pairs", type=int, nargs="*", default=[100_000, 1_000_000])
    parser.add_argument("--touches", type=int, default=8, help="touches per pair in the state-size measurement")
    parser.add_argument(
        "--without-engine",
        action="store_true",
        help="replace the engine's judgements by a constant one: the ceiling the rest of the cycle sets",
    )
    args = parser.parse_args()

    tune_garbage_collection()  # as the scoring service does; it applies to the passthrough too
    broker = new_broker()
    redis = RedisServer(durable=False)
    print(f"starting {broker.name} and redis-server …", flush=True)
    broker.start()
    redis.start()
    try:
        bootstrap = broker.bootstrap
        source, sink = "bench.events", "bench.passthrough"
        asyncio.run(create_topics(bootstrap, [source, sink], PARTITIONS))
        records = workload(args.events, args.contacts)
        asyncio.run(produce(bootstrap, source, records))
        print(f"{args.events} events for {args.contacts} contacts on {PARTITIONS} partitions\n", flush=True)

        print("throughput (events/s, consume → score → produce → commit)")
        if args.without_engine:
            print("  WITHOUT THE ENGINE (a constant judgement): the ceiling of the rest of the cycle, not the scorer's")
        for store_name, url in (("memory", "memory://"), ("redis", redis.url)):
            baseline = asyncio.run(passthrough(bootstrap, source, sink, args.events))
            with without_engine(args.without_engine):
                scored, parts = asyncio.run(through_scorer(bootstrap, source, url, args.events))
            ratio = scored / baseline
            met = ratio >= TARGETS[store_name]
            print(
                f"  {store_name:<7} passthrough {baseline:8.0f}  scorer {scored:8.0f}  ratio {ratio:5.0%}"
                f"  (target ≥ {TARGETS[store_name]:.0%}: {(reach if args.without_engine else verdict)(met)})",
                flush=True,
            )
            print(
                f"          scorer's time per event {1e6 / scored:.0f} µs (passthrough {1e6 / baseline:.0f} µs): "
                + " · ".join(f"{part} {spent:.0f}" for part, spent in sorted(parts.items(), key=lambda p: -p[1])),
                flush=True,
            )

        print(f"\nstate per tracked pair ({args.touches} touches each, one pair per contact)")
        for pairs in args.pairs:
            memory = memory_bytes_per_pair(pairs, args.touches)
            stored = asyncio.run(redis_bytes_per_pair(redis.url, pairs, args.touches))
            print(
                f"  {pairs:>9,} pairs: memory {memory:6.0f} B/pair ({verdict(memory <= BYTES_TARGET)}), "
                f"redis {stored:6.0f} B/pair ({verdict(stored <= BYTES_TARGET)})",
                flush=True,
            )
    finally:
        redis.destroy()
        broker.destroy()
    sys.exit(0)


if __name__ == "__main__":
    main()
