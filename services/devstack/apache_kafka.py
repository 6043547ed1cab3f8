"""A real single-node Apache Kafka (KRaft) from Maven Central jars, on free loopback ports.

One launcher for `make run` and the test harness. Jars are resolved once by Maven (`deploy/kafka/pom.xml`) into
`.cache/kafka/<version>/` (git-ignored); the first resolution downloads about 50 files and reports its progress.
"""

import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from services.devstack.children import spawn, stop
from services.devstack.ports import free_port, wait_for_port

ROOT = Path(__file__).resolve().parents[2]
POM = ROOT / "deploy" / "kafka" / "pom.xml"


PROGRESS_EVERY_SECONDS = 3.0


def kafka_version() -> str:
    match = re.search(r"<kafka.version>([^<]+)</kafka.version>", POM.read_text())
    if match is None:
        raise RuntimeError(f"{POM} names no <kafka.version>")
    return match.group(1)


def java_available() -> bool:
    return shutil.which("java") is not None and shutil.which("mvn") is not None


def _ignore(_: str) -> None:
    return None


def resolve_jars(progress: Callable[[str], None] = _ignore) -> Path:
    """Download the broker's jars once; later runs reuse the cache.

    Maven's download lines are counted, not echoed: `progress` gets a short line every few seconds, so a first
    start that takes minutes never looks hung.
    """
    target = ROOT / ".cache" / "kafka" / kafka_version()
    marker = target / ".complete"
    if marker.exists():
        return target
    target.mkdir(parents=True, exist_ok=True)
    progress(f"downloading the Apache Kafka {kafka_version()} jars with Maven into {target} (first start only)…")
    command = [
        shutil.which("mvn") or "mvn",
        "-B",
        "-Dstyle.color=never",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        f"-DoutputDirectory={target}",
        "-DincludeScope=runtime",
    ]
    output: list[str] = []
    downloaded = 0
    last_report = time.monotonic()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as maven:
        try:
            for line in maven.stdout or ():
                output.append(line)
                words = line.removeprefix("[INFO]").split()
                if words[:2] == ["Downloaded", "from"] and len(words) > 3:
                    downloaded += 1
                    if time.monotonic() - last_report >= PROGRESS_EVERY_SECONDS:
                        artifact = words[3].rsplit("/", 1)[-1]
                        progress(f"  maven: {downloaded} files downloaded so far (latest {artifact})")
                        last_report = time.monotonic()
            maven.wait(600)
        except BaseException:
            maven.kill()
            raise
    if maven.returncode != 0:
        raise RuntimeError(f"Maven could not resolve the Kafka jars:\n{''.join(output[-30:])}")
    progress(f"  maven: done, {len(list(target.glob('*.jar')))} jars ready ({downloaded} files downloaded)")
    marker.touch()
    return target


class ApacheKafka:
    """Start, stop and restart one combined broker+controller node; data survives a restart."""

    def __init__(self, log_path: Path | None = None, progress: Callable[[str], None] = _ignore) -> None:
        self.jars = resolve_jars(progress)
        self.workdir = Path(tempfile.mkdtemp(prefix="rg-kafka-"))
        self.port = free_port()
        self.controller_port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = log_path or self.workdir / "broker.log"
        self._write_config()
        self._format()

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    def _java(self, main_class: str, *args: str) -> list[str]:
        return [
            "java",
            "-Xms256m",
            "-Xmx512m",
            "-XX:+UseSerialGC",
            "-XX:TieredStopAtLevel=1",
            "-Djava.awt.headless=true",
            f"-Dkafka.logs.dir={self.workdir}",
            "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
            "-Dorg.slf4j.simpleLogger.log.kafka.server.KafkaRaftServer=info",
            "-Dorg.slf4j.simpleLogger.log.kafka.server.BrokerServer=info",
            "-cp",
            f"{self.jars}/*",
            main_class,
            *args,
        ]

    def _write_config(self) -> None:
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self.controller_port}",
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": str(self.workdir / "data"),
            "num.partitions": "3",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            "group.initial.rebalance.delay.ms": "0",
            "log.cleaner.dedupe.buffer.size": "16777216",
            "num.network.threads": "2",
            "num.io.threads": "2",
            "auto.create.topics.enable": "true",
        }
        self.config = self.workdir / "server.properties"
        self.config.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))

    def _format(self) -> None:
        cluster_id = (
            subprocess.run(
                self._java("kafka.tools.StorageTool", "random-uuid"),
                check=True,
                capture_output=True,
                text=True,
                timeout=120,
            )
            .stdout.strip()
            .splitlines()[-1]
        )
        subprocess.run(
            self._java("kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.config)),
            check=True,
            capture_output=True,
            timeout=120,
        )

    def start(self, timeout: float = 120) -> None:
        """Start (or restart, on the same ports and data) and wait until the broker says it has started."""
        log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")  # noqa: SIM115 - the broker writes to it for its whole life
        self.process = spawn(
            self._java("kafka.Kafka", str(self.config)),
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "KAFKA_HEAP_OPTS": ""},
        )
        wait_for_port(self.port, timeout, self.process)
        deadline = time.monotonic() + timeout
        while b"Kafka Server started" not in self.log_path.read_bytes()[log_offset:]:
            if self.process.poll() is not None:
                raise RuntimeError(f"Kafka exited early; see {self.log_path}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"Kafka did not start in {timeout} s; see {self.log_path}")
            time.sleep(0.1)

    def stop(self) -> None:
        stop(self.process, 30)
        self.process = None

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)
