"""Reads the policy YAML; a bad file stops the service with the field and the problem named."""

from pathlib import Path

import yaml
from pydantic import ValidationError

from services.scoring.policy import Policy


class PolicyFileError(ValueError):
    pass


def load_policy(path: Path | None) -> Policy:
    if path is None:
        return Policy()
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise PolicyFileError(f"{path}: cannot read policy: {exc}") from None
    try:
        return Policy.model_validate(raw)
    except ValidationError as exc:
        problems = [f"policy.{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()]
        raise PolicyFileError(f"{path}: " + "; ".join(problems)) from None
