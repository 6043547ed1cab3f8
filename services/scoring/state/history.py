"""What the scorer remembers about one contact, and how a touch is placed into it.

Placing is idempotent and independent of arrival order: a touch goes where its event time puts it, a touch seen
before is refused, and the bounds (touches per pair, senders per contact, the horizon) always keep the newest
touches. Whatever order the same events arrive in, the remembered history ends up the same.
"""

import bisect
from dataclasses import dataclass, field

from schemas import Level
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

    @property
    def last_at(self) -> int:
        return self.touches[-1].at if self.touches else 0


@dataclass
class ContactState:
    """Everything kept under one contact key (`tenant:contact_id`): a history per sender, the team's level."""

    pairs: dict[str, PairHistory] = field(default_factory=dict)
    team_alerted: Level = Level.OK
    timezone: str | None = None
    timezone_at: int = 0
    policy_mark: int = 0
    """Fingerprint of the policy the announced levels were judged under."""

    def copy(self) -> "ContactState":
        """A copy that placing and judging can change without touching this one (touches are shared: immutable)."""
        pairs = {
            sender_id: PairHistory(list(pair.touches), pair.alerted, pair.floor, pair.first_engaged_at)
            for sender_id, pair in self.pairs.items()
        }
        return ContactState(pairs, self.team_alerted, self.timezone, self.timezone_at, self.policy_mark)

    def revert_to(self, earlier: "ContactState") -> None:
        """Become `earlier` again, in place: the batch holds this object."""
        self.pairs, self.team_alerted = earlier.pairs, earlier.team_alerted
        self.timezone, self.timezone_at, self.policy_mark = earlier.timezone, earlier.timezone_at, earlier.policy_mark

    @property
    def latest_at(self) -> int | None:
        return max((pair.last_at for pair in self.pairs.values() if pair.touches), default=None)

    def seen(self, key: int) -> bool:
        return any(touch.key == key for pair in self.pairs.values() for touch in pair.touches)

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
    if sender_id not in state.pairs or all(kept is not touch for kept in state.pairs[sender_id].touches):
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
