"""Deterministic ids of what scoring publishes: a replay after a crash yields the same ids, so repeats are known."""

import hashlib
import uuid

from schemas import AlertLevel, OutreachEvent, Scope


def alert_id(event: OutreachEvent, scope: Scope, sender_id: str | None, level: AlertLevel) -> str:
    return _named(f"{event.tenant}:{event.contact_id}:{sender_id}:{scope}:{event.source}:{event.event_id}:{level}")


def renewed_alert_id(event: OutreachEvent, scope: Scope, sender_id: str | None, level: AlertLevel) -> str:
    """A level first announced as history, announced again as current because `event` showed that it still holds:
    an id of its own, apart from any alert `event` itself raised, and the same when the event is scored again."""
    return _named(
        f"{event.tenant}:{event.contact_id}:{sender_id}:{scope}:{event.source}:{event.event_id}:{level}:renewed"
    )


def swept_alert_id(
    tenant: str, contact_id: str, sender_id: str | None, scope: Scope, *, due_at: int, level: AlertLevel
) -> str:
    """A fall found by the wall-clock sweep: named by the instant it fell, so a sweep run again after a crash (the
    state not yet saved) yields the same id."""
    return _named(f"{tenant}:{contact_id}:{sender_id}:{scope}:sweep:{due_at}:{level}")


def score_id(event: OutreachEvent) -> str:
    """One score per event; carried in the score's `score_id` header."""
    return _named(f"{event.tenant}:{event.contact_id}:{event.source}:{event.event_id}")


def _named(name: str) -> str:
    return str(uuid.UUID(bytes=hashlib.sha256(name.encode()).digest()[:16], version=5))
