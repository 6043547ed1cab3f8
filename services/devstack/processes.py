"""Start the three services as separate processes and wait until each is ready."""

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from services.devstack.children import spawn, stop, wait_until_answering

SERVICES = {
    "ingestion": ("services.ingestion.main", "INGEST_PORT"),
    "scoring": ("services.scoring.main", "SCORING_PORT"),
    "notification": ("services.notification.main", "NOTIFY_PORT"),
}


@dataclass
class ServiceProcess:
    name: str
    port: int
    env: dict[str, str]
    log_path: Path
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        module, port_setting = SERVICES[self.name]
        log = open(self.log_path, "ab")  # noqa: SIM115 - the child writes to it for its whole life
        self.process = spawn(
            [sys.executable, "-m", module],
            env={**os.environ, **self.env, port_setting: str(self.port)},
            stdout=log,
            stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 60) -> None:
        if self.process is None:
            raise RuntimeError(f"{self.name} was never started")
        wait_until_answering(self.process, f"{self.url}/readyz", timeout, self.name, self.log_tail)

    def log_tail(self) -> str:
        return self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""

    def stop(self, timeout: float = 15) -> None:
        stop(self.process, timeout)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
