"""One switch for the broker the integration tests run on: `KAFKA_IMPL` = apache | embedded | auto."""

import os
from typing import Protocol

from services.devstack.embedded_broker import EmbeddedBroker
from tests.harness.apache_kafka import ApacheKafka, java_available


class Broker(Protocol):
    @property
    def bootstrap(self) -> str: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...


class EmbeddedTestBroker(EmbeddedBroker):
    """Tansu, for machines without Java or Maven; its memory storage does not survive a restart."""

    name = "embedded (Tansu)"

    def destroy(self) -> None:
        self.stop()


class ApacheTestBroker(ApacheKafka):
    name = "Apache Kafka"


def chosen_impl() -> str:
    impl = os.environ.get("KAFKA_IMPL", "auto")
    if impl not in {"apache", "embedded", "auto"}:
        raise ValueError(f"KAFKA_IMPL must be apache, embedded or auto, got {impl!r}")
    if impl == "auto":
        return "apache" if java_available() else "embedded"
    if impl == "apache" and not java_available():
        raise RuntimeError("KAFKA_IMPL=apache but java or mvn is missing on this machine")
    return impl


def new_broker() -> EmbeddedTestBroker | ApacheTestBroker:
    """A fresh, not yet started broker of the chosen kind."""
    return ApacheTestBroker() if chosen_impl() == "apache" else EmbeddedTestBroker()
