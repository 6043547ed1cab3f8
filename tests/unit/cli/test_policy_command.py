from pathlib import Path

import pytest
import yaml

from schemas import Tier
from services.cli.main import main
from services.scoring.policy.model import Policy

DEFAULT_FILE = Path(__file__).parents[3] / "deploy" / "policy" / "default.yaml"


def test_the_shipped_policy_is_valid(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "validate", str(DEFAULT_FILE)]) == 0
    assert "valid" in capsys.readouterr().out


def test_a_bad_policy_exits_1_naming_each_field(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("tiers:\n  stranger:\n    min_gap: three days\nscoring:\n  headroom: -1\n")
    assert main(["policy", "validate", str(path)]) == 1
    err = capsys.readouterr().err
    assert "policy.tiers.stranger.min_gap" in err
    assert "three days" in err
    assert "policy.scoring.headroom" in err


def test_the_files_mistakes_and_each_tenants_are_named_in_one_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As docs/policy.md shows them: fixing one mistake should not reveal the next only on the following run."""
    path = tmp_path / "bad.yaml"
    path.write_text(
        "tiers:\n  stranger:\n    min_gap: three days\n"
        "tenants:\n  acme:\n    tiers:\n      trusted:\n        max_unanswered: 1\n"
        "  globex:\n    scoring:\n      headroom: -1\n"
    )
    assert main(["policy", "validate", str(path)]) == 1
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"{path}: policy.tiers.stranger.min_gap: must be a duration like '3d', got 'three days'"
    assert "policy.tenants.acme.tiers.trusted.max_unanswered: must be at least established's" in lines
    assert any(line.startswith("policy.tenants.globex.scoring.headroom: ") for line in lines)
    assert not any("tenants" in line and "min_gap" in line for line in lines), "the file's mistake is said once"


def test_an_unreadable_policy_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["policy", "validate", str(tmp_path / "missing.yaml")]) == 1
    assert "cannot read policy" in capsys.readouterr().err


def test_show_prints_the_tenant_policy_merged_over_the_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("scoring:\n  cool_down: 5d\ntenants:\n  acme:\n    tiers:\n      stranger:\n        min_gap: 3d\n")
    assert main(["policy", "show", "--policy", str(path), "--tenant", "acme"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["tiers"]["stranger"]["min_gap"] == "3d"
    assert shown["scoring"]["cool_down"] == "5d"
    assert Policy.model_validate(shown).tiers[Tier.STRANGER].max_unanswered == 2

    assert main(["policy", "show", "--policy", str(path)]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["tiers"]["stranger"]["min_gap"] == "2d"
