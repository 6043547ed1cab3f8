"""`make run`'s API key: `DEMO_API_KEY` when set, else one made up for this run.

Only the key's sha256 is written (to `.run/api-keys.yaml`, the scorer's API_KEYS_FILE); the key itself is printed
once, in the banner, so the person running the demo can call the API. An API_KEYS_FILE set in the environment wins.
"""

import os
import secrets
import shlex
from dataclasses import dataclass
from pathlib import Path

import yaml

from services.runtime.api_keys import ANY_TENANT, Scope, key_hash


@dataclass(frozen=True)
class DemoKey:
    key: str | None
    """None when the keys file came from the environment: then there is no key to show."""
    keys_file: Path


def prepare_demo_key(run_dir: Path) -> DemoKey:
    configured = os.environ.get("API_KEYS_FILE")
    if configured:
        return DemoKey(None, Path(configured))
    key = os.environ.get("DEMO_API_KEY") or "rg_demo_" + secrets.token_urlsafe(24)
    entry = {"name": "demo-operator", "tenant": ANY_TENANT, "scopes": [s.value for s in Scope], "hash": key_hash(key)}
    keys_file = run_dir / "api-keys.yaml"
    keys_file.write_text(yaml.safe_dump([entry], sort_keys=False))
    keys_file.chmod(0o600)
    return DemoKey(key, keys_file)


def banner(demo: DemoKey, scoring_url: str) -> list[str]:
    if demo.key is None:
        return [f"API keys: {demo.keys_file} (API_KEYS_FILE)"]
    body = '{"tenant": "demo", "sender": {"id": "rep-sam"}, "contact": {"id": "contact-dana"}, "channel": "email"}'
    return [
        f"API key (operator: every tenant, every scope): {demo.key}",
        f"  its sha256 is in {demo.keys_file}; set DEMO_API_KEY to choose the key. Try:",
        f"  curl -s {scoring_url}/v1/check -H {shlex.quote('Authorization: Bearer ' + demo.key)} "
        f"-H 'content-type: application/json' -d {shlex.quote(body)}",
    ]
