"""`make bench`, pre-send check part: requests/s and latency of `POST /v1/check` against a bare endpoint.

The scoring service runs alone as a real process (Redis store holding 100k contacts written here, a broker for
its stream); `wrk` (Debian's package) keeps 16 connections busy, first on a bare FastAPI endpoint in a process
of its own that answers a fixed check response, then on the check itself, each contact drawn at random. Each wrk
thread seeds its own generator: seeded alike, the two threads sent the same requests in step, so pairs of checks
of one contact arrived together and shared one store read, which real callers rarely do.
Printed: requests/s and p50/p99 of each, the ratio, and the goal (≥ 1,500 requests/s, p99 ≤ 20 ms).

    python -m tests.bench.check            (make bench)
"""

import argparse
import asyncio
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from schemas import Channel, Direction, Kind
from services.devstack.children import spawn
from services.devstack.ports import free_port
from services.devstack.processes import ServiceProcess
from services.runtime.settings import ServiceSettings
from services.runtime.topics import create_topics, topic_names
from services.scoring.engine.touches import Touch
from services.scoring.main import serve, tune_garbage_collection
from services.scoring.state.history import ContactState, PairHistory
from services.scoring.state.redis_store import RedisStore
from tests.harness.api_keys import operator_keys_file
from tests.harness.brokers import new_broker
from tests.harness.redis_server import RedisServer

CONTACTS = 100_000
CONNECTIONS = 16
TARGET_RPS = 1_500
TARGET_P99_MS = 20.0
DAY = 86_400
NOW = 1_795_000_000
"""2026-11-19: the stored histories end a few days before it."""

LUA = """
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("number", threads)
end
init = function(args)
  math.randomseed(os.time() * 100 + number)
end
request = function()
  local contact = math.random(0, {contacts} - 1)
  local channel = ({{"email", "phone_work", "phone_mobile"}})[math.random(1, 3)]
  local body = '{{"tenant": "bench", "sender": {{"id": "rep-' .. (contact % 50) .. '"}}, "contact": {{"id": "contact-'
    .. contact .. '"}}, "channel": "' .. channel .. '", "at": "2026-11-19T10:00:00Z"}}'
  return wrk.format("POST", "{path}", {{["content-type"] = "application/json"{auth}}}, body)
end
"""


def history(n: int) -> ContactState:
    """A sender's weeks of outreach to one contact, now and then a reply: what the check reads per request."""
    touches = [
        Touch.of(
            at=NOW - (12 - k) * 3 * DAY + n % 3600,
            key=(n << 8) | k,
            channel=[Channel.EMAIL, Channel.PHONE_WORK, Channel.PHONE_MOBILE][k % 3],
            direction=Direction.INBOUND if k % 5 == 4 else Direction.OUTBOUND,
            kind=Kind.REPLY if k % 5 == 4 else Kind.MESSAGE,
        )
        for k in range(12)
    ]
    return ContactState(pairs={f"rep-{n % 50}": PairHistory(touches=touches)}, timezone="Europe/Berlin")


async def fill(url: str, contacts: int) -> None:
    store = RedisStore(url, expire_after=10**7)
    try:
        for first in range(0, contacts, 5_000):
            await store.save_many(
                {f"bench:contact-{n}": history(n) for n in range(first, min(contacts, first + 5_000))}
            )
    finally:
        await store.close()


def bare_app() -> FastAPI:
    """The baseline: the same server stack answering a fixed body of the check's size, doing no work."""
    app = FastAPI()
    answer = {
        "decision": "warn",
        "level": "watch",
        "nuisance_score": 31.5,
        "rapport_score": 12.0,
        "tier": "acquaintance",
        "reasons": [{"rule": "unanswered_streak", "message": "x" * 120, "observed": 4, "limit": 3, "window": None}],
        "next_allowed_at": "2026-11-24T09:00:00Z",
        "sender_id": "rep-1",
        "contact_id": "contact-1",
    }

    @app.post("/v1/check")
    async def check() -> JSONResponse:
        return JSONResponse(answer)

    @app.get("/readyz")
    async def ready() -> JSONResponse:
        return JSONResponse({"status": "ready"})

    return app


def serve_bare(port: int) -> None:
    tune_garbage_collection()
    serve(bare_app(), "127.0.0.1", port)


@dataclass
class Load:
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_us: float
    """The server process's CPU time per answered request: what the machine's other load cannot inflate much."""


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _millis(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def drive(url: str, seconds: int, workdir: Path, api_key: str | None, server_pid: int) -> Load:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit("wrk is missing: `make bench` installs it (Debian package wrk)")
    auth = f', ["authorization"] = "Bearer {api_key}"' if api_key else ""
    script = workdir / "check.lua"
    script.write_text(LUA.format(contacts=CONTACTS, path="/v1/check", auth=auth))
    cpu_before = cpu_seconds(server_pid)
    run = subprocess.run(
        [wrk, "-t2", f"-c{CONNECTIONS}", f"-d{seconds}s", "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    )
    cpu = cpu_seconds(server_pid) - cpu_before
    out = run.stdout
    answered = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    p50 = _millis(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    p99 = _millis(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))  # type: ignore[union-attr]
    failed = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    return Load(rate, p50, p99, int(failed.group(1)) if failed else 0, cpu / max(1, answered) * 1e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--serve-bare", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=int, default=10, help="length of each load run")
    args = parser.parse_args()
    if args.serve_bare:
        serve_bare(args.serve_bare)
        return
    broker, redis = new_broker(), RedisServer(durable=False)
    workdir = Path(tempfile.mkdtemp(prefix="rg-bench-check-"))
    print(f"starting {broker.name} and redis-server, writing {CONTACTS:,} contacts …", flush=True)
    broker.start()
    redis.start()
    operator, keys_file = operator_keys_file(workdir)
    env = {
        "API_KEYS_FILE": str(keys_file),
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap,
        "STATE_STORE_URL": redis.url,
        "IDENTITY_HMAC_KEY": secrets.token_hex(32),
        "LOG_LEVEL": "WARNING",
    }
    scoring = ServiceProcess("scoring", free_port(), env, workdir / "scoring.log")
    bare_port = free_port()
    bare = None
    try:
        asyncio.run(create_topics(broker.bootstrap, topic_names(ServiceSettings()), partitions=3))
        asyncio.run(fill(redis.url, CONTACTS))
        scoring.start()
        bare = spawn(
            [sys.executable, "-m", "tests.bench.check", "--serve-bare", str(bare_port)],
            env={**os.environ},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        scoring.wait_ready()
        ServiceProcess("bare", bare_port, {}, workdir / "bare.log", bare).wait_ready()
        bare_url, check_url = f"http://127.0.0.1:{bare_port}", scoring.url
        assert scoring.process is not None
        drive(bare_url, 2, workdir, None, bare.pid)
        drive(check_url, 2, workdir, operator.key, scoring.process.pid)
        baseline = drive(bare_url, args.seconds, workdir, None, bare.pid)
        measured = drive(check_url, args.seconds, workdir, operator.key, scoring.process.pid)
        report(baseline, measured)
    except BaseException:
        print(f"bench failed; logs kept in {workdir}", file=sys.stderr)
        raise
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    finally:
        scoring.stop()
        if bare is not None:
            bare.terminate()
            bare.wait(15)
        redis.destroy()
        broker.destroy()


def report(baseline: Load, measured: Load) -> None:
    print(f"pre-send check: {CONNECTIONS} connections (wrk), {CONTACTS:,} contacts in the store (Redis)")
    for label, load in (("bare endpoint (fixed answer)", baseline), ("scoring POST /v1/check", measured)):
        print(
            f"  {label:30} {load.requests_per_second:8.0f} requests/s  p50 {load.p50_ms:6.1f} ms"
            f"  p99 {load.p99_ms:6.1f} ms  CPU {load.cpu_us:5.0f} µs/request  non-2xx {load.errors}"
        )
    met = measured.requests_per_second >= TARGET_RPS and measured.p99_ms <= TARGET_P99_MS
    print(
        f"  ratio check / bare: {measured.requests_per_second / baseline.requests_per_second:.0%}"
        f"  (goal ≥ {TARGET_RPS} requests/s with p99 ≤ {TARGET_P99_MS:.0f} ms: {'met' if met else 'NOT met'})"
    )
    print(
        f"  machine load average {' '.join(f'{value:.1f}' for value in os.getloadavg())}"
        " (2 cores: above 2, rates mislead; CPU per request less so)"
    )


if __name__ == "__main__":
    main()
