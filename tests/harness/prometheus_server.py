"""A real Prometheus (Debian's `prometheus` binary) on a free loopback port, scraping the test stack.

It runs the project's own deploy/prometheus/prometheus.yml with only what must change on a test machine:
the targets (the services' loopback ports), short intervals, and absolute paths to the rule files.
"""

import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import yaml

from services.devstack.children import spawn, stop, wait_until_answering
from services.devstack.ports import free_port

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy" / "prometheus"


def local_config(targets: dict[str, str], interval: str = "1s") -> dict[str, Any]:
    """deploy/prometheus/prometheus.yml pointed at `targets` (job name → host:port)."""
    config: dict[str, Any] = yaml.safe_load((DEPLOY / "prometheus.yml").read_text())
    config["global"] = {**config.get("global", {}), "scrape_interval": interval, "evaluation_interval": interval}
    config["rule_files"] = [str(DEPLOY / pattern) for pattern in config.get("rule_files", [])]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    missing = set(targets) - set(jobs)
    if missing:
        raise ValueError(f"deploy/prometheus/prometheus.yml has no scrape job for {sorted(missing)}")
    for name, address in targets.items():
        jobs[name]["static_configs"] = [{"targets": [address]}]
    return config


class PrometheusServer:
    def __init__(self, config: dict[str, Any], workdir: Path) -> None:
        self.config = config
        self.workdir = workdir
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.workdir / "prometheus.log"

    def start(self, timeout: float = 60) -> None:
        binary = shutil.which("prometheus")
        if binary is None:
            raise RuntimeError("prometheus is missing: install Debian's prometheus package (`make system-deps`)")
        config_file = self.workdir / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(self.config))
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child writes to it for its whole life
        self.process = spawn(
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={self.workdir / 'data'}",
                "--storage.tsdb.retention.time=1h",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        wait_until_answering(self.process, f"{self.url}/-/ready", timeout, "prometheus", self.log_tail)

    def stop(self, timeout: float = 15) -> None:
        stop(self.process, timeout)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""

    def api(self, path: str, **params: str) -> dict[str, Any]:
        """The JSON body of an HTTP API call; Prometheus answers errors (400, 422) as JSON too."""
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=30)
        body: dict[str, Any] = response.json()
        return body

    def query(self, expr: str) -> dict[str, Any]:
        """`status`, and `data` or `errorType`/`error`, of an instant query at the current time."""
        return self.api("query", query=expr)

    def metric_names(self) -> set[str]:
        return set(self.api("label/__name__/values")["data"])
