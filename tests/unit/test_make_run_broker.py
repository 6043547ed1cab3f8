"""How `make run` picks its broker, shows the first Maven download, and what it tells people to tail alerts with."""

import shlex
from pathlib import Path

import pytest

from services.devstack import apache_kafka
from services.devstack.broker_choice import chosen_impl
from services.devstack.tail_commands import kcat_command, python_tail_code, python_tail_command


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A PATH holding only what the test puts there."""
    path = tmp_path / "bin"
    path.mkdir()
    monkeypatch.setenv("PATH", str(path))
    return path


def fake_tool(bin_dir: Path, name: str, script: str = "") -> None:
    tool = bin_dir / name
    tool.write_text("#!/bin/sh\n" + script)
    tool.chmod(0o755)


def test_auto_prefers_apache_kafka_when_java_and_maven_are_there(bin_dir: Path) -> None:
    fake_tool(bin_dir, "java")
    fake_tool(bin_dir, "mvn")
    assert chosen_impl({}) == "apache"
    assert chosen_impl({"KAFKA_IMPL": "auto"}) == "apache"
    assert chosen_impl({"KAFKA_IMPL": "embedded"}) == "embedded"


def test_auto_falls_back_to_the_embedded_broker_without_maven(bin_dir: Path) -> None:
    fake_tool(bin_dir, "java")
    assert chosen_impl({}) == "embedded"
    with pytest.raises(RuntimeError, match="KAFKA_IMPL=apache needs java and mvn"):
        chosen_impl({"KAFKA_IMPL": "apache"})


def test_a_misspelt_kafka_impl_names_the_choices() -> None:
    with pytest.raises(ValueError, match="auto, apache or embedded, got 'kafka'"):
        chosen_impl({"KAFKA_IMPL": "kafka"})


def test_the_first_jar_download_reports_progress(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    downloads = "".join(
        f'echo "[INFO] Downloaded from central: https://repo/org/{name} (1 MB at 2 MB/s)"\n'
        for name in ("kafka_2.13-4.1.1.jar", "kafka-clients-4.1.1.jar")
    )
    fake_tool(bin_dir, "mvn", 'echo "[INFO] Scanning for projects..."\n' + downloads)
    monkeypatch.setattr(apache_kafka, "ROOT", tmp_path)
    monkeypatch.setattr(apache_kafka, "PROGRESS_EVERY_SECONDS", 0)
    said: list[str] = []
    jars = apache_kafka.resolve_jars(said.append)
    assert jars == tmp_path / ".cache" / "kafka" / apache_kafka.kafka_version()
    assert said[0].startswith("downloading the Apache Kafka")
    assert "kafka-clients-4.1.1.jar" in said[2]
    assert said[-1] == "  maven: done, 0 jars ready (2 files downloaded)"
    said.clear()
    apache_kafka.resolve_jars(said.append)
    assert said == [], "a cached download is silent"


def test_a_failed_jar_download_shows_mavens_words(
    bin_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_tool(bin_dir, "mvn", 'echo "[ERROR] Could not resolve dependencies"\nexit 1\n')
    monkeypatch.setattr(apache_kafka, "ROOT", tmp_path)
    with pytest.raises(RuntimeError, match="Could not resolve dependencies"):
        apache_kafka.resolve_jars()


def test_kcat_on_the_embedded_broker_skips_the_version_request_and_starts_at_offset_zero() -> None:
    command = kcat_command("embedded", "127.0.0.1:9092", "outreach.alerts")
    assert command[:3] == ["kcat", "-b", "127.0.0.1:9092"]
    assert "api.version.request=false" in command
    assert command[-2:] == ["-o", "0"]
    assert kcat_command("apache", "127.0.0.1:9092", "outreach.alerts")[-2:] == ["-o", "beginning"]


def test_the_python_line_is_valid_python_in_double_quotes() -> None:
    code = python_tail_code("127.0.0.1:9092", "outreach.alerts")
    compile(code, "<tail>", "exec")
    assert '"' not in code
    assert python_tail_command("127.0.0.1:9092", "outreach.alerts") == f'uv run python -c "{code}"'


def test_the_readme_shows_the_tail_lines_make_run_prints() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    address = "127.0.0.1:40123"
    assert shlex.join(kcat_command("apache", address, "outreach.alerts")) in readme
    assert python_tail_command(address, "outreach.alerts") in readme
    embedded = " ".join(kcat_command("embedded", "<address>", "outreach.alerts"))
    assert embedded in " ".join(readme.split()), "the embedded broker's kcat line, as the README wraps it"
