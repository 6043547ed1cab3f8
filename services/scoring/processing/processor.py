"""Turns a batch of events into scores and alerts against the store; knows nothing of Kafka.

Each contact's state is loaded once per batch and its events applied in the order they came. A pair's alert is
decided on the pair's level as of its latest touch, the team's on the contact's latest touch, so a late event
placed in the past cannot raise a stale alarm, and the announced level ends up the same whatever the order.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas import Alert, Level, OutreachEvent, PairScore, Scope
from services.scoring.engine.judge import ContactView, Judgement, judge_pair, judge_team, pair_level, team_applies
from services.scoring.engine.touches import seconds, touch_from_event
from services.scoring.policy.file import PolicySet
from services.scoring.policy.model import known_timezone
from services.scoring.processing.alerts import announcement, build_alert
from services.scoring.state.codec import EARLIEST, LATEST
from services.scoring.state.history import ContactState, place
from services.scoring.state.store import StateStore

log = logging.getLogger("rapport_guard.scoring")

FUTURE_TOLERANCE = timedelta(days=1)


@dataclass
class Outputs:
    scored: list[tuple[OutreachEvent, PairScore]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    duplicates: int = 0
    consent: int = 0
    """Opt-outs and opt-ins seen: not touches, so they are neither scored nor placed (yet)."""
    failed: list[tuple[int, str, str]] = field(default_factory=list)
    """(position in the batch, reason, detail) of events that could not be processed."""

    @property
    def scores(self) -> list[PairScore]:
        return [score for _, score in self.scored]


def event_problem(event: OutreachEvent) -> tuple[str, str] | None:
    """Why the scorer cannot take an event that parsed, or None."""
    if event.contact_timezone is not None:
        try:
            known_timezone(event.contact_timezone)
        except ValueError as exc:
            return "unknown_timezone", f"contact_timezone: {exc}"
    at = seconds(event.occurred_at)
    if not EARLIEST <= at <= LATEST:
        return "occurred_at_out_of_range", "occurred_at: outside the years 1952-2088"
    if event.occurred_at > event.received_at + FUTURE_TOLERANCE:
        return "occurred_in_future", "occurred_at: more than a day after the event was received"
    return None


def score_of(event: OutreachEvent, judgement: Judgement) -> PairScore:
    return PairScore(
        tenant=event.tenant,
        sender_id=event.sender_id,
        contact_id=event.contact_id,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        **judgement.fields(),
    )


class Processor:
    def __init__(self, store: StateStore, policies: PolicySet) -> None:
        self.store = store
        self.policies = policies

    async def process(self, events: Sequence[OutreachEvent], now: datetime) -> tuple[Outputs, dict[str, ContactState]]:
        """Outputs, plus the changed states to save once the outputs are on Kafka."""
        outputs = Outputs()
        keys = list(dict.fromkeys(event.contact_key for event in events))
        states = await self.store.load_many(keys) if keys else {}
        changed: dict[str, ContactState] = {}
        for position, event in enumerate(events):
            if event.kind.is_consent:
                outputs.consent += 1
                continue
            state = states[event.contact_key]
            try:
                placed = self.apply(state, event, now, outputs)
            except Exception as exc:  # one bad event must not stop the partition
                log.exception("event at position %d could not be scored", position)
                outputs.failed.append((position, "processing_failed", f"{type(exc).__name__}: {exc}"))
                continue
            if placed:
                changed[event.contact_key] = state
            else:
                outputs.duplicates += 1
        return outputs, changed

    def apply(self, state: ContactState, event: OutreachEvent, now: datetime, outputs: Outputs) -> bool:
        """Place one event and judge what it changed; False when it was already counted.

        All or nothing: when judging fails, the state is put back as it was before the event, evictions included,
        and nothing is added to `outputs`.
        """
        before = state.copy()
        try:
            return self._apply(state, event, now, outputs)
        except Exception:
            state.revert_to(before)
            raise

    def _apply(self, state: ContactState, event: OutreachEvent, now: datetime, outputs: Outputs) -> bool:
        """After every event each pair's announced level is its level as of its latest touch under the current
        policy and time zone. Usually only the event's pair and the team can have changed; when the policy, the
        contact's zone or the horizon moved, every other pair is re-judged too (and its new level is kept
        without an alert, since no event of that pair caused it).
        """
        policy = self.policies.for_tenant(event.tenant)
        touch = touch_from_event(event, policy)
        placement = place(state, event.sender_id, touch, policy)
        if placement is None:
            return False
        moved = state.note_timezone(event.contact_timezone, touch.at)
        everything = moved or placement.forgot_in_contact or state.policy_mark != policy.fingerprint
        appended = touch.counts and not everything and not placement.forgot_in_pair
        pair = state.pairs[event.sender_id]
        view = ContactView(state, policy)
        known = pair.alerted if appended and placement.newest_of_pair else None
        judgement = judge_pair(view, event.sender_id, touch.at, known)
        latest = pair.last_at
        current = judgement if latest == touch.at else judge_pair(view, event.sender_id, latest)
        team = None
        if team_applies(state, policy) or state.team_alerted is not Level.OK:
            known = state.team_alerted if appended and placement.newest_of_contact else None
            team = judge_team(view, state.latest_at or touch.at, current.next_allowed_at, known)
        others = {
            sender_id: pair_level(view, sender_id, other.last_at)
            for sender_id, other in state.pairs.items()
            if everything and sender_id != event.sender_id
        }
        score = score_of(event, judgement)
        alerts = [self._announce(event, Scope.PAIR, pair.alerted, current, now)]
        pair.alerted = current.level
        if team is not None:
            alerts.append(self._announce(event, Scope.TEAM, state.team_alerted, team, now))
            state.team_alerted = team.level
        for sender_id, level in others.items():
            state.pairs[sender_id].alerted = level
        state.policy_mark = policy.fingerprint
        outputs.scored.append((event, score))
        outputs.alerts += [alert for alert in alerts if alert is not None]
        return True

    @staticmethod
    def _announce(
        event: OutreachEvent, scope: Scope, previous: Level, judgement: Judgement, now: datetime
    ) -> Alert | None:
        level = announcement(previous, judgement.level)
        return (
            None
            if level is None
            else build_alert(event, scope, level=level, previous=previous, judgement=judgement, emitted_at=now)
        )

    async def save(self, states: Mapping[str, ContactState]) -> None:
        if states:
            await self.store.save_many(states)
