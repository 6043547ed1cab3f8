from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.harness.brokers import ApacheTestBroker, EmbeddedTestBroker, new_broker
from tests.harness.stack import Stack, running_stack


@pytest.fixture(scope="session")
def kafka() -> Iterator[ApacheTestBroker | EmbeddedTestBroker]:
    broker = new_broker()
    broker.start()
    try:
        yield broker
    finally:
        broker.destroy()


@pytest.fixture(scope="session")
def stack(kafka: ApacheTestBroker | EmbeddedTestBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    with running_stack(kafka.bootstrap, tmp_path_factory.mktemp("stack-logs")) as running:
        yield running


@pytest.fixture
def log_dir(tmp_path: Path) -> Path:
    return tmp_path
