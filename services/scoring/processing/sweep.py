"""The wall-clock sweep: announced levels that fall with the passing of time, not only on the next event.

Each state carries when each announced level falls by itself (its worst touch leaves the cool-down); the store
keeps those instants in an index. The sweep takes the contacts due by now, judges each due pair (and the team)
as of now, and announces the fall: `resolved` back to ok, or a de-escalation, with the reason `cool_down_passed`.
Ids are named by the instant the level fell, so a sweep repeated after a crash yields the same ids; the state
(with the next due instant) is saved only after the alerts are on Kafka, so a crash loses nothing.

Each replica sweeps only the contacts it scores (`scores_here`: their partition is one it took over). A Redis store
lists every replica's due contacts; two replicas sweeping one contact at once would both publish its fall, and
one sweeping a contact while its owner scores an event would race the owner's save. A memory store may still hold
contacts of partitions handed over to another replica; those are left alone too.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from schemas import Alert, AlertLevel, Level, Scope
from services.scoring.engine.judge import ContactView, Judgement, judge_pair, judge_team
from services.scoring.engine.touches import instant, seconds
from services.scoring.policy.file import PolicySet
from services.scoring.processing.alerts import Fall, announced, announcement, fall_reason
from services.scoring.processing.output_ids import swept_alert_id
from services.scoring.state.history import ContactState
from services.scoring.state.store import StateStore


@dataclass
class Swept:
    alerts: list[Alert] = field(default_factory=list)
    states: dict[str, ContactState] = field(default_factory=dict)


SCAN_FACTOR = 64
"""How far past `batch` due keys are looked through for this replica's own, when other replicas' come first."""


class Sweeper:
    def __init__(
        self,
        store: StateStore,
        policies: PolicySet,
        batch: int = 500,
        scores_here: Callable[[str], bool] | None = None,
    ) -> None:
        """`scores_here(contact_key)`: whether this replica scores the contact now; None: every contact (one
        replica, tests)."""
        self.store = store
        self.policies = policies
        self.batch = batch
        self.scores_here = scores_here

    async def _due_here(self, at: int) -> list[str]:
        """Up to `batch` due contacts scored here. The store's list is shared and ordered by due time, so other
        replicas' contacts may come first: look further, doubling, until enough are found or the list ends."""
        limit = self.batch
        while True:
            keys = await self.store.due(at, limit)
            mine = keys if self.scores_here is None else [key for key in keys if self.scores_here(key)]
            if len(mine) >= self.batch or len(keys) < limit or limit >= self.batch * SCAN_FACTOR:
                return mine[: self.batch]
            limit *= 2

    async def sweep(self, now: datetime) -> Swept:
        """The falls due by `now` among up to `batch` contacts, and the states to save once they are published."""
        at = seconds(now)
        keys = await self._due_here(at)
        swept = Swept()
        for key, state in (await self.store.load_many(keys) if keys else {}).items():
            tenant, contact_id = key.split(":", 1)
            self._sweep_contact(tenant, contact_id, state, now, swept)
            swept.states[key] = state
        return swept

    def _sweep_contact(self, tenant: str, contact_id: str, state: ContactState, now: datetime, swept: Swept) -> None:
        at = seconds(now)
        view = ContactView(state, self.policies.for_tenant(tenant))
        cool_down = view.policy.scoring.cool_down
        for sender_id, pair in state.pairs.items():
            if pair.due_at is None or pair.due_at > at:
                continue
            current = judge_pair(view, sender_id, max(at, pair.last_at))
            told = pair.announced
            fell = _falls(
                tenant,
                contact_id,
                sender_id,
                previous=told,
                due_at=pair.due_at,
                current=current,
                now=now,
                cool_down=cool_down,
            )
            swept.alerts += fell
            pair.historical = pair.historical and not _tells_of_pressure(fell)
            pair.alerted, pair.due_at = current.level, current.falls_at
            pair.told = None if current.level.rank <= told.rank else told
        if state.team_due_at is not None and state.team_due_at <= at:
            team = judge_team(view, max(at, state.latest_at or at), None)
            told = state.team_announced
            fell = _falls(
                tenant,
                contact_id,
                None,
                previous=told,
                due_at=state.team_due_at,
                current=team,
                now=now,
                cool_down=cool_down,
            )
            swept.alerts += fell
            state.team_historical = state.team_historical and not _tells_of_pressure(fell)
            state.team_alerted, state.team_due_at = team.level, team.falls_at
            state.team_told = None if team.level.rank <= told.rank else told


def _tells_of_pressure(alerts: list[Alert]) -> bool:
    """A de-escalation is news of a level that holds now: readers have heard the pressure as current (the
    `historical` flag of the state); a `resolved` tells of none."""
    return any(alert.level is not AlertLevel.RESOLVED for alert in alerts)


def _falls(
    tenant: str,
    contact_id: str,
    sender_id: str | None,
    *,
    previous: Level,
    due_at: int,
    current: Judgement,
    now: datetime,
    cool_down: int,
) -> list[Alert]:
    level = announcement(previous, current.level)
    if level is None or current.level.rank > previous.rank:
        return []
    scope = Scope.TEAM if sender_id is None else Scope.PAIR
    reasons = [fall_reason(Fall.COOL_DOWN_PASSED, previous, cool_down), *current.reasons]
    return [
        Alert(
            alert_id=swept_alert_id(tenant, contact_id, sender_id, scope, due_at=due_at, level=level),
            tenant=tenant,
            contact_id=contact_id,
            sender_id=sender_id,
            scope=scope,
            previous_level=previous,
            event_id=f"sweep:{due_at}",
            occurred_at=instant(due_at),
            emitted_at=now,
            **announced(current, level, reasons),
        )
    ]
