"""docker-compose.yml, checked without a Docker engine: against the Compose specification's JSON Schema, and
against the code: every command, environment variable, port, mount and dependency it names must exist.

The schema is the compose-spec project's (Apache-2.0), as vendored by the `check-jsonschema` package
(check_jsonschema/builtin_schemas/vendor/compose-spec.json, licence beside it).
"""

import importlib
import importlib.resources
import json
import re
from pathlib import Path, PurePosixPath
from typing import Any

import jsonschema
import pytest
import yaml

from tests.harness.entry_points import entry_module, settings_class

ROOT = Path(__file__).resolve().parents[2]
IMAGE_DOCKERFILE = "deploy/container/Dockerfile"
APP_SERVICES = ("ingestion", "scoring", "notification")
VALID_SECRETS = {
    "GENERIC_WEBHOOK_SECRET": "whsec_" + "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ=",
    "IDENTITY_HMAC_KEY": "identity-key-for-the-compose-test",
}
"""Stand-ins for the values compose takes from the operator's environment (`${VAR:?...}`)."""


def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose()["services"]
    return found


def ours() -> dict[str, dict[str, Any]]:
    """The services built from this repository's image."""
    return {
        name: service
        for name, service in services().items()
        if isinstance(service.get("build"), dict) and service["build"].get("dockerfile") == IMAGE_DOCKERFILE
    }


def interpolated(value: object) -> str:
    """`${VAR:?message}` / `${VAR:-default}` as compose would fill it in for the test."""

    def fill(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(3)
        return VALID_SECRETS.get(name, default or "")

    return re.sub(r"\$\{([A-Z0-9_]+)(:?[?-]([^}]*))?\}", fill, str(value))


def container_port(mapping: str) -> int:
    return int(str(mapping).split(":")[-1].split("/")[0])


def test_compose_file_follows_the_compose_specification() -> None:
    schema_file = importlib.resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    validator = jsonschema.validators.validator_for(schema)(schema)
    errors = sorted(validator.iter_errors(compose()), key=lambda error: list(error.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors)


def test_the_stack_has_every_part_the_operators_need() -> None:
    images = {name: str(service.get("image", "")) for name, service in services().items()}
    assert set(APP_SERVICES) <= set(ours())
    assert "topic-init" in ours()
    assert images["kafka"].startswith("apache/kafka:")
    assert images["redis"].startswith("redis:")
    assert images["prometheus"].startswith("prom/prometheus:")
    assert images["grafana"].startswith("grafana/grafana:")
    assert images["mailpit"].startswith("axllent/mailpit:")


def test_kafka_runs_in_kraft_mode_at_the_version_the_tests_use() -> None:
    pom = (ROOT / "deploy" / "kafka" / "pom.xml").read_text()
    version = re.search(r"<kafka.version>([^<]+)</kafka.version>", pom)
    assert version is not None
    kafka = services()["kafka"]
    assert kafka["image"] == f"apache/kafka:{version.group(1)}"
    assert set(kafka["environment"]["KAFKA_PROCESS_ROLES"].split(",")) == {"broker", "controller"}
    assert not any("zookeeper" in str(value).lower() for value in kafka["environment"].values())
    advertised = kafka["environment"]["KAFKA_ADVERTISED_LISTENERS"]
    for name, service in ours().items():
        bootstrap = service["environment"]["KAFKA_BOOTSTRAP_SERVERS"]
        assert f"PLAINTEXT://{bootstrap}" in advertised, f"{name} connects to {bootstrap}, not an advertised listener"


@pytest.mark.parametrize("name", sorted(ours()))
def test_each_command_is_an_entry_point_of_the_package(name: str) -> None:
    command = ours()[name]["command"]
    module = importlib.import_module(entry_module(command))
    assert callable(getattr(module, "main", None)), f"{name}: {module.__name__} has no main()"


@pytest.mark.parametrize("name", sorted(ours()))
def test_each_environment_variable_is_a_setting_and_its_value_is_valid(name: str) -> None:
    service = ours()[name]
    settings = settings_class(entry_module(service["command"]))
    env = {key: interpolated(value) for key, value in service.get("environment", {}).items()}
    fields = {field.upper() for field in settings.model_fields}
    assert set(env) <= fields, f"{name}: {sorted(set(env) - fields)} are not fields of {settings.__name__}"
    settings.model_validate({key.lower(): value for key, value in env.items()})


@pytest.mark.parametrize("name", APP_SERVICES)
def test_each_published_port_is_the_port_the_service_listens_on(name: str) -> None:
    service = ours()[name]
    settings = settings_class(entry_module(service["command"]))
    env = {key: interpolated(value) for key, value in service["environment"].items()}
    configured = settings.model_validate({key.lower(): value for key, value in env.items()})
    port_field = next(field for field in settings.model_fields if field.endswith("_port"))
    assert [container_port(mapping) for mapping in service["ports"]] == [getattr(configured, port_field)]
    assert getattr(configured, port_field) == settings.model_fields[port_field].default, "keep the contract's port"


def test_prometheus_scrapes_each_service_at_its_compose_name_and_port() -> None:
    config = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text())
    scraped = {
        job["job_name"]: [target for static in job["static_configs"] for target in static["targets"]]
        for job in config["scrape_configs"]
    }
    expected = {f"rapport-{name}": [f"{name}:{container_port(services()[name]['ports'][0])}"] for name in APP_SERVICES}
    assert scraped == expected


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """Bind mounts of a service: container path → repository path."""
    found = {}
    for volume in service.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        if source.startswith("./"):
            found[target] = source
    return found


def test_every_bind_mount_exists_in_the_repository() -> None:
    for name, service in services().items():
        for target, source in mounts(service).items():
            assert (ROOT / source).exists(), f"{name}: {source} (mounted at {target}) does not exist"


def test_prometheus_loads_the_repository_config_and_rules() -> None:
    prometheus = services()["prometheus"]
    config_flag = next(arg for arg in prometheus["command"] if arg.startswith("--config.file="))
    config_path = PurePosixPath(config_flag.partition("=")[2])
    mounted = mounts(prometheus)
    source = mounted[str(config_path.parent)]
    assert (ROOT / source / config_path.name).is_file()


def test_grafana_finds_the_datasource_and_the_dashboards() -> None:
    grafana = services()["grafana"]
    mounted = mounts(grafana)
    assert mounted["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    provider = yaml.safe_load((ROOT / "deploy/grafana/provisioning/dashboards/rapport-guard.yml").read_text())
    dashboards_path = provider["providers"][0]["options"]["path"]
    assert mounted[dashboards_path] == "./deploy/grafana/dashboards"
    home = grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert (ROOT / "deploy/grafana/dashboards" / PurePosixPath(home).relative_to(dashboards_path)).is_file()
    datasource = yaml.safe_load((ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml").read_text())
    url = datasource["datasources"][0]["url"]
    assert url == f"http://prometheus:{container_port(services()['prometheus']['ports'][0])}"


def healthchecked(name: str) -> bool:
    """A compose healthcheck, or (for our services) the image's HEALTHCHECK."""
    service = services()[name]
    if "healthcheck" in service:
        return not service["healthcheck"].get("disable", False)
    dockerfile = (ROOT / IMAGE_DOCKERFILE).read_text()
    return name in ours() and "\nHEALTHCHECK " in dockerfile


def test_every_long_running_service_has_a_healthcheck() -> None:
    for name, service in services().items():
        if service.get("restart") != "no":
            assert healthchecked(name), f"{name} has no healthcheck"


def test_start_order_waits_for_what_each_service_needs() -> None:
    for name, service in services().items():
        for dependency, condition in service.get("depends_on", {}).items():
            assert dependency in services(), f"{name} depends on unknown {dependency}"
            if condition["condition"] == "service_healthy":
                assert healthchecked(dependency), f"{name} waits for {dependency} to be healthy, which it never is"
            if condition["condition"] == "service_completed_successfully":
                assert services()[dependency].get("restart") == "no", f"{dependency} must run once"
    assert services()["topic-init"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in APP_SERVICES:
        assert services()[name]["depends_on"]["topic-init"]["condition"] == "service_completed_successfully"
    assert services()["scoring"]["depends_on"]["redis"]["condition"] == "service_healthy"
    assert services()["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"


def test_scoring_keeps_its_state_in_the_compose_redis() -> None:
    url = services()["scoring"]["environment"]["STATE_STORE_URL"]
    assert url.startswith("redis://redis:6379")


def test_every_variable_the_operator_must_set_is_documented() -> None:
    raw = (ROOT / "docker-compose.yml").read_text()
    operations = (ROOT / "docs" / "operations.md").read_text()
    for variable in set(re.findall(r"\$\{([A-Z0-9_]+)", raw)):
        assert variable in operations, f"docs/operations.md does not say what {variable} is"
