"""REFERENCE copy, frozen (see __init__): do not optimise or fix.

Turns a batch of events into scores and alerts against the store; knows nothing of Kafka.

Each contact's state is loaded once per batch and its events applied in the order they came. A pair's alert is
decided on the pair's level as of its latest touch, the team's on the contact's latest touch, so a late event
placed in the past cannot raise a stale alarm, and the announced level ends up the same whatever the order.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from schemas import Alert, AlertLevel, Level, OutreachEvent, PairScore, Scope
from services.runtime.erasures import ErasedContacts
from services.scoring.engine.judge import Judgement
from services.scoring.engine.touches import mark_from_event, seconds, touch_from_event
from services.scoring.policy.file import PolicySet
from services.scoring.processing.alerts import Fall, announcement, build_alert, fall_reason
from services.scoring.state.history import ContactState
from services.scoring.state.store import StateStore
from tests.unit.engine_reference.damping import quiet_re_rise, quiet_team_re_rise
from tests.unit.engine_reference.history import last_at, latest_at, note_consent, place
from tests.unit.engine_reference.judge import (
    ContactView,
    judge_pair,
    judge_team,
    pair_level,
    pair_settling,
    team_applies,
    team_level,
)

log = logging.getLogger("rapport_guard.scoring")

FUTURE_TOLERANCE = timedelta(days=1)


@dataclass
class Outputs:
    scored: list[tuple[OutreachEvent, PairScore]] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    duplicates: int = 0
    erased: int = 0
    """Events about a contact erased after they happened or arrived: not taken."""
    consent: int = 0
    """Opt-outs and opt-ins newly noted: not touches, so they get no score of their own."""
    failed: list[tuple[int, str, str]] = field(default_factory=list)
    """(position in the batch, reason, detail) of events that could not be processed."""

    @property
    def scores(self) -> list[PairScore]:
        return [score for _, score in self.scored]


def score_of(event: OutreachEvent, judgement: Judgement) -> PairScore:
    return PairScore(
        tenant=event.tenant,
        sender_id=event.sender_id,
        contact_id=event.contact_id,
        event_id=event.event_id,
        occurred_at=event.occurred_at,
        **vars(judgement),
    )


class Processor:
    def __init__(self, store: StateStore, policies: PolicySet, erased: ErasedContacts | None = None) -> None:
        self.store = store
        self.policies = policies
        self.erased = ErasedContacts() if erased is None else erased
        """Checked for every event, live or replayed by a restore, so an erased contact never comes back."""

    async def process(self, events: Sequence[OutreachEvent], now: datetime) -> tuple[Outputs, dict[str, ContactState]]:
        """Outputs, plus the changed states to save once the outputs are on Kafka."""
        outputs = Outputs()
        kept = self._not_erased(events, outputs)
        keys = list(dict.fromkeys(event.contact_key for _, event in kept))
        states = await self.store.load_many(keys) if keys else {}
        changed: dict[str, ContactState] = {}
        for position, event in kept:
            state = states[event.contact_key]
            try:
                placed = (self.note if event.kind.is_consent else self.apply)(state, event, now, outputs)
            except Exception as exc:  # one bad event must not stop the partition
                log.exception("event at position %d could not be scored", position)
                outputs.failed.append((position, "processing_failed", f"{type(exc).__name__}: {exc}"))
                continue
            if placed:
                changed[event.contact_key] = state
            else:
                outputs.duplicates += 1
        return outputs, changed

    @staticmethod
    def _mark_historical(state: ContactState, view: ContactView, event: OutreachEvent, said: list[Alert]) -> None:
        at = max(seconds(event.received_at), latest_at(view.state) or 0)
        for index, alert in enumerate(said):
            marked = said[index] = _as_of(alert, view, at)
            if marked.level is AlertLevel.RESOLVED:
                continue
            if alert.scope is Scope.TEAM:
                state.team_historical = marked.historical
            elif alert.sender_id is not None and alert.sender_id in state.pairs:
                state.pairs[alert.sender_id].historical = marked.historical

    def _not_erased(self, events: Sequence[OutreachEvent], outputs: Outputs) -> list[tuple[int, OutreachEvent]]:
        """The events (with their position in the batch) whose contact was not erased after them."""
        kept = []
        for position, event in enumerate(events):
            if self.erased.forgets(event.contact_key, event.occurred_at, event.received_at):
                outputs.erased += 1
            else:
                kept.append((position, event))
        return kept

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
        latest = last_at(pair)
        current = judgement if latest == touch.at else judge_pair(view, event.sender_id, latest)
        team = None
        if team_applies(state, policy) or state.team_alerted is not Level.OK:
            known = state.team_alerted if appended and placement.newest_of_contact else None
            team = judge_team(view, latest_at(state) or touch.at, current.next_allowed_at, known)
            team = team.model_copy(update={"next_allowed_by_channel": current.next_allowed_by_channel})
        others = {
            sender_id: pair_settling(view, sender_id, last_at(other))
            for sender_id, other in state.pairs.items()
            if everything and sender_id != event.sender_id
        }
        score = score_of(event, judgement)
        fall = Fall.ENGAGED if touch.engagement is not None else Fall.COOL_DOWN_PASSED
        cool_down = policy.scoring.cool_down
        told = pair.announced
        if not pair.historical and quiet_re_rise(view, event.sender_id, told, current, latest):
            alerts: list[Alert | None] = []
        else:
            alerts = [self._announce(event, Scope.PAIR, told, current, now, fall=fall, cool_down=cool_down)]
            told = current.level
        pair.alerted, pair.due_at = current.level, current.falls_at
        pair.told = None if told is current.level else told
        if team is not None:
            team_told = state.team_announced
            if state.team_historical or not quiet_team_re_rise(view, team_told, team, latest_at(state) or touch.at):
                alerts.append(self._announce(event, Scope.TEAM, team_told, team, now, fall=fall, cool_down=cool_down))
                team_told = team.level
            state.team_alerted, state.team_due_at = team.level, team.falls_at
            state.team_told = None if team_told is team.level else team_told
        for sender_id, (level, due_at) in others.items():
            state.pairs[sender_id].alerted, state.pairs[sender_id].due_at = level, due_at
        state.policy_mark = policy.fingerprint
        said = [alert for alert in alerts if alert is not None]
        self._mark_historical(state, view, event, said)
        said += _renewals(state, view, event, now, said)
        outputs.scored.append((event, score))
        outputs.alerts += said
        return True

    def note(self, state: ContactState, event: OutreachEvent, now: datetime, outputs: Outputs) -> bool:
        """Remember an opt-out or opt-in and re-judge every pair and the team under it; False when already noted.

        The contact's word may arrive late and land before touches already judged, so every announced level is
        brought up to date, and a change is announced with the consent event as its trigger. All or nothing, as
        `apply`.
        """
        before = state.copy()
        try:
            return self._note(state, event, now, outputs)
        except Exception:
            state.revert_to(before)
            raise

    def _note(self, state: ContactState, event: OutreachEvent, now: datetime, outputs: Outputs) -> bool:
        policy = self.policies.for_tenant(event.tenant)
        mark = mark_from_event(event)
        if not note_consent(state, mark):
            return False
        view = ContactView(state, policy)
        alerts: list[Alert | None] = []
        fall = Fall.COOL_DOWN_PASSED if mark.opt_out else Fall.CONSENT_GIVEN
        cool_down = policy.scoring.cool_down
        for sender_id, pair in state.pairs.items():
            current = judge_pair(view, sender_id, last_at(pair))
            alerts.append(
                self._announce(
                    event, Scope.PAIR, pair.announced, current, now, sender_id=sender_id, fall=fall, cool_down=cool_down
                )
            )
            pair.alerted, pair.due_at, pair.told = current.level, current.falls_at, None
        if state.pairs and (team_applies(state, policy) or state.team_alerted is not Level.OK):
            latest = latest_at(state) or mark.at
            team = judge_team(view, latest, None)
            alerts.append(
                self._announce(event, Scope.TEAM, state.team_announced, team, now, fall=fall, cool_down=cool_down)
            )
            state.team_alerted, state.team_due_at, state.team_told = team.level, team.falls_at, None
        state.policy_mark = policy.fingerprint
        said = [alert for alert in alerts if alert is not None]
        self._mark_historical(state, view, event, said)
        said += _renewals(state, view, event, now, said)
        outputs.consent += 1
        outputs.alerts += said
        return True

    @staticmethod
    def _announce(
        event: OutreachEvent,
        scope: Scope,
        previous: Level,
        judgement: Judgement,
        now: datetime,
        *,
        sender_id: str | None = None,
        fall: Fall,
        cool_down: int,
    ) -> Alert | None:
        level = announcement(previous, judgement.level)
        if level is None:
            return None
        why = fall_reason(fall, previous, cool_down) if judgement.level.rank < previous.rank else None
        return build_alert(
            event,
            scope,
            level=level,
            previous=previous,
            judgement=judgement,
            emitted_at=now,
            sender_id=sender_id,
            fall=why,
        )

    async def save(self, states: Mapping[str, ContactState]) -> None:
        if states:
            await self.store.save_many(states)


def _renewals(
    state: ContactState, view: ContactView, event: OutreachEvent, now: datetime, said: Sequence[Alert]
) -> list[Alert]:
    """Ported with the renewal of levels first announced as history (see the service's processor)."""
    at = max(seconds(event.received_at), latest_at(state) or 0)
    here = {(alert.scope, alert.sender_id) for alert in said}
    renewals = []
    for sender_id, pair in state.pairs.items():
        level = pair.announced
        renew = pair.historical and level is not Level.OK and (Scope.PAIR, sender_id) not in here
        if renew and pair_level(view, sender_id, at).rank >= level.rank:
            judgement = judge_pair(view, sender_id, at)
            renewals.append(_renewal(event, Scope.PAIR, level, judgement, now, sender_id=sender_id))
            pair.historical = False
    level = state.team_announced
    renew = state.team_historical and level is not Level.OK and (Scope.TEAM, None) not in here
    if renew and team_level(view, at).rank >= level.rank:
        sender = judge_pair(view, event.sender_id, at) if event.sender_id in state.pairs else None
        team = judge_team(view, at, None if sender is None else sender.next_allowed_at)
        if sender is not None:
            team = team.model_copy(update={"next_allowed_by_channel": sender.next_allowed_by_channel})
        renewals.append(_renewal(event, Scope.TEAM, level, team, now))
        state.team_historical = False
    return renewals


def _renewal(
    event: OutreachEvent,
    scope: Scope,
    level: Level,
    judgement: Judgement,
    now: datetime,
    *,
    sender_id: str | None = None,
) -> Alert:
    return build_alert(
        event,
        scope,
        level=AlertLevel(level.value),
        previous=level,
        judgement=judgement,
        emitted_at=now,
        sender_id=sender_id,
        renewal=True,
    )


def _as_of(alert: Alert, view: ContactView, at: int) -> Alert:
    if alert.level is AlertLevel.RESOLVED:
        return alert
    if alert.scope is Scope.PAIR and alert.sender_id is not None:
        level = pair_level(view, alert.sender_id, at)
    else:
        level = team_level(view, at)
    return alert.model_copy(update={"historical": True}) if level.rank < Level(alert.level.value).rank else alert
