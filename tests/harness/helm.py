"""The pinned helm (`make helm` builds it into .cache/bin) rendering deploy/helm/rapport-guard for the tests."""

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "deploy" / "helm" / "rapport-guard"
HELM = ROOT / ".cache" / "bin" / "helm"

Manifest = dict[str, Any]


def helm(*args: str) -> subprocess.CompletedProcess[str]:
    """Runs helm; a missing binary fails the test (never skips it) saying how to get it."""
    if not HELM.is_file():
        pytest.fail(f"{HELM.relative_to(ROOT)} is missing: run `make helm` (make test builds it)")
    return subprocess.run([str(HELM), *args], capture_output=True, text=True, timeout=120, check=False)


def template(*args: str) -> subprocess.CompletedProcess[str]:
    return helm("template", "rg", str(CHART), "--namespace", "rapport", *args)


def manifests(*args: str) -> list[Manifest]:
    result = template(*args)
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def the_container(workload: Manifest) -> Manifest:
    containers: list[Manifest] = workload["spec"]["template"]["spec"]["containers"]
    assert len(containers) == 1
    return containers[0]
