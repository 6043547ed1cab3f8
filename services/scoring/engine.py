"""The rules: pure functions over a pair's history. Time is always a parameter, never the clock."""

import bisect
from dataclasses import dataclass
from datetime import datetime

from schemas import Direction, Level, Reason, Tier
from services.scoring.policy import Policy
from services.scoring.state import PairState, Touch


@dataclass(frozen=True)
class Judgement:
    level: Level
    nuisance_score: float
    rapport_score: float
    tier: Tier
    reasons: list[Reason]
    next_allowed_at: datetime | None


def place(pair: PairState, touch: Touch) -> bool:
    """Insert by event time; False when the event was seen before (redelivery changes nothing)."""
    if any(existing.event_id == touch.event_id for existing in pair.touches):
        return False
    times = [existing.occurred_at for existing in pair.touches]
    pair.touches.insert(bisect.bisect_right(times, touch.occurred_at), touch)
    return True


def unanswered_streak(touches: list[Touch], at: datetime, policy: Policy) -> list[Touch]:
    """Outbound touches inside the window since the contact last engaged, up to `at`."""
    streak: list[Touch] = []
    for touch in touches:
        if touch.occurred_at > at:
            break
        if touch.direction is Direction.INBOUND:
            streak = []
        elif at - touch.occurred_at <= policy.streak_window:
            streak.append(touch)
    return streak


def judge(pair: PairState, at: datetime, policy: Policy) -> Judgement:
    streak = unanswered_streak(pair.touches, at, policy)
    engaged = sum(1 for t in pair.touches if t.direction is Direction.INBOUND and t.occurred_at <= at)
    count = len(streak)
    if count >= policy.stalking_streak:
        level = Level.STALKING
    elif count >= policy.nuisance_streak:
        level = Level.NUISANCE
    elif count >= policy.watch_streak:
        level = Level.WATCH
    else:
        level = Level.OK
    reasons = []
    next_allowed_at = None
    if level is not Level.OK:
        days = policy.streak_window.days
        reasons.append(
            Reason(
                rule="unanswered_streak",
                message=f"{count} touches in {days} days without a reply",
                observed=count,
                limit=policy.watch_streak - 1,
                window=f"{days}d",
            )
        )
        next_allowed_at = streak[0].occurred_at + policy.streak_window
    return Judgement(
        level=level,
        nuisance_score=min(100.0, 100.0 * count / policy.stalking_streak),
        rapport_score=min(100.0, 20.0 * engaged),
        tier=Tier.STRANGER if engaged == 0 else Tier.ACQUAINTANCE,
        reasons=reasons,
        next_allowed_at=next_allowed_at,
    )
