"""A real scoring process behind API keys: refusals, per-key rate limit, rotation by file change and by SIGHUP,
and a log that names keys without ever showing one."""

import os
import secrets
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from services.devstack.ports import free_port
from services.devstack.processes import ServiceProcess
from services.runtime.api_keys import key_hash
from tests.harness.api_keys import CallerKey, write_keys_file
from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker
from tests.harness.stack import own_topics, running_stack

CHECK = {"tenant": "acme", "sender": {"id": "rep-1"}, "contact": {"id": "c-1"}, "channel": "email"}
REALM = 'Bearer realm="rapport-guard"'


@dataclass
class Scorer:
    url: str
    keys_file: Path
    process: ServiceProcess

    def status(self, key: CallerKey | None, method: str = "GET", path: str = "/v1/pairs/acme/rep-1/c-1") -> int:
        headers = {} if key is None else key.headers
        body = CHECK if method == "POST" else None
        return httpx.request(method, self.url + path, json=body, headers=headers, timeout=10).status_code


def eventually(condition: Callable[[], bool], wait_seconds: float = 10) -> bool:
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()


@pytest.fixture(scope="module")
def scorer(kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scorer]:
    """One scorer on topics of its own (so it takes no partitions from other tests' scorers)."""
    name = f"keys-{secrets.token_hex(3)}"
    directory = tmp_path_factory.mktemp("scoring-keys")
    keys_file = write_keys_file(directory / "keys.yaml", KEYS)
    env = own_topics(name) | {
        "API_KEYS_FILE": str(keys_file),
        "LOG_LEVEL": "DEBUG",
        "CHECK_RATE_LIMIT_PER_SECOND": "0.1",
        "CHECK_RATE_LIMIT_BURST": "3",
    }
    with running_stack(kafka.bootstrap, directory, names=("scoring",), **env) as stack:
        yield Scorer(stack.url("scoring"), keys_file, stack.processes["scoring"])


OPS = CallerKey("ops")
ACME = CallerKey("acme-app", tenant="acme", scopes=("check", "read"))
GLOBEX = CallerKey("globex-app", tenant="globex")
BURSTY = CallerKey("acme-bursty", tenant="acme", scopes=("check",))
KEYS = [OPS, ACME, GLOBEX, BURSTY]


def test_refusals_over_http(scorer: Scorer) -> None:
    bare = httpx.get(f"{scorer.url}/v1/pairs/acme/rep-1/c-1", timeout=10)
    assert (bare.status_code, bare.headers["WWW-Authenticate"]) == (401, REALM)
    wrong = httpx.delete(f"{scorer.url}/v1/contacts/acme/c-1", headers=CallerKey("nobody").headers, timeout=10)
    assert (wrong.status_code, wrong.headers["WWW-Authenticate"]) == (401, f'{REALM}, error="invalid_token"')
    assert scorer.status(GLOBEX) == 403
    assert scorer.status(GLOBEX, "POST", "/v1/check") == 403
    assert scorer.status(ACME, "DELETE", "/v1/contacts/acme/c-1") == 403, "no erase scope"
    assert scorer.status(ACME) == 404, "allowed; nothing is kept"
    assert scorer.status(OPS, "DELETE", "/v1/contacts/globex/c-1") not in (401, 403)
    assert httpx.get(f"{scorer.url}/metrics", timeout=10).status_code == 200


def test_a_key_over_its_rate_gets_429_with_retry_after(scorer: Scorer) -> None:
    answers = [httpx.post(f"{scorer.url}/v1/check", json=CHECK, headers=BURSTY.headers, timeout=10) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert 1 <= int(answers[-1].headers["Retry-After"]) <= 10
    assert scorer.status(OPS, "POST", "/v1/check") == 200, "other keys are not held back"


def test_keys_rotate_without_restart_when_the_file_changes(scorer: Scorer) -> None:
    rotated = CallerKey(ACME.name, tenant="acme", scopes=ACME.scopes)
    write_keys_file(scorer.keys_file, [OPS, rotated, GLOBEX, BURSTY])
    assert eventually(lambda: scorer.status(rotated) == 404), "the new key is accepted within seconds"
    assert scorer.status(ACME) == 401, "the old key no longer is"
    scorer.keys_file.write_text("- name: broken\n  scopes: [delete]\n")
    time.sleep(1.5)
    assert scorer.status(rotated) == 404, "a broken file leaves the keys in force"
    assert "api keys not reloaded (the file changed), the previous keys stay in force" in scorer.process.log_tail()
    write_keys_file(scorer.keys_file, KEYS)
    assert eventually(lambda: scorer.status(ACME) == 404)


def test_sighup_reloads_the_file_the_stamp_alone_would_miss(scorer: Scorer) -> None:
    """The new file has the old one's inode, size and time, so only the signal can make the scorer read it."""
    replacement = CallerKey(GLOBEX.name, tenant="globex")
    before = os.stat(scorer.keys_file)
    entries = yaml.safe_load(scorer.keys_file.read_text())
    entries[2]["hash"] = replacement.entry()["hash"]
    scorer.keys_file.write_text(yaml.safe_dump(entries, sort_keys=False))
    os.utime(scorer.keys_file, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert os.stat(scorer.keys_file).st_size == before.st_size
    time.sleep(1.5)
    assert scorer.status(replacement, path="/v1/pairs/globex/r/c") == 401, "not read yet"
    assert scorer.process.process is not None
    os.kill(scorer.process.process.pid, signal.SIGHUP)
    assert eventually(lambda: scorer.status(replacement, path="/v1/pairs/globex/r/c") == 404)
    assert scorer.status(GLOBEX, path="/v1/pairs/globex/r/c") == 401
    assert "api keys reloaded (SIGHUP)" in scorer.process.log_tail()


def test_the_log_names_keys_and_never_shows_one(scorer: Scorer) -> None:
    stranger = CallerKey("stranger", key="rg_presented-but-unknown-" + secrets.token_hex(8))
    assert scorer.status(stranger) == 401
    assert scorer.status(ACME, path="/v1/pairs/globex/rep-1/c-1") == 403
    log = scorer.process.log_path.read_text()
    assert "key acme-app is for another tenant" in log
    assert "a key that is not in the keys file" in log
    assert "ops (*), acme-app (acme), globex-app (globex)" in log
    for key in [*KEYS, stranger]:
        assert key.key not in log
        assert key_hash(key.key) not in log


def test_the_scorer_refuses_to_start_without_a_usable_keys_file(tmp_path: Path) -> None:
    bad = tmp_path / "keys.yaml"
    bad.write_text(yaml.safe_dump([OPS.entry(), OPS.entry() | {"name": "ops-2", "scopes": ["check", "delete"]}]))
    for keys_file, message in (
        ("", "API_KEYS_FILE: not set"),
        (str(bad), "API_KEYS_FILE: entry 2 (ops-2): scopes: unknown scope 'delete'"),
    ):
        env = {"IDENTITY_HMAC_KEY": "k" * 32, "KAFKA_BOOTSTRAP_SERVERS": f"127.0.0.1:{free_port()}"}
        process = ServiceProcess("scoring", free_port(), env | {"API_KEYS_FILE": keys_file}, tmp_path / "scoring.log")
        process.start()
        assert process.process is not None
        assert process.process.wait(60) == 2
        assert message in process.log_path.read_text()
