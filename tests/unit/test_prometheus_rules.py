"""The Prometheus config and alert rules, checked and unit-tested by Debian's `promtool`."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.harness.promql import rule_expressions, with_bool_comparisons

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = ROOT / "deploy" / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.test.yml"))


def promtool(*args: str) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: install Debian's prometheus package (`make system-deps`)")
    return subprocess.run([binary, *args], capture_output=True, text=True, timeout=120, check=False, cwd=PROMETHEUS)


def alerts() -> list[dict[str, object]]:
    return [
        rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    ]


def test_config_is_valid_and_finds_the_rule_files() -> None:
    result = promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{len(RULE_FILES)} rule files found" in result.stdout


def test_rules_are_valid() -> None:
    result = promtool("check", "rules", *(str(path) for path in RULE_FILES))
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_unit_tests_pass() -> None:
    assert RULE_TESTS, "no promtool rule tests in deploy/prometheus/tests"
    result = promtool("test", "rules", *(str(path) for path in RULE_TESTS))
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_is_seen_firing_in_a_rule_test() -> None:
    fired = {
        case["alertname"]
        for path in RULE_TESTS
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert {str(rule["alert"]) for rule in alerts()} <= fired


def test_the_alerts_the_operators_were_promised_exist() -> None:
    assert {str(rule["alert"]) for rule in alerts()} >= {
        "RapportServiceDown",
        "RapportConsumerLagGrowing",
        "RapportEventsDeadLettered",
        "RapportAlertsDeadLettered",
        "RapportNotificationFailureRatio",
        "RapportIngestion5xxRatio",
    }


def test_every_alert_has_a_severity_and_a_runbook_section_in_the_docs() -> None:
    operations = (ROOT / "docs" / "operations.md").read_text()
    headings = {
        re.sub(r"[^a-z0-9 -]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        for line in operations.splitlines()
        if line.startswith("#")
    }
    for rule in alerts():
        labels = rule["labels"]
        annotations = rule["annotations"]
        assert isinstance(labels, dict), rule["alert"]
        assert labels["severity"] in {"warning", "critical"}, rule["alert"]
        assert isinstance(annotations, dict), rule["alert"]
        page, _, anchor = str(annotations["runbook"]).partition("#")
        assert page == "docs/operations.md", rule["alert"]
        assert anchor in headings, f"{rule['alert']}: docs/operations.md has no heading for #{anchor}"


def test_comparisons_become_bool_outside_label_matchers() -> None:
    """The live-Prometheus test relies on this to see an alert's series while the alert is quiet."""
    assert (
        with_bool_comparisons('up{job=~"rapport-.*",code!="200"} == 0') == 'up{job=~"rapport-.*",code!="200"} == bool 0'
    )
    assert with_bool_comparisons("a > 1000 and b >= 0") == "a > bool 1000 and b >= bool 0"
    assert with_bool_comparisons("a < bool 3") == "a < bool 3"
    assert all("bool" in with_bool_comparisons(e.promql) for e in rule_expressions() if "alert" in e.where.lower())
