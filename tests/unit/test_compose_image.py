"""The container image's Dockerfile, read without a Docker engine, and the entry points it relies on."""

import http.server
import os
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.devstack.ports import free_port
from services.ingestion.settings import IngestionSettings
from services.notification.settings import NotificationSettings
from services.scoring.settings import ScoringSettings

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "container" / "Dockerfile"
SETTINGS = (IngestionSettings, ScoringSettings, NotificationSettings)
SCRIPT_PORT_SETTINGS = {
    "rapport-ingestion": "INGEST_PORT",
    "rapport-scoring": "SCORING_PORT",
    "rapport-notification": "NOTIFY_PORT",
}


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            keyword, _, arguments = line.strip().partition(" ")
            found.append((keyword.upper(), arguments.strip()))
    return found


def final_stage() -> list[tuple[str, str]]:
    steps = instructions()
    last_from = max(index for index, (keyword, _) in enumerate(steps) if keyword == "FROM")
    return steps[last_from:]


def scripts() -> dict[str, str]:
    found: dict[str, str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    return found


def exec_form(arguments: str) -> list[str]:
    return re.findall(r'"([^"]*)"', arguments)


def test_image_is_multi_stage_and_runs_as_a_non_root_user() -> None:
    assert sum(1 for keyword, _ in instructions() if keyword == "FROM") >= 2
    users = [arguments for keyword, arguments in final_stage() if keyword == "USER"]
    assert users, "the final stage never leaves root"
    assert users[-1] not in {"root", "0", "0:0"}


def test_default_command_and_every_service_entry_point_are_package_scripts() -> None:
    command = exec_form(next(arguments for keyword, arguments in final_stage() if keyword == "CMD"))
    assert command[0] in scripts()
    assert set(SCRIPT_PORT_SETTINGS) <= set(scripts())


@pytest.mark.parametrize("script", sorted(SCRIPT_PORT_SETTINGS))
def test_each_entry_point_is_installed_and_checks_its_settings_at_start(script: str) -> None:
    """Run the installed script with a bad port: it must start, read its settings, and stop naming the field."""
    installed = Path(sys.prefix) / "bin" / script
    assert installed.is_file(), f"{script} is not installed in {sys.prefix}/bin (uv sync installs [project.scripts])"
    port_setting = SCRIPT_PORT_SETTINGS[script]
    env = {
        **os.environ,
        port_setting: "0",
        "GENERIC_WEBHOOK_SECRET": "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
        "IDENTITY_HMAC_KEY": "identity-key-0123456789",
    }
    result = subprocess.run([str(installed)], env=env, capture_output=True, text=True, timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert port_setting in result.stderr


def test_exposed_ports_are_the_services_default_ports() -> None:
    exposed = {int(port) for keyword, arguments in final_stage() if keyword == "EXPOSE" for port in arguments.split()}
    defaults = {
        settings.model_fields[field].default
        for settings in SETTINGS
        for field in settings.model_fields
        if field.endswith("_port")
    }
    assert exposed == defaults


def test_environment_the_image_sets_is_made_of_settings_or_runtime_variables() -> None:
    fields = {field.upper() for settings in SETTINGS for field in settings.model_fields}
    env_lines = " ".join(arguments for keyword, arguments in final_stage() if keyword == "ENV")
    names = set(re.findall(r"([A-Z_]+)=", env_lines))
    assert names - fields == {"PATH", "PYTHONUNBUFFERED"}
    assert {"INGEST_HOST", "SCORING_HOST", "NOTIFY_HOST"} <= names, (
        "services must listen beyond loopback in a container"
    )


def test_build_copies_only_what_exists_and_pins_uv_like_the_makefile() -> None:
    for keyword, arguments in instructions():
        if keyword == "COPY" and "--from=" not in arguments:
            for source in arguments.split()[:-1]:
                assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
    uv_pin = re.search(r"uv==([0-9.]+)", DOCKERFILE.read_text())
    makefile_pin = re.search(r"UV_VERSION := ([0-9.]+)", (ROOT / "Makefile").read_text())
    assert uv_pin is not None
    assert makefile_pin is not None
    assert uv_pin.group(1) == makefile_pin.group(1)


def test_healthcheck_runs_the_healthcheck_module() -> None:
    checks = [exec_form(arguments) for keyword, arguments in final_stage() if keyword == "HEALTHCHECK"]
    assert len(checks) == 1
    assert checks[0] == ["python", "-m", "services.runtime.healthcheck"]


class Healthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def one_live_service() -> Iterator[dict[str, str]]:
    """A /healthz on the scoring port, nothing on the other two: what a scoring container looks like inside."""
    server = http.server.HTTPServer(("127.0.0.1", free_port()), Healthz)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {
            "INGEST_PORT": str(free_port()),
            "SCORING_PORT": str(server.server_address[1]),
            "NOTIFY_PORT": str(free_port()),
        }
    finally:
        server.shutdown()
        server.server_close()


def run_healthcheck(ports: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.runtime.healthcheck"],
        env={**os.environ, **ports},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )


def test_healthcheck_passes_when_the_containers_service_answers(one_live_service: dict[str, str]) -> None:
    assert run_healthcheck(one_live_service).returncode == 0


def test_healthcheck_fails_when_no_service_answers() -> None:
    ports = {name: str(free_port()) for name in ("INGEST_PORT", "SCORING_PORT", "NOTIFY_PORT")}
    result = run_healthcheck(ports)
    assert result.returncode == 1
    assert "no service answers /healthz" in result.stderr
