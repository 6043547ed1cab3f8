"""A real `redis-server` (Debian's package) on a free loopback port, with its data surviving a restart."""

import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from services.devstack.children import spawn, stop
from services.devstack.ports import free_port, wait_for_port


def redis_available() -> bool:
    return shutil.which("redis-server") is not None


class RedisServer:
    """Start, stop and restart one server. Durable (the default): every write is in the append-only file before
    it is acknowledged, so a stop and a start lose nothing; the benchmark turns that off."""

    def __init__(self, durable: bool = True, extra_args: Sequence[str] = ()) -> None:
        self.durable = durable
        self.extra_args = list(extra_args)
        self.port = free_port()
        self.workdir = Path(tempfile.mkdtemp(prefix="rg-redis-"))
        self.log_path = self.workdir / "redis.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout: float = 15) -> None:
        self.process = spawn(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--save",
                "",
                "--appendonly",
                "yes" if self.durable else "no",
                "--appendfsync",
                "always",
                "--protected-mode",
                "yes",
                "--logfile",
                str(self.log_path),
                *self.extra_args,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        wait_for_port(self.port, timeout, self.process)

    def stop(self) -> None:
        stop(self.process, 15)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextmanager
def running_redis(durable: bool = True) -> Iterator[RedisServer]:
    server = RedisServer(durable)
    server.start()
    try:
        yield server
    finally:
        server.destroy()
