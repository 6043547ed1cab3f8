"""REFERENCE copy, frozen (see __init__): do not optimise or fix.

Rapport: how much the contact has engaged, and the tier that earns.

Every part only grows when the contact engages more, and none grows with time alone (engagement decays, the
relationship's age is the span of engagement): so rapport can only ever loosen a limit, never tighten one.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from schemas import Tier
from services.scoring.engine.touches import Engagement
from services.scoring.policy.model import Policy


@dataclass(slots=True)
class Rapport:
    score: float
    tier: Tier


_STRANGER = Rapport(0.0, Tier.STRANGER)


def rapport_at(
    engagements: Sequence[tuple[int, Engagement]],
    outreach: int,
    first_engaged_at: int | None,
    at: int,
    policy: Policy,
) -> Rapport:
    """Rapport as of `at` from the engagements up to then (oldest first) and the count of outreach touches."""
    if not engagements or engagements[0][0] > at:
        return _STRANGER
    config = policy.rapport
    weights = policy.engagement_points
    decayed = 0.0
    engaged = 0
    for when, engagement in engagements:
        if when > at:
            break
        engaged += 1
        decayed += weights[engagement] * 0.5 ** ((at - when) / config.half_life)
    score = decayed + config.reciprocity * engaged / (engaged + outreach)
    first = engagements[0][0] if first_engaged_at is None else min(first_engaged_at, engagements[0][0])
    last = engagements[engaged - 1][0]
    score += config.age_points * min(1.0, (last - first) / config.age_full)
    score = round(min(100.0, score), 1)
    return Rapport(score, tier_for(score, policy))


def tier_for(score: float, policy: Policy) -> Tier:
    thresholds = policy.rapport.tiers
    if score >= thresholds.trusted:
        return Tier.TRUSTED
    if score >= thresholds.established:
        return Tier.ESTABLISHED
    if score >= thresholds.acquaintance:
        return Tier.ACQUAINTANCE
    return Tier.STRANGER
