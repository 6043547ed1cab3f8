"""API keys for tests: the one place that makes keys and writes them, hashed, into an API_KEYS_FILE."""

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from services.runtime.api_keys import ANY_TENANT, ApiKey, KeyRing, key_hash
from services.runtime.http_auth import ApiAuth

EVERY_SCOPE = ("check", "read", "erase")


@dataclass(frozen=True)
class CallerKey:
    name: str
    tenant: str = ANY_TENANT
    scopes: tuple[str, ...] = EVERY_SCOPE
    key: str = field(default_factory=lambda: "rg_" + secrets.token_urlsafe(24))

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}

    def entry(self) -> dict[str, object]:
        return {"name": self.name, "tenant": self.tenant, "scopes": list(self.scopes), "hash": key_hash(self.key)}


def write_keys_file(path: Path, keys: Iterable[CallerKey]) -> Path:
    """Written to a temporary name and renamed, as an operator (or Kubernetes) replaces a file."""
    draft = path.with_name(path.name + ".draft")
    draft.write_text(yaml.safe_dump([key.entry() for key in keys], sort_keys=False))
    draft.replace(path)
    return path


def operator_keys_file(directory: Path, name: str = "test-operator") -> tuple[CallerKey, Path]:
    """A keys file with one key that may do everything for every tenant."""
    operator = CallerKey(name)
    return operator, write_keys_file(directory / "api-keys.yaml", [operator])


def operator_auth() -> tuple[ApiAuth, dict[str, str]]:
    """Auth for a router mounted in a unit test: it knows one operator key; the headers carry that key."""
    operator = CallerKey("test-operator")
    keys = KeyRing([ApiKey.model_validate(operator.entry())])
    return ApiAuth(lambda: keys), operator.headers
