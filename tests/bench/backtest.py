"""`make bench`, backtest part: events per second of `rapport-guard backtest` on one core, and its peak memory.

Generates a history (1M events over 100k contacts by default; `--events` scales it down, contacts follow at one
per ten events) as a JSON Lines export of the generic webhook's items, then measures in this process:
  1. the baseline: parsing every line with `json.loads` (the least any reader of the file must do);
  2. reading the export as the backtest does (validation, pseudonyms, event-time sort);
  3. the replay through the scorer's processor on a memory store, and the summary.
Times are CPU seconds of this process (`time.process_time`): the rate on one core, whatever else the machine
runs. Prints events/s of each against the goal (>= 20 000 events/s end to end), the ratio to the baseline, and the
process's peak RSS against the goal (< 1 GiB). Nothing is asserted: speeds go here, never in tests.
Run: `python -m tests.bench.backtest [--events N] [--profile] [--without-engine]` (`tests/bench/without_engine.py`).
"""

import argparse
import json
import random
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from services.backtest.history import Labels
from services.backtest.reading import read_export
from services.backtest.replay import replay, tune_garbage_collection
from services.backtest.summary import summarize
from services.scoring.policy.file import PolicySet
from tests.bench.without_engine import reach, without_engine

GOAL_EVENTS_PER_SECOND = 20_000
GOAL_PEAK_BYTES = 1 << 30
KEY = b"bench-identity-key-0123456789"
CHANNELS = ["email"] * 6 + ["phone_work", "phone_mobile", "sms", "linkedin"]


def write_history(path: Path, events: int, contacts: int, seed: int = 11) -> int:
    """Contact after contact (so the backtest has to sort): one sender for 70 % of contacts, two for 20 %, three
    for 10 %; a touch every 1-10 days from a random start in a year ending months ago (nothing in the future, which
    the backtest would refuse), three in ten from the contact; every fifth contact known only by e-mail address
    (pseudonymised on reading)."""
    rng = random.Random(seed)
    start = datetime.now(UTC) - timedelta(days=300 + 12 * max(1, events // contacts))
    per_contact = events // contacts
    written = 0
    with path.open("w", encoding="utf-8") as file:
        for number in range(contacts):
            senders = [f"rep-{rng.randrange(200)}" for _ in range(rng.choices([1, 2, 3], weights=[70, 20, 10])[0])]
            contact = {"email": f"person{number}@example.org"} if number % 5 == 0 else {"id": f"c-{number}"}
            at = start + timedelta(days=rng.uniform(0, 300))
            count = per_contact + (1 if number < events - per_contact * contacts else 0)
            for seq in range(count):
                at += timedelta(days=rng.uniform(1, 10), hours=rng.uniform(0, 8))
                inbound = rng.random() < 0.3
                channel = rng.choice(CHANNELS)
                item = {
                    "event_id": f"b-{number}-{seq}",
                    "tenant": "bench",
                    "occurred_at": at.isoformat(),
                    "sender": {"id": rng.choice(senders)},
                    "contact": contact,
                    "channel": channel,
                    "direction": "inbound" if inbound else "outbound",
                    "kind": "reply" if inbound else ("call" if channel.startswith("phone") else "message"),
                }
                file.write(json.dumps(item) + "\n")
                written += 1
    return written


def baseline(path: Path) -> float:
    started = time.process_time()
    with path.open(encoding="utf-8") as file:
        for line in file:
            json.loads(line)
    return time.process_time() - started


def peak_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--profile", action="store_true", help="profile read and replay with pyinstrument")
    parser.add_argument(
        "--without-engine",
        action="store_true",
        help="replace the engine's judgements by a constant one: the ceiling reading and the processor set",
    )
    args = parser.parse_args()
    contacts = max(1, args.events // 10)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "history.jsonl"
        events = write_history(path, args.events, contacts)
        print(f"backtest bench: {events:,} events over {contacts:,} contacts (rates in events per CPU second)")
        if args.without_engine:
            print("  WITHOUT THE ENGINE (a constant judgement): the ceiling of the rest, not the backtest's figures")
        parse_seconds = baseline(path)
        profiler = None
        if args.profile:
            from pyinstrument import Profiler

            profiler = Profiler()
            profiler.start()
        started = time.process_time()
        labels = Labels(KEY, show_contacts=False)
        export = read_export(path, KEY, labels=labels)
        read_seconds = time.process_time() - started
        started = time.process_time()
        tune_garbage_collection()
        with without_engine(args.without_engine):
            result = replay(export.rows, PolicySet())
        replay_seconds = time.process_time() - started
        started = time.process_time()
        summary = summarize(export, result, labels, source=path.name, policy="built-in")
        summary_seconds = time.process_time() - started
        if profiler is not None:
            profiler.stop()
            print(profiler.output_text(unicode=False, color=False, show_all=False))
    total = read_seconds + replay_seconds + summary_seconds
    peak = peak_rss_bytes()
    rate = events / total
    met = rate >= GOAL_EVENTS_PER_SECOND
    goal = reach(met) if args.without_engine else ("met" if met else "NOT met")
    print(f"  baseline, json.loads per line: {events / parse_seconds:>10,.0f} events/s")
    print(f"  reading the export:            {events / read_seconds:>10,.0f} events/s")
    print(f"  replay through the processor:  {events / replay_seconds:>10,.0f} events/s")
    print(f"  summary:                       {summary_seconds:>10.1f} s")
    print(
        f"  backtest end to end:           {rate:>10,.0f} events/s = {parse_seconds / total:.1%} of the baseline; "
        f"goal >= {GOAL_EVENTS_PER_SECOND:,}: {goal}"
    )
    print(
        f"  peak memory (RSS):             {peak / 2**20:>10,.0f} MiB; goal < 1024 MiB: "
        f"{'met' if peak < GOAL_PEAK_BYTES else 'NOT met'}"
    )
    print(f"  {summary['counts']['alerts']:,} alerts, {summary['counts']['pairs_flagged']:,} pairs flagged")
    sys.stdout.flush()


if __name__ == "__main__":
    main()
