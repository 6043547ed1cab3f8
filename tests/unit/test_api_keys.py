"""The API keys file: what a bad one says, how a key is found, and rotation while the service runs."""

import logging
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from services.runtime.api_keys import ApiKeysFileError, key_hash, load_key_ring, parse_key_ring
from services.runtime.api_keys_file import ApiKeysFile
from tests.harness.api_keys import CallerKey, write_keys_file

OPS = CallerKey("ops")
ACME = CallerKey("acme-app", tenant="acme", scopes=("check",))


def entries(*changes: dict[str, object]) -> list[dict[str, object]]:
    """The two keys' entries, the second one changed by each of `changes`."""
    second = ACME.entry()
    for change in changes:
        second |= change
    return [OPS.entry(), second]


def test_the_hash_is_what_sha256sum_prints() -> None:
    sha256sum = shutil.which("sha256sum")
    assert sha256sum is not None
    printed = subprocess.run([sha256sum], input=b"rg_demo", capture_output=True, check=True).stdout.split()[0]
    assert key_hash("rg_demo") == "sha256:" + printed.decode()


def test_a_listed_key_is_found_and_anything_else_is_not() -> None:
    ring = parse_key_ring(entries())
    assert ring.find(ACME.key) == parse_key_ring(entries()).keys[1]
    assert ring.find(OPS.key) is not None
    assert ring.find(ACME.key + "x") is None
    assert ring.find("") is None
    assert ring.find(ACME.entry()["hash"]) is None, "the hash itself is no key"  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"scopes": ["check", "delete"]}, "entry 2 (acme-app): scopes: unknown scope 'delete'"),
        ({"scopes": []}, "entry 2 (acme-app): scopes: "),
        ({"hash": "md5:abc"}, "entry 2 (acme-app): hash: String should match pattern"),
        ({"tenant": "acme corp"}, "entry 2 (acme-app): tenant: String should match pattern"),
        ({"name": "ops"}, "entry 2 (ops): name: also used by entry 1"),
        ({"hash": OPS.entry()["hash"]}, "entry 2 (acme-app): hash: the same key as entry 1 (ops)"),
        ({"key": "rg_plain"}, "entry 2 (acme-app): key: Extra inputs are not permitted"),
    ],
)
def test_a_bad_entry_is_named_with_its_field(change: dict[str, object], message: str) -> None:
    with pytest.raises(ApiKeysFileError) as raised:
        parse_key_ring(entries(change))
    assert str(raised.value).startswith(f"API_KEYS_FILE: {message}")


def test_a_missing_field_is_named() -> None:
    second = ACME.entry()
    del second["scopes"]
    with pytest.raises(ApiKeysFileError, match=r"^API_KEYS_FILE: entry 2 \(acme-app\): scopes: Field required$"):
        parse_key_ring([OPS.entry(), second])


def test_a_file_that_is_not_a_list_or_not_there_is_refused(tmp_path: Path) -> None:
    (tmp_path / "keys.yaml").write_text(yaml.safe_dump({"ops": OPS.entry()}))
    with pytest.raises(ApiKeysFileError, match=r"must be a list of \{name, tenant, scopes, hash\}"):
        load_key_ring(tmp_path / "keys.yaml")
    with pytest.raises(ApiKeysFileError, match="cannot read"):
        load_key_ring(tmp_path / "absent.yaml")


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_changed_file_is_picked_up_within_a_second(tmp_path: Path) -> None:
    clock = Clock()
    path = write_keys_file(tmp_path / "keys.yaml", [OPS])
    keys = ApiKeysFile(path, clock=clock)
    rotated = CallerKey("ops")
    write_keys_file(path, [rotated])
    clock.now += 0.5
    assert keys.current().find(OPS.key) is not None, "the file is looked at once a second at most"
    clock.now += 0.5
    assert keys.current().find(rotated.key) is not None
    assert keys.current().find(OPS.key) is None


def test_a_broken_file_keeps_the_old_keys_and_says_why(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    clock = Clock()
    path = write_keys_file(tmp_path / "keys.yaml", [OPS])
    keys = ApiKeysFile(path, clock=clock)
    path.write_text(yaml.safe_dump(entries({"scopes": ["delete"]})))
    clock.now += 1
    with caplog.at_level(logging.ERROR):
        assert keys.current().find(OPS.key) is not None
    assert "previous keys stay in force" in caplog.text
    assert "entry 2 (acme-app): scopes: unknown scope 'delete'" in caplog.text
    assert not keys.reload(), "still broken"
    write_keys_file(path, [OPS, ACME])
    assert keys.reload()
    assert keys.current().find(ACME.key) is not None


def test_the_log_names_keys_but_never_shows_them(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = write_keys_file(tmp_path / "keys.yaml", [OPS, ACME])
    with caplog.at_level(logging.DEBUG):
        ApiKeysFile(path).reload()
    assert "ops (*), acme-app (acme)" in caplog.text
    assert OPS.key not in caplog.text
    assert ACME.key not in caplog.text


def test_the_compose_demo_keys_file_admits_the_documented_demo_key() -> None:
    root = Path(__file__).resolve().parents[2]
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())["services"]["scoring"]
    assert compose["environment"]["API_KEYS_FILE"] == "/app/deploy/api-keys/demo.yaml"
    assert "./deploy/api-keys:/app/deploy/api-keys:ro" in compose["volumes"]
    ring = load_key_ring(root / "deploy" / "api-keys" / "demo.yaml")
    operator = ring.find("rg_demo_compose_not_for_production")
    assert operator is not None
    assert operator.tenant == "*"
    assert "rg_demo_compose_not_for_production" in (root / "README.md").read_text()
