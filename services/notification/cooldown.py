"""The per-relationship cool-down: the guard must not become a nag itself.

A message about a relationship opens a quiet window (`NOTIFY_COOLDOWN_HOURS`). Inside it:
- an escalation above the highest level already told in the window is always delivered, so `stalking`
  breaks through a `watch` or `nuisance` message, and `nuisance` through `watch`;
- the same or a lower level again (a pair that flaps between ok and watch) is held back;
- `resolved` is delivered once for a problem that was told and not yet resolved, at any time (the history is
  kept for `NOTIFY_COOLDOWN_RETENTION_DAYS`), and never for a problem nobody was told about;
- an alert that was already delivered (Kafka redelivers it after a crash) is delivered again with the same
  delivery id, so receivers can drop the copy.
Held-back alerts are counted and the count is mentioned in the next message about the relationship.
A cool-down of zero turns all of this off: every alert is delivered.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from schemas import Alert, AlertLevel, Level, Scope
from schemas.common import UtcDatetime

HELD_IDS_KEPT = 100


class Verdict(StrEnum):
    DELIVER = "deliver"
    COOLDOWN = "cooldown"
    NOTHING_TO_RESOLVE = "nothing_to_resolve"


class PairNotices(BaseModel):
    """What the people behind one relationship have been told; JSON in the cool-down store."""

    model_config = ConfigDict(frozen=True)

    window_started_at: UtcDatetime
    peak: AlertLevel
    open: bool
    delivered: tuple[str, ...] = ()
    held: tuple[str, ...] = ()


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    notices: PairNotices | None
    """The state to keep after this alert (None: nothing to keep)."""
    held_back: int = 0
    """How many alerts were held back since the previous message, for the digest note."""

    @property
    def deliver(self) -> bool:
        return self.verdict is Verdict.DELIVER


def pair_key(alert: Alert) -> str:
    """One cool-down per sender→contact pair, and one for the whole team's pressure on a contact."""
    party = "team" if alert.scope is Scope.TEAM else f"sender:{alert.sender_id}"
    return f"{alert.tenant}:{alert.contact_id}:{party}"


def _rank(level: AlertLevel) -> int:
    return Level(level.value).rank


def _hold(notices: PairNotices, alert: Alert, verdict: Verdict) -> Decision:
    held = notices.held if alert.alert_id in notices.held else (*notices.held, alert.alert_id)[-HELD_IDS_KEPT:]
    return Decision(verdict, notices.model_copy(update={"held": held}))


def decide(notices: PairNotices | None, alert: Alert, now: datetime, cooldown: timedelta) -> Decision:
    """Whether to tell anyone about `alert`, given what was told before; pure, so it can be tested at any instant."""
    if cooldown <= timedelta(0):
        return Decision(Verdict.DELIVER, None)
    if notices is not None and alert.alert_id in notices.delivered:
        return Decision(Verdict.DELIVER, notices)
    if alert.level is AlertLevel.RESOLVED:
        return _resolve(notices, alert)
    if notices is None or now >= notices.window_started_at + cooldown:
        fresh = PairNotices(window_started_at=now, peak=alert.level, open=True, delivered=(alert.alert_id,))
        return Decision(Verdict.DELIVER, fresh, len(notices.held) if notices is not None else 0)
    if _rank(alert.level) > _rank(notices.peak):
        return _told(notices, alert, {"peak": alert.level, "open": True})
    return _hold(notices, alert, Verdict.COOLDOWN)


def _resolve(notices: PairNotices | None, alert: Alert) -> Decision:
    if notices is None:
        return Decision(Verdict.NOTHING_TO_RESOLVE, None)
    if not notices.open:
        return _hold(notices, alert, Verdict.NOTHING_TO_RESOLVE)
    return _told(notices, alert, {"open": False})


def _told(notices: PairNotices, alert: Alert, changes: dict[str, object]) -> Decision:
    delivered = (*notices.delivered, alert.alert_id)
    return Decision(
        Verdict.DELIVER,
        notices.model_copy(update={**changes, "delivered": delivered, "held": ()}),
        len(notices.held),
    )
