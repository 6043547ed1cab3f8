"""Which broker `make run` and the integration tests start: `KAFKA_IMPL` = auto | apache | embedded.

`auto` prefers Apache Kafka, because every Kafka client speaks to it; the embedded Tansu broker needs no Java but
serves some clients only with extra settings (see `tail_commands`).
"""

from collections.abc import Mapping
from typing import Literal

from services.devstack.apache_kafka import java_available

BrokerKind = Literal["apache", "embedded"]
KINDS = ("auto", "apache", "embedded")


def chosen_impl(environ: Mapping[str, str]) -> BrokerKind:
    impl = environ.get("KAFKA_IMPL") or "auto"
    if impl not in KINDS:
        raise ValueError(f"KAFKA_IMPL must be auto, apache or embedded, got {impl!r}")
    if impl == "embedded":
        return "embedded"
    if java_available():
        return "apache"
    if impl == "apache":
        raise RuntimeError("KAFKA_IMPL=apache needs java and mvn on the PATH; install them or use KAFKA_IMPL=embedded")
    return "embedded"
