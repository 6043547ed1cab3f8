"""What the scorer remembers about one contact, and how a touch is placed into it.

Placing is idempotent and independent of arrival order: a touch goes where its event time puts it, a touch seen
before is refused, and the bounds (touches per pair, senders per contact, the horizon) always keep the newest
touches. Whatever order the same events arrive in, the remembered history ends up the same.
"""

import bisect
from dataclasses import dataclass, field

from schemas import Level
from services.scoring.engine.consent import ConsentMark
from services.scoring.engine.touches import Touch
from services.scoring.policy.model import Policy


@dataclass
class PairHistory:
    """One sender's touches with the contact, oldest first, and the level last announced for the pair."""

    touches: list[Touch] = field(default_factory=list)
    alerted: Level = Level.OK
    floor: tuple[int, int] | None = None
    """Order of the newest touch dropped to keep the pair small: anything at or before it is past remembering."""
    first_engaged_at: int | None = None
    """The contact's first engagement ever seen, kept when the touch itself has aged out (relationship age);
    the earliest is idempotent and order-free, so even an engagement too old to place still counts here."""
    due_at: int | None = None
    """When the announced level falls by itself if nothing happens (its worst touch leaves the cool-down)."""
    told: Level | None = None
    """The level readers of `outreach.alerts` were last told, when a damped re-rise left it below `alerted`
    (which stays the pair's level as last judged); None: they were told `alerted`."""
    historical: bool = False
    """The last level above ok announced for this pair went out `historical` (it had already fallen by the time
    its event was received), and none was announced as current since (a `resolved` changes nothing): readers have
    not heard of the pressure as news. When a later event shows the announced level holds as of its arrival, it is
    announced again, as current; and a rise is not damped (`damping.py`), since the wave it would repeat was never
    news."""

    @property
    def announced(self) -> Level:
        """What the last alert about this pair said its level was."""
        return self.alerted if self.told is None else self.told

    @property
    def last_at(self) -> int:
        return self.touches[-1].at if self.touches else 0


@dataclass
class ContactState:
    """Everything kept under one contact key (`tenant:contact_id`): a history per sender, the team's level, and
    the contact's opt-outs and opt-ins (which concern every sender of the tenant)."""

    pairs: dict[str, PairHistory] = field(default_factory=dict)
    team_alerted: Level = Level.OK
    timezone: str | None = None
    timezone_at: int = 0
    policy_mark: int = 0
    """Fingerprint of the policy the announced levels were judged under."""
    consent: list[ConsentMark] = field(default_factory=list)
    """Opt-outs and opt-ins, oldest first; kept beyond the horizon (an opt-out does not wear off)."""
    team_due_at: int | None = None
    """When the team's announced level falls by itself if nothing happens."""
    team_told: Level | None = None
    """The team's level readers were last told, when a damped re-rise left it below `team_alerted` (which stays
    the team's level as last judged); None: they were told `team_alerted`."""
    team_historical: bool = False
    """The same as `PairHistory.historical`, for the team."""

    @property
    def team_announced(self) -> Level:
        """What the last alert about the team said its level was."""
        return self.team_alerted if self.team_told is None else self.team_told

    @property
    def next_due(self) -> int | None:
        """The earliest instant at which an announced level falls by wall clock alone: when to sweep it."""
        dues = [pair.due_at for pair in self.pairs.values() if pair.due_at is not None]
        if self.team_due_at is not None:
            dues.append(self.team_due_at)
        return min(dues, default=None)

    @property
    def empty(self) -> bool:
        """Nothing worth storing: no touches and no word from the contact on consent."""
        return not self.pairs and not self.consent

    def copy(self) -> "ContactState":
        """A copy that placing and judging can change without touching this one (touches are shared: immutable)."""
        pairs = {
            sender_id: PairHistory(
                list(pair.touches),
                pair.alerted,
                pair.floor,
                pair.first_engaged_at,
                pair.due_at,
                pair.told,
                pair.historical,
            )
            for sender_id, pair in self.pairs.items()
        }
        return ContactState(
            pairs,
            self.team_alerted,
            self.timezone,
            self.timezone_at,
            self.policy_mark,
            list(self.consent),
            self.team_due_at,
            self.team_told,
            self.team_historical,
        )

    def revert_to(self, earlier: "ContactState") -> None:
        """Become `earlier` again, in place: the batch holds this object."""
        self.pairs, self.team_alerted = earlier.pairs, earlier.team_alerted
        self.timezone, self.timezone_at, self.policy_mark = earlier.timezone, earlier.timezone_at, earlier.policy_mark
        self.consent, self.team_due_at, self.team_told = earlier.consent, earlier.team_due_at, earlier.team_told
        self.team_historical = earlier.team_historical

    @property
    def latest_at(self) -> int | None:
        return max((pair.last_at for pair in self.pairs.values() if pair.touches), default=None)

    def seen(self, key: int) -> bool:
        return any(key in [touch.key for touch in pair.touches] for pair in self.pairs.values())

    def note_timezone(self, timezone: str | None, at: int) -> bool:
        """The contact's zone is the one on their latest event that named one; True when it changed."""
        if timezone is None or (self.timezone is not None and at < self.timezone_at):
            return False
        changed = timezone != self.timezone
        self.timezone, self.timezone_at = timezone, at
        return changed


@dataclass(frozen=True)
class Placement:
    """Where a new touch landed: what lets the engine judge only the new touch instead of re-judging the rest."""

    newest_of_pair: bool
    newest_of_contact: bool
    forgot_in_pair: bool
    """Placing it made the pair forget its oldest touch (bounded size)."""
    forgot_in_contact: bool
    """Placing it moved the horizon past touches of any pair, or forgot a sender."""


def forget_until(state: ContactState, cutoff: int) -> None:
    """Drop every touch and consent mark at or before `cutoff` (an erasure): only what came after it remains.
    Idempotent, so an erasure handed over again (a restart, another replica) changes nothing more."""
    for sender_id in list(state.pairs):
        pair = state.pairs[sender_id]
        pair.touches = [touch for touch in pair.touches if touch.at > cutoff]
        if not pair.touches:
            del state.pairs[sender_id]
            continue
        if pair.first_engaged_at is not None and pair.first_engaged_at <= cutoff:
            engaged = [touch.at for touch in pair.touches if touch.engagement is not None]
            pair.first_engaged_at = min(engaged, default=None)
    state.consent = [mark for mark in state.consent if mark.at > cutoff]
    if state.timezone_at <= cutoff:
        state.timezone, state.timezone_at = None, 0
    if not state.pairs:
        state.team_alerted, state.team_due_at, state.team_told, state.team_historical = Level.OK, None, None, False


MAX_CONSENT_MARKS = 32
"""Consent marks kept per contact; the oldest go first (a contact rarely changes their mind that often)."""


def note_consent(state: ContactState, mark: ConsentMark) -> bool:
    """Insert an opt-out or opt-in by event time; False when it was seen before, or when the list is full and the
    mark is older than all of it (it would be the first one forgotten)."""
    if any(kept.key == mark.key for kept in state.consent):
        return False
    position = bisect.bisect_right(state.consent, mark.order, key=_mark_order)
    if position == 0 and len(state.consent) >= MAX_CONSENT_MARKS:
        return False
    state.consent.insert(position, mark)
    del state.consent[:-MAX_CONSENT_MARKS]
    return True


def _mark_order(mark: ConsentMark) -> tuple[int, int]:
    return mark.order


def place(state: ContactState, sender_id: str, touch: Touch, policy: Policy) -> Placement | None:
    """Insert `touch` by event time; None when it was seen before or lies beyond what is remembered."""
    if state.seen(touch.key):
        return None
    latest = state.latest_at
    horizon = policy.history.horizon
    if latest is not None and touch.at < latest - horizon:
        return None
    pair = state.pairs.get(sender_id)
    if pair is None:
        pair = state.pairs[sender_id] = PairHistory()
    if touch.engagement is not None and (pair.first_engaged_at is None or touch.at < pair.first_engaged_at):
        pair.first_engaged_at = touch.at
    if pair.floor is not None and touch.order <= pair.floor:
        return None
    position = bisect.bisect_right(pair.touches, touch.order, key=_order)
    pair.touches.insert(position, touch)
    newest_of_pair = position == len(pair.touches) - 1
    forgot_in_pair = False
    while len(pair.touches) > policy.history.max_touches_per_pair:
        evicted = pair.touches.pop(0).order
        pair.floor = evicted if pair.floor is None else max(pair.floor, evicted)
        forgot_in_pair = True
    forgot_in_contact = latest is not None and touch.at > latest and _forget_before(state, touch.at - horizon)
    forgot_in_contact = _keep_most_recent_senders(state, policy.history.max_senders_per_contact) or forgot_in_contact
    if (forgot_in_pair or forgot_in_contact) and (
        sender_id not in state.pairs or all(kept is not touch for kept in state.pairs[sender_id].touches)
    ):
        return None
    newest_of_contact = newest_of_pair and all(
        other.last_at < touch.at or (other.last_at == touch.at and other.touches[-1].key < touch.key)
        for other_id, other in state.pairs.items()
        if other_id != sender_id and other.touches
    )
    return Placement(newest_of_pair, newest_of_contact, forgot_in_pair, forgot_in_contact)


def _order(touch: Touch) -> tuple[int, int]:
    return (touch.at, touch.key)


def _forget_before(state: ContactState, cutoff: int) -> bool:
    forgot = False
    for sender_id in list(state.pairs):
        pair = state.pairs[sender_id]
        if pair.touches and pair.touches[0].at < cutoff:
            pair.touches = [touch for touch in pair.touches if touch.at >= cutoff]
            forgot = True
        if not pair.touches:
            del state.pairs[sender_id]
    return forgot


def _keep_most_recent_senders(state: ContactState, limit: int) -> bool:
    forgot = False
    while len(state.pairs) > limit:
        stalest = min(state.pairs, key=lambda sender_id: (state.pairs[sender_id].last_at, sender_id))
        del state.pairs[stalest]
        forgot = True
    return forgot
