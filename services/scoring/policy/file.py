"""Reads the policy YAML and each tenant's overrides; a bad file stops the service naming the field and the problem."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from services.scoring.policy.model import Policy


class PolicyFileError(ValueError):
    pass


@dataclass(frozen=True)
class PolicySet:
    """The default policy and the merged policy of every tenant that overrides something."""

    default: Policy = field(default_factory=Policy)
    tenants: Mapping[str, Policy] = field(default_factory=dict)

    def for_tenant(self, tenant: str) -> Policy:
        return self.tenants.get(tenant, self.default)


def load_policy(path: Path | None) -> PolicySet:
    """The file at `path`, or the built-in defaults (the same as `deploy/policy/default.yaml`) when None."""
    if path is None:
        return PolicySet()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyFileError(f"{path}: cannot read policy: {exc}") from None
    try:
        return parse_policy(raw)
    except PolicyFileError as exc:
        raise PolicyFileError(f"{path}: {exc}") from None


def parse_policy(raw: Any) -> PolicySet:
    if not isinstance(raw, dict):
        raise PolicyFileError("policy: must be a mapping of settings")
    base = _merged(Policy().model_dump(mode="json"), raw)
    overrides = base.pop("tenants", None) or {}
    if not isinstance(overrides, dict):
        raise PolicyFileError("policy.tenants: must map tenant names to overrides")
    default = _validated(base, "policy")
    tenants = {}
    for tenant, override in overrides.items():
        prefix = f"policy.tenants.{tenant}"
        if not isinstance(override, dict):
            raise PolicyFileError(f"{prefix}: must be a mapping of overrides")
        tenants[str(tenant)] = _validated(_merged(base, override), prefix)
    return PolicySet(default, tenants)


_REPLACED_WHOLE = {"volume"}
"""Mappings that are one value (a set of windows), replaced rather than merged."""


def _merged(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Overrides replace leaves and merge mappings, so a file or a tenant names only what differs."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict) and key not in _REPLACED_WHOLE:
            merged[key] = _merged(merged[key], value)
        else:
            merged[key] = value
    return merged


def _validated(raw: dict[str, Any], prefix: str) -> Policy:
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        raise PolicyFileError("; ".join(_describe(prefix, error) for error in exc.errors())) from None
    problems = policy.inconsistencies()
    if problems:
        raise PolicyFileError("; ".join(f"{prefix}.{path}: {message}" for path, message in problems))
    return policy


def _describe(prefix: str, error: Any) -> str:
    path = ".".join(str(part) for part in error["loc"] if part != "[key]")
    message = str(error["msg"]).removeprefix("Value error, ")
    return f"{prefix}.{path}: {message}" if path else f"{prefix}: {message}"
