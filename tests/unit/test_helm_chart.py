"""deploy/helm/rapport-guard, rendered by the pinned helm (`make helm`, which `make test` runs first) and checked
against Kubernetes' own schemas and against the code: every variable the chart passes is one a service reads,
none a service requires is missing, and every pod runs locked down.
"""

import functools
import json
import subprocess
import sys
import warnings
from pathlib import Path, PurePosixPath

import kubernetes_validate  # type: ignore[import-untyped]
import pytest
import yaml
from pydantic import AliasChoices, AliasPath, SecretStr
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings

from services.runtime.settings import ServiceSettings
from tests.harness.entry_points import entry_module, settings_class
from tests.harness.helm import CHART, Manifest, helm, manifests, template, the_container

ROOT = Path(__file__).resolve().parents[2]
KUBERNETES_VERSION = "1.34"
"""The Kubernetes release whose API schemas (from kubernetes-validate) every rendered manifest must satisfy."""

PENDING_IN_OTHER_BRANCHES: set[str] = set()
"""Variables the chart passes (names fixed by the contract) whose settings other branches are adding. Empty it once
those are merged (a warning names the entries the code already reads): the chart is then held to the settings
classes alone."""

WEBHOOK_SECRET = "whsec_c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ="
CHART_MADE_SECRETS = {
    "secrets.existingSecret": "",
    "secrets.values.GENERIC_WEBHOOK_SECRET": WEBHOOK_SECRET,
    "secrets.values.IDENTITY_HMAC_KEY": "identity-key-for-the-helm-test",
    "secrets.values.STATE_STORE_URL": "rediss://scoring:pw@redis:6380/0",
    "secrets.values.DEDUPE_STORE_URL": "rediss://ingestion:pw@redis:6380/1",
    "secrets.values.NOTIFY_COOLDOWN_STORE_URL": "rediss://notification:pw@redis:6380/2",
    "kafka.securityProtocol": "SASL_SSL",
    "kafka.sasl.username": "rapport-guard",
    "kafka.sasl.password": "kafka-password-for-the-helm-test",
    "apiKeys.keys[0].name": "operator",
    "apiKeys.keys[0].tenant": "*",
    "apiKeys.keys[0].scopes[0]": "check",
    "apiKeys.keys[0].hash": "sha256:" + "0" * 64,
}
"""The chart creating every Secret itself from values given on the command line (for trying it out)."""

SCENARIOS: dict[str, list[str]] = {
    "defaults": [],
    "everything-on": ["--values", str(ROOT / "tests" / "fixtures" / "helm" / "everything-on.yaml")],
    "chart-made-secrets": [
        arg for key, value in CHART_MADE_SECRETS.items() for arg in ("--set-string", f"{key}={value}")
    ],
}
CUSTOM_RESOURCES = {("monitoring.coreos.com/v1", "ServiceMonitor")}
"""Kinds kubernetes-validate has no schema for (the Prometheus Operator's CRD); checked field by field below."""


@functools.cache
def rendered(scenario: str) -> tuple[Manifest, ...]:
    return tuple(manifests(*SCENARIOS[scenario]))


def of_kind(scenario: str, kind: str) -> dict[str, Manifest]:
    return {doc["metadata"]["name"]: doc for doc in rendered(scenario) if doc["kind"] == kind}


def workloads(scenario: str) -> dict[str, Manifest]:
    """Deployments and the topic Job: everything that runs the image."""
    return {**of_kind(scenario, "Deployment"), **of_kind(scenario, "Job")}


def settings_of(workload: Manifest) -> type[ServiceSettings]:
    return settings_class(entry_module(the_container(workload)["command"]))


def component(workload: Manifest) -> str:
    return str(workload["metadata"]["labels"]["app.kubernetes.io/component"])


def env_names(settings: type[BaseSettings]) -> dict[str, FieldInfo]:
    """Every variable a pydantic-settings class reads, with the field it fills (aliases replace the prefix)."""
    prefix = str(settings.model_config.get("env_prefix", ""))
    names: dict[str, FieldInfo] = {}
    for field_name, field in settings.model_fields.items():
        alias = field.validation_alias or field.alias
        if isinstance(alias, str):
            candidates = [alias]
        elif isinstance(alias, AliasChoices):
            candidates = [str(choice.path[0]) if isinstance(choice, AliasPath) else choice for choice in alias.choices]
        elif isinstance(alias, AliasPath):
            candidates = [str(alias.path[0])]
        else:
            candidates = [prefix + field_name]
        for candidate in candidates:
            names[candidate.upper()] = field
    return names


def required_names(settings: type[BaseSettings]) -> set[str]:
    return {name for name, field in env_names(settings).items() if field.is_required()}


def passed_env(workload: Manifest) -> dict[str, Manifest]:
    entries = the_container(workload).get("env", [])
    names = [entry["name"] for entry in entries]
    assert len(names) == len(set(names)), f"{workload['metadata']['name']} sets a variable twice: {sorted(names)}"
    return {entry["name"]: entry for entry in entries}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_chart_lints_cleanly(scenario: str) -> None:
    result = helm("lint", "--strict", str(CHART), *SCENARIOS[scenario])
    assert result.returncode == 0, result.stdout + result.stderr


def test_helm_is_the_version_the_makefile_pins() -> None:
    pinned = next(
        line.split(":=")[1].strip()
        for line in (ROOT / "Makefile").read_text().splitlines()
        if line.startswith("HELM_VERSION")
    )
    result = helm("version", "--template", "{{.Version}}")
    assert result.returncode == 0, result.stderr
    assert pinned.startswith(result.stdout.strip()), (
        f"helm {result.stdout} is not {pinned}: rm -r .cache/bin; make helm"
    )


def test_every_manifest_is_valid_for_the_named_kubernetes_version(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every scenario's manifests, each distinct one once; the schemas (megabytes of JSON) are parsed once too."""
    monkeypatch.setattr(
        kubernetes_validate.utils, "schema_contents", functools.cache(kubernetes_validate.utils.schema_contents)
    )
    distinct = {json.dumps(doc, sort_keys=True): doc for scenario in SCENARIOS for doc in rendered(scenario)}
    problems = []
    for manifest in distinct.values():
        if (manifest["apiVersion"], manifest["kind"]) in CUSTOM_RESOURCES:
            continue
        try:
            kubernetes_validate.validate(manifest, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            problems.append(f"{manifest['kind']}/{manifest['metadata']['name']}: {error.message} at {list(error.path)}")
    assert not problems, "\n".join(problems)


def test_only_the_known_custom_resources_lack_a_kubernetes_schema() -> None:
    kinds = {(doc["apiVersion"], doc["kind"]) for scenario in SCENARIOS for doc in rendered(scenario)}
    for api_version, kind in kinds & CUSTOM_RESOURCES:
        with pytest.raises(kubernetes_validate.SchemaNotFoundError):
            kubernetes_validate.validate({"apiVersion": api_version, "kind": kind}, KUBERNETES_VERSION)


def test_the_service_monitor_is_off_by_default_and_scrapes_every_service_when_on() -> None:
    assert not of_kind("defaults", "ServiceMonitor")
    (monitor,) = of_kind("everything-on", "ServiceMonitor").values()
    assert monitor["metadata"]["labels"]["release"] == "prometheus"
    assert monitor["spec"]["endpoints"] == [
        {"port": "http", "path": "/metrics", "interval": "30s", "scrapeTimeout": "10s"}
    ]
    selector = monitor["spec"]["selector"]["matchLabels"]
    for service in of_kind("everything-on", "Service").values():
        assert selector.items() <= service["metadata"]["labels"].items()
        assert [port["name"] for port in service["spec"]["ports"]] == ["http"]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_service_listens_on_the_pod_address_and_is_reachable_inside_the_cluster_only(scenario: str) -> None:
    services = of_kind(scenario, "Service")
    deployments = of_kind(scenario, "Deployment")
    assert sorted(map(component, deployments.values())) == ["ingestion", "notification", "scoring"]
    for name, deployment in deployments.items():
        settings = settings_of(deployment)
        env = passed_env(deployment)
        host = next(field for field in env_names(settings) if field.endswith("_HOST"))
        port = next(field for field in env_names(settings) if field.endswith("_PORT"))
        assert env[host]["value"] == "0.0.0.0", f"{name} must bind every interface of its pod"
        default_port = env_names(settings)[port].default
        assert env[port]["value"] == str(default_port), f"{name}: keep the contract's port"
        assert the_container(deployment)["ports"] == [
            {"name": "http", "containerPort": default_port, "protocol": "TCP"}
        ]
        service = services[name]
        assert service["spec"]["type"] == "ClusterIP"
        assert service["spec"]["ports"] == [
            {"name": "http", "port": default_port, "targetPort": "http", "protocol": "TCP"}
        ]
        assert service["spec"]["selector"].items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_liveness_is_healthz_and_readiness_is_readyz(scenario: str) -> None:
    for name, deployment in of_kind(scenario, "Deployment").items():
        container = the_container(deployment)
        assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, name
        assert container["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}, name
        assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, name


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_pod_runs_as_a_non_root_user_without_privileges_on_a_read_only_root(scenario: str) -> None:
    for name, workload in workloads(scenario).items():
        pod = workload["spec"]["template"]["spec"]
        assert pod["securityContext"]["runAsNonRoot"] is True, name
        assert pod["securityContext"]["runAsUser"] > 0, name
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert pod["automountServiceAccountToken"] is False, name
        assert pod["enableServiceLinks"] is False, f"{name}: a Service named like a setting would inject <NAME>_PORT"
        container = the_container(workload)
        assert container["securityContext"]["allowPrivilegeEscalation"] is False, name
        assert container["securityContext"]["readOnlyRootFilesystem"] is True, name
        assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}, name
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        tmp = next(mount for mount in container["volumeMounts"] if mount["mountPath"] == "/tmp")  # noqa: S108
        assert "emptyDir" in volumes[tmp["name"]], f"{name}: /tmp must be writable scratch space"
        assert {"cpu", "memory"} <= container["resources"]["requests"].keys(), name
        assert {"cpu", "memory"} <= container["resources"]["limits"].keys(), name


def test_the_image_user_is_the_pod_user() -> None:
    dockerfile = (ROOT / "deploy" / "container" / "Dockerfile").read_text()
    user = next(line.split()[1] for line in dockerfile.splitlines() if line.startswith("USER "))
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert values["podSecurityContext"]["runAsUser"] == int(user)


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_each_deployment_has_a_disruption_budget_that_lets_a_node_drain(scenario: str) -> None:
    budgets = of_kind(scenario, "PodDisruptionBudget")
    for name, deployment in of_kind(scenario, "Deployment").items():
        budget = budgets[name]["spec"]
        assert budget["selector"] == deployment["spec"]["selector"], name
        assert budget.get("maxUnavailable", 0) >= 1, f"{name}: a budget of zero disruptions blocks every drain"


def scoring_replicas(*args: str) -> int:
    result = template(*args)
    assert result.returncode == 0, result.stderr
    (scoring,) = (
        doc
        for doc in yaml.safe_load_all(result.stdout)
        if doc and doc["kind"] == "Deployment" and component(doc) == "scoring"
    )
    return int(scoring["spec"]["replicas"])


def test_scoring_runs_one_replica_per_partition_of_the_events_topic_by_default() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    assert scoring_replicas() == values["topics"]["partitions"]
    assert scoring_replicas("--set", "topics.partitions=24") == 24
    assert scoring_replicas("--set", "topics.partitions=24", "--set", "scoring.replicas=4") == 4


def test_more_scoring_replicas_than_partitions_are_refused_with_the_reason() -> None:
    result = template("--set", "topics.partitions=6", "--set", "scoring.replicas=7")
    assert result.returncode != 0
    assert "scoring.replicas (7) exceeds topics.partitions (6)" in result.stderr


def test_the_topic_job_is_a_hook_that_runs_the_projects_topic_creator_before_the_services() -> None:
    (job,) = of_kind("everything-on", "Job").values()
    annotations = job["metadata"]["annotations"]
    assert set(annotations["helm.sh/hook"].split(",")) == {"pre-install", "pre-upgrade"}
    command = the_container(job)["command"]
    assert entry_module(command) == "services.runtime.topics"
    flags = dict(zip(command[3::2], command[4::2], strict=True))
    assert flags == {"--partitions": "12", "--replication": "3", "--events-retention-days": "400"}
    usage = subprocess.run(
        [sys.executable, "-m", "services.runtime.topics", "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert all(flag in usage for flag in flags), f"services.runtime.topics does not take {sorted(flags)}"
    sasl_secret = next(
        doc
        for doc in rendered("chart-made-secrets")
        if doc["kind"] == "Secret" and "kafka-sasl" in doc["metadata"]["name"]
    )
    hook_weight = int(sasl_secret["metadata"]["annotations"]["helm.sh/hook-weight"])
    assert hook_weight < int(annotations["helm.sh/hook-weight"]), "the Job's SASL Secret must exist before it runs"


def test_the_topic_job_can_be_left_to_whoever_manages_the_topics() -> None:
    result = template("--set", "topics.createJob.enabled=false")
    assert result.returncode == 0, result.stderr
    assert "kind: Job" not in result.stdout


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_the_chart_passes_only_variables_the_code_reads_and_every_one_it_requires(scenario: str) -> None:
    for name, workload in workloads(scenario).items():
        settings = settings_of(workload)
        passed = set(passed_env(workload))
        unknown = passed - set(env_names(settings)) - PENDING_IN_OTHER_BRANCHES
        assert not unknown, f"{name} passes {sorted(unknown)}, which {settings.__name__} does not read"
        missing = required_names(settings) - passed
        assert not missing, f"{name} lacks {sorted(missing)}, which {settings.__name__} requires"


def test_pending_variables_are_reported_until_the_code_reads_them() -> None:
    """Says which PENDING_IN_OTHER_BRANCHES entries the code still lacks, and which have arrived and can go."""
    read = {name for scenario in SCENARIOS for w in workloads(scenario).values() for name in env_names(settings_of(w))}
    passed = {name for scenario in SCENARIOS for w in workloads(scenario).values() for name in passed_env(w)}
    assert passed >= PENDING_IN_OTHER_BRANCHES, f"not passed by the chart: {sorted(PENDING_IN_OTHER_BRANCHES - passed)}"
    if pending := sorted(PENDING_IN_OTHER_BRANCHES - read):
        warnings.warn(f"the chart passes {pending}, pending in other branches (not read by this code)", stacklevel=1)
    if arrived := sorted(PENDING_IN_OTHER_BRANCHES & read):
        warnings.warn(f"now read by the code, so they can leave PENDING_IN_OTHER_BRANCHES: {arrived}", stacklevel=1)


def resolved_env(scenario: str, workload: Manifest) -> dict[str, str]:
    """The container's environment as the kubelet would build it from the chart's own Secrets."""
    secrets = {
        doc["metadata"]["name"]: doc.get("stringData", {}) for doc in rendered(scenario) if doc["kind"] == "Secret"
    }
    env = {}
    for name, entry in passed_env(workload).items():
        if "value" in entry:
            env[name] = entry["value"]
            continue
        reference = entry["valueFrom"]["secretKeyRef"]
        data = secrets[reference["name"]]
        if reference["key"] in data:
            env[name] = data[reference["key"]]
        else:
            assert reference.get("optional"), f"{name} needs key {reference['key']} of {reference['name']}"
    return env


def test_a_chart_made_install_is_accepted_by_every_service_and_keeps_the_codes_defaults() -> None:
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    for workload in workloads("chart-made-secrets").values():
        settings = settings_of(workload)
        env = resolved_env("chart-made-secrets", workload)
        fields = env_names(settings)
        configured = settings.model_validate({fields[k].alias or k.lower(): v for k, v in env.items() if k in fields})
        tuning = values.get(component(workload), {}).get("settings", {})
        for variable in tuning:
            assert variable in fields, f"values.yaml {component(workload)}.settings.{variable} is not a setting"
            field_name = next(name for name, field in settings.model_fields.items() if field is fields[variable])
            assert getattr(configured, field_name) == fields[variable].default, f"values.yaml changes {variable}"


def test_every_topic_a_service_reads_is_named_by_the_chart() -> None:
    """A renamed topic must reach every pod, or one service writes where the others no longer read."""
    topics = {name for name in env_names(ServiceSettings) if name.startswith("TOPIC_")}
    for name, workload in workloads("defaults").items():
        missing = topics - set(passed_env(workload))
        assert not missing, f"{name} lacks {sorted(missing)}: the chart cannot rename those topics"
    renamed = template("--set", "topics.erasures=acme.erasures")
    assert renamed.returncode == 0, renamed.stderr
    assert 'value: "acme.erasures"' in renamed.stdout


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_secrets_reach_the_pods_from_secrets_only(scenario: str) -> None:
    for name, workload in workloads(scenario).items():
        fields = env_names(settings_of(workload))
        for variable, entry in passed_env(workload).items():
            field = fields.get(variable)
            secret = field is not None and SecretStr in {field.annotation, *getattr(field.annotation, "__args__", ())}
            if secret or variable.endswith("_STORE_URL"):
                assert "secretKeyRef" in entry.get("valueFrom", {}), f"{name}: {variable} must come from a Secret"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_file_a_variable_names_is_mounted_whole_and_read_only(scenario: str) -> None:
    """Mounted as directories (no subPath), so a rotated Secret reaches the running pods."""
    for name, workload in workloads(scenario).items():
        pod = workload["spec"]["template"]["spec"]
        volumes = {volume["name"]: volume for volume in pod["volumes"]}
        mounts = the_container(workload)["volumeMounts"]
        for variable, entry in passed_env(workload).items():
            if not str(entry.get("value", "")).startswith("/etc/"):
                continue
            path = PurePosixPath(entry["value"])
            mount = next((m for m in mounts if path.parent == PurePosixPath(m["mountPath"])), None)
            assert mount is not None, f"{name}: nothing is mounted where {variable}={path} points"
            assert mount.get("readOnly") is True, f"{name}: {mount['mountPath']}"
            assert "subPath" not in mount, f"{name}: {mount['mountPath']} would not follow Secret updates"
            volume = volumes[mount["name"]]
            source = volume.get("secret", {}).get("secretName") or volume.get("configMap", {}).get("name")
            assert source, f"{name}: {variable} must come from a Secret or ConfigMap"
            items = next((doc for doc in rendered(scenario) if doc["metadata"]["name"] == source), None)
            if items is not None:
                assert path.name in {**items.get("data", {}), **items.get("stringData", {})}, f"{name}: {variable}"


def test_the_api_keys_file_is_mounted_for_scoring_from_a_secret() -> None:
    for scenario in ("everything-on", "chart-made-secrets"):
        scoring = next(w for w in of_kind(scenario, "Deployment").values() if component(w) == "scoring")
        path = PurePosixPath(passed_env(scoring)["API_KEYS_FILE"]["value"])
        volume = next(v for v in scoring["spec"]["template"]["spec"]["volumes"] if v["name"] == "api-keys")
        assert "secret" in volume, scenario
    made = next(doc for doc in rendered("chart-made-secrets") if doc["metadata"]["name"].endswith("-api-keys"))
    keys = yaml.safe_load(made["stringData"][path.name])
    assert keys == [{"name": "operator", "tenant": "*", "scopes": ["check"], "hash": "sha256:" + "0" * 64}]


def test_a_chart_made_secret_without_the_required_values_is_refused_naming_them() -> None:
    result = template("--set", "secrets.existingSecret=")
    assert result.returncode != 0
    assert "secrets.values.GENERIC_WEBHOOK_SECRET is required" in result.stderr
    assert "secrets.existingSecret" in result.stderr


def test_sasl_needs_credentials() -> None:
    result = template("--set", "kafka.securityProtocol=SASL_SSL")
    assert result.returncode != 0
    assert "kafka.sasl.username (or kafka.sasl.existingSecret) is required" in result.stderr


def test_a_misspelt_or_impossible_value_is_refused_naming_it() -> None:
    result = template("--set", "ingestion.replica=3")
    assert result.returncode != 0
    assert "at '/ingestion': additional properties 'replica' not allowed" in result.stderr
    result = template("--set", "kafka.securityProtocol=SASL", "--set", "kafka.sasl.existingSecret=x")
    assert result.returncode != 0
    assert "at '/kafka/securityProtocol': value must be one of" in result.stderr
    result = template("--set", "secrets.values.generic_webhook_secret=x")
    assert result.returncode != 0
    assert "generic_webhook_secret" in result.stderr


def test_only_the_webhooks_are_exposed_and_only_over_tls() -> None:
    assert not of_kind("defaults", "Ingress")
    (ingress,) = of_kind("everything-on", "Ingress").values()
    (rule,) = ingress["spec"]["rules"]
    assert [(p["path"], p["pathType"]) for p in rule["http"]["paths"]] == [("/v1/webhooks/", "Prefix")]
    assert ingress["spec"]["tls"] == [{"hosts": [rule["host"]], "secretName": "hooks-example-com-tls"}]
    result = template("--set", "ingestion.ingress.enabled=true")
    assert result.returncode != 0
    assert "ingestion.ingress.tlsSecretName is required" in result.stderr


def test_the_operations_guide_covers_every_group_of_values_and_the_checked_kubernetes_version() -> None:
    guide = (ROOT / "docs" / "operations.md").read_text()
    kubernetes = guide[guide.index("## Kubernetes") : guide.index("## Hardening")]
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    undocumented = [key for key in values if not key.endswith("Override") and f"`{key}" not in kubernetes]
    assert not undocumented, f"docs/operations.md, Kubernetes: say what {undocumented} are"
    assert f"Kubernetes {KUBERNETES_VERSION} API schemas" in kubernetes


def test_network_policies_admit_only_the_named_callers_and_prometheus() -> None:
    assert not of_kind("defaults", "NetworkPolicy")
    values = yaml.safe_load((ROOT / "tests" / "fixtures" / "helm" / "everything-on.yaml").read_text())
    defaults = yaml.safe_load((CHART / "values.yaml").read_text())["networkPolicy"]
    scrapers = defaults["metricsFrom"]
    expected = {
        "ingestion": defaults["ingestionFrom"] + scrapers,
        "scoring": values["networkPolicy"]["scoringFrom"] + scrapers,
        "notification": scrapers,
    }
    policies = of_kind("everything-on", "NetworkPolicy")
    for workload in workloads("everything-on").values():
        pod_labels = workload["spec"]["template"]["metadata"].get("labels", {})
        selecting = [
            p for p in policies.values() if p["spec"]["podSelector"]["matchLabels"].items() <= pod_labels.items()
        ]
        if workload["kind"] == "Job":
            assert not selecting, "the topic Job listens on nothing"
            continue
        (policy,) = selecting
        (rule,) = policy["spec"]["ingress"]
        assert rule["from"] == expected[component(workload)], component(workload)
        assert rule["ports"] == [{"port": "http", "protocol": "TCP"}]


def test_a_service_nobody_is_named_to_call_accepts_no_connection() -> None:
    """An ingress rule without `from` would admit everyone; with no peers the policy must deny instead."""
    result = template("--set", "networkPolicy.enabled=true", "--set-json", "networkPolicy.metricsFrom=[]")
    assert result.returncode == 0, result.stderr
    policies = [doc for doc in yaml.safe_load_all(result.stdout) if doc and doc["kind"] == "NetworkPolicy"]
    notification = next(p for p in policies if p["metadata"]["name"].endswith("-notification"))
    assert notification["spec"]["ingress"] == []
    for policy in policies:
        assert all(rule.get("from") for rule in policy["spec"]["ingress"]), policy["metadata"]["name"]
