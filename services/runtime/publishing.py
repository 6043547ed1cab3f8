"""Publish many messages with one wait for all acknowledgements, instead of one round trip each."""

import asyncio
from collections.abc import Awaitable, Iterable
from typing import Any


async def confirm_all(sends: Iterable[Awaitable[Any]]) -> None:
    """Start every send, then wait until the broker acknowledged them all (or raise the first failure).

    Each send is a FastStream `publish(..., no_confirm=True)` call: it returns the delivery future, or None
    on FastStream's in-memory test broker, which delivers at once.
    """
    futures = [await send for send in sends]
    await asyncio.gather(*(future for future in futures if future is not None))
