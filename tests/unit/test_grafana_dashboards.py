"""The Grafana dashboards: generated from deploy/grafana/build_dashboards.py, parseable, and built on real metrics."""

import importlib.util
import json
import re
import shutil
import subprocess
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from prometheus_client import CollectorRegistry

from tests.harness.promql import dashboard_expressions, rule_expressions

ROOT = Path(__file__).resolve().parents[2]
GRAFANA = ROOT / "deploy" / "grafana"


def generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("build_dashboards", GRAFANA / "build_dashboards.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def dashboards() -> dict[str, dict[str, Any]]:
    return {path.name: json.loads(path.read_text()) for path in sorted((GRAFANA / "dashboards").glob("*.json"))}


def catalogue() -> set[str]:
    """Metric names agreed in docs/metrics.md, FastStream's own, and Prometheus's `up`."""
    names = set(re.findall(r"`(rapport_[a-z0-9_]+)", (ROOT / "docs" / "metrics.md").read_text()))
    registry = CollectorRegistry()
    KafkaPrometheusMiddleware(registry=registry, app_name="catalogue")
    for family in registry.collect():
        names.add(f"{family.name}_total" if family.type == "counter" else family.name)
    return names | {"up"}


def test_committed_dashboards_are_what_the_generator_writes() -> None:
    expected = generator().rendered()
    actual = {path.name: path.read_text() for path in (GRAFANA / "dashboards").glob("*.json")}
    assert actual == expected, "deploy/grafana/dashboards drifted from build_dashboards.py: run `make dashboards`"


def test_there_is_an_overview_and_a_relationships_dashboard() -> None:
    titles = {board["title"] for board in dashboards().values()}
    assert titles == {"Rapport Guard / Overview", "Rapport Guard / Relationships"}
    overview = {panel["title"] for panel in dashboards()["overview.json"]["panels"]}
    assert {"Webhooks received", "Alerts emitted by level", "Consumer lag per partition", "Dead letters"} <= overview
    relationships = {panel["title"] for panel in dashboards()["relationships.json"]["panels"]}
    assert {"Scores by level", "Rule hits", "Wait until the next touch is welcome"} <= relationships


def test_every_query_and_rule_names_only_catalogued_metrics() -> None:
    known = catalogue()
    for expression in dashboard_expressions() + rule_expressions():
        for name in expression.metric_names():
            base = re.sub(r"_(bucket|count|sum)$", "", name)
            assert name in known or base in known, f"{expression.where}: {name} is not in docs/metrics.md"


def test_every_query_parses(tmp_path: Path) -> None:
    """promtool parses each expression as a recording rule; a typo fails here, long before Grafana shows it."""
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: install Debian's prometheus package (`make system-deps`)")
    rules = [{"record": f"dashboard:query_{n}", "expr": e.promql} for n, e in enumerate(dashboard_expressions())]
    rules_file = tmp_path / "dashboard-queries.rules.yml"
    rules_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = subprocess.run(
        [binary, "check", "rules", str(rules_file)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_panels_use_the_provisioned_datasource_and_fit_the_grid() -> None:
    provisioned = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    uid = provisioned["datasources"][0]["uid"]
    for name, board in dashboards().items():
        ids = [panel["id"] for panel in board["panels"]]
        assert len(ids) == len(set(ids)), name
        occupied: set[tuple[int, int]] = set()
        for panel in board["panels"]:
            grid = panel["gridPos"]
            assert grid["x"] + grid["w"] <= 24, f"{name} / {panel['title']}"
            cells = {(grid["x"] + dx, grid["y"] + dy) for dx in range(grid["w"]) for dy in range(grid["h"])}
            assert not cells & occupied, f"{name} / {panel['title']} overlaps another panel"
            occupied |= cells
            if panel["type"] != "row":
                assert panel["datasource"]["uid"] == uid, f"{name} / {panel['title']}"
                assert all(target["datasource"]["uid"] == uid for target in panel["targets"])
