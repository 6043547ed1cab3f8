"""HubSpot's exported activities (placeholder until the mapping lands)."""

from collections.abc import Iterable, Sequence


def is_hubspot_header(header: Sequence[str]) -> bool:
    return "Activity date" in header


def read_hubspot(lines: Iterable[str], tenant: str, collector: object) -> None:
    raise NotImplementedError
