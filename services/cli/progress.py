"""A progress bar with rate and ETA on a terminal; nothing at all when stderr is not one (scripts, CI, pipes)."""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

Advance = Callable[[int], None]


@contextmanager
def progress_bar(description: str, total: int, unit: str) -> Iterator[Advance | None]:
    """Yields a function to call with each step's size, or None when stderr is not a terminal."""
    if not sys.stderr.isatty():
        yield None
        return
    rate = TransferSpeedColumn() if unit == "bytes" else TextColumn("{task.fields[rate]}")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        *(() if unit == "bytes" else (MofNCompleteColumn(),)),
        rate,
        TextColumn("ETA"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, transient=True) as progress:
        task = progress.add_task(description, total=total, rate="")

        def advance(step: int) -> None:
            progress.update(task, advance=step)
            speed = progress.tasks[task].speed
            if unit != "bytes" and speed:
                progress.update(task, rate=f"{speed:,.0f} {unit}/s")

        yield advance
