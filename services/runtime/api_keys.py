"""The API keys file: who may call the HTTP API, for which tenant, with which scopes.

The file holds only the sha256 of each key, so a leaked file (or a Kubernetes Secret dumped in a support ticket)
lets nobody call the API. A presented key is hashed and compared with every listed hash in constant time.
"""

import hashlib
import hmac
from collections.abc import Sequence
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

ANY_TENANT = "*"
"""The tenant of an operator's key: it may act for every tenant."""


class Scope(StrEnum):
    CHECK = "check"
    READ = "read"
    ERASE = "erase"


class ApiKeysFileError(ValueError):
    """The keys file cannot be used; the message names the entry and the field."""


class ApiKey(BaseModel):
    """One entry of the keys file. `name` is what logs and metrics show; the key itself is never kept."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]
    tenant: Annotated[str, Field(min_length=1, max_length=200, pattern=r"^(\*|[^\s:*]+)$")]
    scopes: Annotated[frozenset[Scope], Field(min_length=1)]
    hash: Annotated[str, Field(pattern=r"^sha256:[0-9a-f]{64}$")]

    @field_validator("scopes", mode="before")
    @classmethod
    def _known_scopes(cls, scopes: Any) -> Any:
        if not isinstance(scopes, list):
            raise ValueError("must be a list such as [check, read]")
        for scope in scopes:
            if scope not in Scope.__members__.values():
                known = ", ".join(Scope)
                raise ValueError(f"unknown scope {scope!r} (known: {known})")
        return scopes

    def may_act_for(self, tenant: str) -> bool:
        return self.tenant in (ANY_TENANT, tenant)


def key_hash(key: str) -> str:
    """The form a key takes in the file: `sha256:<hex>`, the same as `printf %s "$KEY" | sha256sum`."""
    return "sha256:" + hashlib.sha256(key.encode()).hexdigest()


class KeyRing:
    """The keys of one version of the file."""

    def __init__(self, keys: Sequence[ApiKey]) -> None:
        self.keys = tuple(keys)
        self._digests = [(bytes.fromhex(key.hash.removeprefix("sha256:")), key) for key in self.keys]

    def find(self, presented: str) -> ApiKey | None:
        """The entry whose hash is the presented key's, comparing with every entry so the time says nothing."""
        digest = hashlib.sha256(presented.encode()).digest()
        found = None
        for listed, key in self._digests:
            if hmac.compare_digest(digest, listed):
                found = key
        return found


def load_key_ring(path: Path) -> KeyRing:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ApiKeysFileError(f"API_KEYS_FILE: cannot read {path}: {exc}") from None
    return parse_key_ring(raw)


def parse_key_ring(raw: Any) -> KeyRing:
    if not isinstance(raw, list):
        raise ApiKeysFileError("API_KEYS_FILE: must be a list of {name, tenant, scopes, hash} entries")
    keys: list[ApiKey] = []
    for number, entry in enumerate(raw, start=1):
        label = f"entry {number}"
        if isinstance(entry, dict) and isinstance(entry.get("name"), str):
            label += f" ({entry['name']})"
        try:
            key = ApiKey.model_validate(entry)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"][:1]) or "(entry)"
            message = str(error["msg"]).removeprefix("Value error, ")
            raise ApiKeysFileError(f"API_KEYS_FILE: {label}: {field}: {message}") from None
        for earlier, other in enumerate(keys, start=1):
            if other.name == key.name:
                raise ApiKeysFileError(f"API_KEYS_FILE: {label}: name: also used by entry {earlier}")
            if other.hash == key.hash:
                raise ApiKeysFileError(f"API_KEYS_FILE: {label}: hash: the same key as entry {earlier} ({other.name})")
        keys.append(key)
    return KeyRing(keys)
