"""Reads the policy YAML and each tenant's overrides; a bad file stops the service naming the field and the problem."""

import copy
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
    default, problems = _validated(base)
    reported = [_said("policy", path, message) for path, message in problems]
    under_tenants = base if default is not None else _defaults_at(base, [path for path, _ in problems])
    tenants = {}
    for tenant, override in overrides.items():
        prefix = f"policy.tenants.{tenant}"
        if not isinstance(override, dict):
            reported.append(f"{prefix}: must be a mapping of overrides")
            continue
        policy, own = _validated(_merged(under_tenants, override))
        reported += [_said(prefix, path, message) for path, message in own if (path, message) not in problems]
        if policy is not None:
            tenants[str(tenant)] = policy
    if reported or default is None:
        raise PolicyFileError("; ".join(reported))
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


FieldPath = tuple[str, ...]


def _validated(raw: dict[str, Any]) -> tuple[Policy | None, list[tuple[FieldPath, str]]]:
    """The policy, or None, and every problem found as (field path, message): all of them at once, so one run of
    `policy validate` names every mistake, the file's and each tenant's (a tenant does not repeat the file's)."""
    try:
        policy = Policy.model_validate(raw)
    except ValidationError as exc:
        return None, [_described(error) for error in exc.errors()]
    return policy, [(tuple(path.split(".")), message) for path, message in policy.inconsistencies()]


def _described(error: Any) -> tuple[FieldPath, str]:
    path = tuple(str(part) for part in error["loc"] if part != "[key]")
    return path, str(error["msg"]).removeprefix("Value error, ")


def _said(prefix: str, path: FieldPath, message: str) -> str:
    return f"{prefix}.{'.'.join(path)}: {message}" if path else f"{prefix}: {message}"


def _defaults_at(raw: dict[str, Any], paths: list[FieldPath]) -> dict[str, Any]:
    """`raw` with the value at each of `paths` put back to the built-in default (or left out), so that each tenant
    is judged on its own overrides even when the file has mistakes of its own."""
    repaired = copy.deepcopy(raw)
    defaults = Policy().model_dump(mode="json")
    for path in paths:
        target: Any = repaired
        default: Any = defaults
        for key in path[:-1]:
            target = target.get(key) if isinstance(target, dict) else None
            default = default.get(key) if isinstance(default, dict) else None
        if not path or not isinstance(target, dict):
            continue
        if isinstance(default, dict) and path[-1] in default:
            target[path[-1]] = default[path[-1]]
        else:
            target.pop(path[-1], None)
    return repaired
