"""Turns a batch of events into scores and alerts against the store; knows nothing of Kafka."""

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from schemas import Alert, AlertLevel, Level, OutreachEvent, PairScore, Scope
from services.scoring.engine import Judgement, judge, place
from services.scoring.policy import Policy
from services.scoring.state import ContactState, StateStore, Touch


@dataclass
class Outputs:
    scores: list[PairScore] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    duplicates: int = 0


def alert_id(event: OutreachEvent, scope: Scope, sender_id: str | None, level: AlertLevel) -> str:
    """Deterministic, so a replay after a crash re-emits the same id and consumers can drop it."""
    name = f"{event.tenant}:{event.contact_id}:{sender_id}:{scope}:{event.source}:{event.event_id}:{level}"
    return str(uuid.UUID(bytes=hashlib.sha256(name.encode()).digest()[:16], version=5))


def alert_for(event: OutreachEvent, previous: Level, judgement: Judgement, emitted_at: datetime) -> Alert | None:
    """An alert when the level rises, or `resolved` when it falls back to ok."""
    if judgement.level.rank > previous.rank:
        level = AlertLevel(judgement.level.value)
    elif judgement.level is Level.OK and previous is not Level.OK:
        level = AlertLevel.RESOLVED
    else:
        return None
    return Alert(
        alert_id=alert_id(event, Scope.PAIR, event.sender_id, level),
        tenant=event.tenant,
        contact_id=event.contact_id,
        sender_id=event.sender_id,
        scope=Scope.PAIR,
        level=level,
        previous_level=previous,
        nuisance_score=judgement.nuisance_score,
        rapport_score=judgement.rapport_score,
        tier=judgement.tier,
        reasons=judgement.reasons,
        next_allowed_at=judgement.next_allowed_at,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        emitted_at=emitted_at,
    )


def score_event(
    state: ContactState, event: OutreachEvent, policy: Policy, now: datetime
) -> tuple[PairScore, Alert | None] | None:
    """Apply one event to a contact's state; None when it was already counted."""
    pair = state.pair(event.sender_id)
    touch = Touch(
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        channel=event.channel,
        direction=event.direction,
        kind=event.kind,
        outcome=event.outcome,
        category=event.category,
    )
    if not place(pair, touch):
        return None
    judgement = judge(pair, event.occurred_at, policy)
    alert = alert_for(event, pair.alerted_level, judgement, now)
    if alert is not None:
        pair.alerted_level = judgement.level
    score = PairScore(
        tenant=event.tenant,
        sender_id=event.sender_id,
        contact_id=event.contact_id,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        level=judgement.level,
        nuisance_score=judgement.nuisance_score,
        rapport_score=judgement.rapport_score,
        tier=judgement.tier,
        reasons=judgement.reasons,
        next_allowed_at=judgement.next_allowed_at,
    )
    return score, alert


class Processor:
    """Loads each contact once per batch, applies its events in order, and returns what to publish."""

    def __init__(self, store: StateStore, policy: Policy) -> None:
        self.store = store
        self.policy = policy

    async def process(self, events: Sequence[OutreachEvent], now: datetime) -> tuple[Outputs, dict[str, ContactState]]:
        """Outputs, plus the states to save once the outputs are on Kafka."""
        outputs = Outputs()
        states: dict[str, ContactState] = {}
        for event in events:
            key = event.contact_key
            if key not in states:
                states[key] = await self.store.load(key)
            result = score_event(states[key], event, self.policy, now)
            if result is None:
                outputs.duplicates += 1
                continue
            score, alert = result
            outputs.scores.append(score)
            if alert is not None:
                outputs.alerts.append(alert)
        return outputs, states

    async def save(self, states: dict[str, ContactState]) -> None:
        for key, state in states.items():
            await self.store.save(key, state)
