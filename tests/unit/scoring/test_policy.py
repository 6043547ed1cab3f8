"""The policy file: the shipped default is the built-in one, overrides merge, and mistakes are named."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from schemas import Tier
from services.scoring.policy.file import PolicyFileError, load_policy, parse_policy
from services.scoring.policy.model import Policy

ROOT = Path(__file__).resolve().parents[3]
SHIPPED = ROOT / "deploy" / "policy" / "default.yaml"


def test_the_shipped_file_spells_out_exactly_the_built_in_policy() -> None:
    raw = yaml.safe_load(SHIPPED.read_text())
    raw.pop("tenants")
    assert Policy.model_validate(raw) == Policy()
    assert load_policy(SHIPPED).default == load_policy(None).default == Policy()


def test_a_stranger_gets_a_few_touches_days_apart_and_calls_only_in_daytime() -> None:
    stranger = Policy().limits(Tier.STRANGER)
    assert max(stranger.volume.values()) <= 6
    assert stranger.min_gap >= 2 * 86400
    assert stranger.max_unanswered <= 3
    assert stranger.quiet_hours.minutes() >= set(range(19 * 60, 24 * 60)) | set(range(9 * 60))


def test_a_bad_duration_is_named_with_its_field_and_value() -> None:
    with pytest.raises(PolicyFileError) as error:
        parse_policy({"tiers": {"stranger": {"min_gap": "three days"}}})
    assert str(error.value) == "policy.tiers.stranger.min_gap: must be a duration like '3d', got 'three days'"


def test_a_file_names_only_what_differs_and_tenants_override_it() -> None:
    policies = parse_policy(
        {
            "tiers": {"stranger": {"min_gap": "3d"}},
            "tenants": {"acme": {"tiers": {"stranger": {"max_unanswered": 1}}, "team": {"factor": 1.5}}},
        }
    )
    assert policies.default.limits(Tier.STRANGER).min_gap == 3 * 86400
    acme = policies.for_tenant("acme")
    assert acme.limits(Tier.STRANGER).max_unanswered == 1
    assert acme.limits(Tier.STRANGER).min_gap == 3 * 86400, "a tenant inherits the file's own values"
    assert acme.team.factor == 1.5
    assert policies.for_tenant("globex") is policies.default


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ({"tenants": {"acme": {"scoring": {"cool_down": "soon"}}}}, "policy.tenants.acme.scoring.cool_down:"),
        ({"tiers": {"trusted": {"max_unanswered": 1}}}, "policy.tiers.trusted.max_unanswered: must be at least"),
        ({"tiers": {"acquaintance": {"min_gap": "5d"}}}, "policy.tiers.acquaintance.min_gap: must be at most"),
        ({"tiers": {"stranger": {"volume": {"7d": 2, "30d": 6}}}}, "policy.tiers.stranger.volume.7d: must be at least"),
        ({"tiers": {"stranger": {"quiet_hours": {"start": "7pm"}}}}, "policy.tiers.stranger.quiet_hours.start:"),
        ({"rapport": {"tiers": {"established": 5}}}, "policy.rapport.tiers.established: must be above"),
        ({"history": {"horizon": "10d"}}, "policy.history.horizon: must cover"),
        ({"rules": {"default_timezone": "Mars/Olympus"}}, "policy.rules.default_timezone:"),
        ({"channel_weights": {"fax": 2}}, "policy.channel_weights.fax:"),
        ({"surprise": 1}, "policy.surprise: Extra inputs are not permitted"),
    ],
)
def test_every_mistake_names_the_field(raw: dict[str, object], named: str) -> None:
    with pytest.raises(PolicyFileError) as error:
        parse_policy(raw)
    assert named in str(error.value)


def test_a_tier_may_not_tighten_what_the_tier_below_allows() -> None:
    with pytest.raises(PolicyFileError, match=r"tiers\.established\.quiet_hours: must lie inside acquaintance"):
        parse_policy({"tiers": {"established": {"quiet_hours": {"start": "18:00", "end": "08:00"}}}})


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    broken = tmp_path / "policy.yaml"
    broken.write_text("tiers: [unclosed")
    with pytest.raises(PolicyFileError, match=str(broken)):
        load_policy(broken)


def test_the_policy_fingerprint_is_the_same_in_every_process() -> None:
    """Otherwise every restart, and every other replica, would take each contact's state for another policy's."""
    script = "from services.scoring.policy.model import Policy; print(Policy().fingerprint)"
    prints = {
        subprocess.run(
            [sys.executable, "-c", script],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2", "3", "4")
    }
    assert prints == {str(Policy().fingerprint)}
    stricter = Policy.model_validate({"exempt_categories": ["transactional", "support"]})
    assert stricter.fingerprint != Policy().fingerprint
