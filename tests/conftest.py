import pytest

from tests.harness.brokers import chosen_impl


def pytest_report_header() -> str:
    return f"integration broker: {chosen_impl()} (KAFKA_IMPL)"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)
