"""One switch for the broker the integration tests run on: `KAFKA_IMPL` = apache | embedded | auto."""

import os
from typing import Protocol

from services.devstack.apache_kafka import ApacheKafka
from services.devstack.broker_choice import chosen_impl as chosen_kind
from services.devstack.embedded_broker import EmbeddedBroker


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
    """The same choice `make run` makes."""
    return chosen_kind(os.environ)


def new_broker() -> EmbeddedTestBroker | ApacheTestBroker:
    """A fresh, not yet started broker of the chosen kind."""
    return ApacheTestBroker() if chosen_impl() == "apache" else EmbeddedTestBroker()
