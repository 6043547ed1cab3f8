"""Reference copy of placing a touch and noting consent, as it was before the engine was made faster (frozen: do not
optimise). Works on the service's own `ContactState`, reading only its plain fields."""

import bisect
from dataclasses import dataclass

from services.scoring.engine.consent import ConsentMark
from services.scoring.engine.touches import Touch
from services.scoring.policy.model import Policy
from services.scoring.state.history import ContactState, PairHistory

MAX_CONSENT_MARKS = 32


@dataclass(frozen=True)
class Placement:
    newest_of_pair: bool
    newest_of_contact: bool
    forgot_in_pair: bool
    forgot_in_contact: bool


def last_at(pair: PairHistory) -> int:
    return pair.touches[-1].at if pair.touches else 0


def latest_at(state: ContactState) -> int | None:
    return max((last_at(pair) for pair in state.pairs.values() if pair.touches), default=None)


def seen(state: ContactState, key: int) -> bool:
    return any(touch.key == key for pair in state.pairs.values() for touch in pair.touches)


def note_consent(state: ContactState, mark: ConsentMark) -> bool:
    if any(kept.key == mark.key for kept in state.consent):
        return False
    position = bisect.bisect_right(state.consent, (mark.at, mark.key), key=_mark_order)
    if position == 0 and len(state.consent) >= MAX_CONSENT_MARKS:
        return False
    state.consent.insert(position, mark)
    del state.consent[:-MAX_CONSENT_MARKS]
    return True


def _mark_order(mark: ConsentMark) -> tuple[int, int]:
    return (mark.at, mark.key)


def place(state: ContactState, sender_id: str, touch: Touch, policy: Policy) -> Placement | None:
    """Insert `touch` by event time; None when it was seen before or lies beyond what is remembered."""
    if seen(state, touch.key):
        return None
    latest = latest_at(state)
    horizon = policy.history.horizon
    if latest is not None and touch.at < latest - horizon:
        return None
    pair = state.pairs.get(sender_id)
    if pair is None:
        pair = state.pairs[sender_id] = PairHistory()
    if touch.engagement is not None and (pair.first_engaged_at is None or touch.at < pair.first_engaged_at):
        pair.first_engaged_at = touch.at
    order = (touch.at, touch.key)
    if pair.floor is not None and order <= pair.floor:
        return None
    position = bisect.bisect_right(pair.touches, order, key=_order)
    pair.touches.insert(position, touch)
    newest_of_pair = position == len(pair.touches) - 1
    forgot_in_pair = False
    while len(pair.touches) > policy.history.max_touches_per_pair:
        evicted = _order(pair.touches.pop(0))
        pair.floor = evicted if pair.floor is None else max(pair.floor, evicted)
        forgot_in_pair = True
    forgot_in_contact = latest is not None and touch.at > latest and _forget_before(state, touch.at - horizon)
    forgot_in_contact = _keep_most_recent_senders(state, policy.history.max_senders_per_contact) or forgot_in_contact
    if sender_id not in state.pairs or all(kept is not touch for kept in state.pairs[sender_id].touches):
        return None
    newest_of_contact = newest_of_pair and all(
        last_at(other) < touch.at or (last_at(other) == touch.at and other.touches[-1].key < touch.key)
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
        stalest = min(state.pairs, key=lambda sender_id: (last_at(state.pairs[sender_id]), sender_id))
        del state.pairs[stalest]
        forgot = True
    return forgot
