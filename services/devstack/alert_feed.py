"""One line per alert, as `make run` and `rapport-guard alerts` print them."""

import asyncio
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, Protocol

from pydantic import ValidationError

from schemas import Alert
from services.notification.wording import summary


class AlertSource(Protocol):
    """The part of an aiokafka consumer the printer needs (an in-memory stand-in in unit tests)."""

    def assignment(self) -> Iterable[Any]: ...

    async def getmany(self, *partitions: Any, timeout_ms: int = ...) -> Mapping[Any, Sequence[Any]]: ...

    async def end_offsets(self, partitions: list[Any]) -> Mapping[Any, int]: ...

    async def position(self, partition: Any) -> int: ...


def alert_line(alert: Alert) -> str:
    """`[STALKING, historical]` for an alert whose pressure had already ended when it was scored: on record, but
    no one is paged for it, so the reader should not read it as news either."""
    marker = ", historical" if alert.historical else ""
    return f"ALERT [{alert.level.upper()}{marker}] {summary(alert)}"


async def print_alerts(
    source: AlertSource, say: Callable[[str], None], stop: asyncio.Event, *, follow: bool = True
) -> int:
    """Print alerts until `stop` is set; without `follow`, also stop once what was on the topic is printed."""
    ends = None if follow else await source.end_offsets(list(source.assignment()))
    printed = 0
    while not stop.is_set():
        if ends is not None and all([await source.position(tp) >= end for tp, end in ends.items()]):
            break
        batches = await source.getmany(timeout_ms=500)
        for records in batches.values():
            for record in records:
                try:
                    alert = Alert.model_validate_json(record.value or b"")
                except ValidationError:
                    say(
                        f"(skipped a record that is not an alert: partition {record.partition}, offset {record.offset})"
                    )
                    continue
                say(alert_line(alert))
                printed += 1
    return printed
