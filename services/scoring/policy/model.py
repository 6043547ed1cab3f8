"""The rapport and frequency policy as data: what each tier may do, and how much breaking a rule weighs.

The defaults here are the shipped policy (`deploy/policy/default.yaml` says the same, and a test holds them
together). Durations are written like '3d' and held as whole seconds, so the engine does integer arithmetic.
"""

import hashlib
import itertools
import json
import re
from dataclasses import dataclass
from enum import Enum
from functools import cached_property
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PlainSerializer, field_validator
from pydantic_core import PydanticCustomError

from schemas import Channel, Level, Tier
from schemas.common import known_timezone

_DURATION = re.compile(r"^\s*(?:(\d+)\s*w)?\s*(?:(\d+)\s*d)?\s*(?:(\d+)\s*h)?\s*(?:(\d+)\s*m)?\s*(?:(\d+)\s*s)?\s*$")
_UNIT_SECONDS = (7 * 86400, 86400, 3600, 60, 1)
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


def parse_duration(value: Any) -> int:
    """'3d', '12h', '1w2d', '90m' → seconds."""
    match = _DURATION.match(value) if isinstance(value, str) else None
    if match is None or not any(match.groups()):
        raise PydanticCustomError("duration", "must be a duration like '3d', got {got}", {"got": repr(value)})
    return sum(int(part) * unit for part, unit in zip(match.groups(), _UNIT_SECONDS, strict=True) if part)


def format_duration(seconds: int) -> str:
    """The shortest exact spelling: 604800 → '7d', 5400 → '1h30m'."""
    if seconds == 0:
        return "0s"
    parts = []
    for unit, name in zip((86400, 3600, 60, 1), "dhms", strict=True):
        count, seconds = divmod(seconds, unit)
        if count:
            parts.append(f"{count}{name}")
    return "".join(parts)


def parse_clock(value: Any) -> int:
    """'08:30' → minutes after midnight."""
    match = _CLOCK.match(value) if isinstance(value, str) else None
    if match is None:
        raise PydanticCustomError("clock", "must be a time of day like '08:30', got {got}", {"got": repr(value)})
    return int(match.group(1)) * 60 + int(match.group(2))


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


Duration = Annotated[int, BeforeValidator(parse_duration), PlainSerializer(format_duration, return_type=str)]
"""Whole seconds, written '3d', '12h', '30m' or combined ('1d12h')."""

ClockTime = Annotated[int, BeforeValidator(parse_clock), PlainSerializer(format_clock, return_type=str)]
"""Minutes after midnight, written '08:30'."""

Points = Annotated[float, Field(ge=0, le=100, multiple_of=0.01)]
Weight = Annotated[float, Field(ge=0, le=100, multiple_of=0.01)]

TIER_ORDER = (Tier.STRANGER, Tier.ACQUAINTANCE, Tier.ESTABLISHED, Tier.TRUSTED)


def centi(value: float) -> int:
    """Weights and volume limits become hundredths, so sums over windows are exact."""
    return round(value * 100)


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class QuietHours(_Strict):
    """Phone and SMS stay silent from `start` to `end` in the contact's own time zone (may wrap midnight)."""

    start: ClockTime
    end: ClockTime

    def minutes(self) -> frozenset[int]:
        if self.start <= self.end:
            return frozenset(range(self.start, self.end))
        return frozenset(range(self.start, 24 * 60)) | frozenset(range(self.end))


class TierLimits(_Strict):
    """Everything one sender may do towards a contact of this tier; higher tiers may only be looser."""

    volume: dict[Duration, Weight] = Field(min_length=1, description="rolling window → most weighted touches inside it")
    min_gap: Duration
    max_unanswered: int = Field(ge=1)
    max_unanswered_channels: int = Field(ge=1)
    max_pursuit: Duration
    quiet_hours: QuietHours


class Rules(_Strict):
    """Windows shared by every tier."""

    unanswered_window: Duration = 60 * 86400
    escalation_window: Duration = 14 * 86400
    pursuit_rest: Duration = 10 * 86400
    quiet_channels: frozenset[Channel] = frozenset({Channel.PHONE_WORK, Channel.PHONE_MOBILE, Channel.SMS})
    default_timezone: str = "UTC"

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        return known_timezone(value)


class Severity(_Strict):
    """Nuisance points a rule adds when just broken; more in proportion to the overshoot."""

    volume: Points = 15
    min_gap: Points = 10
    unanswered_streak: Points = 25
    channel_escalation: Points = 20
    quiet_hours: Points = 25
    persistent_pursuit: Points = 25


class Levels(_Strict):
    watch: Points = 25
    nuisance: Points = 50
    stalking: Points = 75


class Consent(_Strict):
    """What an outbound touch on a channel the contact opted out of is, at least (exempt categories stay exempt)."""

    level: Level = Field(default=Level.NUISANCE, description="the least level of such a touch")
    repeat_level: Level = Field(default=Level.STALKING, description="the least level from the `repeat_from`-th on")
    repeat_from: int = Field(default=2, ge=1, description="touches since the opt-out that make a repeat")

    @field_validator("level", "repeat_level")
    @classmethod
    def _at_least_nuisance(cls, level: Level) -> Level:
        if level.rank < Level.NUISANCE.rank:
            raise ValueError("must be nuisance or stalking: the contact asked not to be contacted")
        return level


class Scoring(_Strict):
    severity: Severity = Severity()
    overshoot_cap: float = Field(default=3.0, ge=1, le=10)
    headroom: float = Field(default=0.2, ge=0, le=1, description="nuisance points forgiven per rapport point")
    levels: Levels = Levels()
    cool_down: Duration = 7 * 86400


class RapportPoints(_Strict):
    reply: Points = 10
    contact_initiated: Points = 15
    answered_call: Points = 12
    meeting: Points = 20


class RapportTiers(_Strict):
    """Lowest rapport score of each tier above `stranger`."""

    acquaintance: Points = 10
    established: Points = 35
    trusted: Points = 65


class Rapport(_Strict):
    half_life: Duration = 90 * 86400
    points: RapportPoints = RapportPoints()
    reciprocity: Points = 10
    age_points: Points = 10
    age_full: Duration = 365 * 86400
    tiers: RapportTiers = RapportTiers()


class Team(_Strict):
    """All senders of a tenant towards one contact, held to the pair limits times `factor`."""

    enabled: bool = True
    factor: float = Field(default=2.0, ge=1, le=100)
    min_senders: int = Field(default=2, ge=2)


class Alerts(_Strict):
    """Fewer, better alerts: a pair (or a team) that keeps falling quiet and starting again is one story, not many."""

    damping: Duration = Field(
        default=30 * 86400,
        description="a pair's or the team's level that fell with the passing of time and rises again, within this "
        "long of the fall, to no more than it reached before, is not announced again (0: every rise is announced)",
    )


class History(_Strict):
    """How much is remembered: enough for every window, little enough to stay small."""

    horizon: Duration = 180 * 86400
    max_touches_per_pair: int = Field(default=32, ge=4, le=255)
    max_senders_per_contact: int = Field(default=50, ge=1, le=1000)


def _channel_weights() -> dict[Channel, Weight]:
    return {
        Channel.EMAIL: 1,
        Channel.LINKEDIN: 1,
        Channel.OTHER: 1,
        Channel.MEETING: 1,
        Channel.SMS: 1.5,
        Channel.PHONE_WORK: 1.5,
        Channel.PHONE_MOBILE: 2.5,
    }


def _tiers() -> dict[Tier, TierLimits]:
    def tier(volume: dict[str, float], gap: str, counts: tuple[int, int], pursuit: str, quiet: str) -> TierLimits:
        start, end = quiet.split("-")
        unanswered, channels = counts
        return TierLimits.model_validate(
            {
                "volume": volume,
                "min_gap": gap,
                "max_unanswered": unanswered,
                "max_unanswered_channels": channels,
                "max_pursuit": pursuit,
                "quiet_hours": {"start": start, "end": end},
            }
        )

    return {
        Tier.STRANGER: tier({"7d": 3, "30d": 6}, "2d", (2, 2), "21d", "19:00-09:00"),
        Tier.ACQUAINTANCE: tier({"7d": 4, "30d": 9}, "1d", (3, 2), "28d", "20:00-08:30"),
        Tier.ESTABLISHED: tier({"7d": 8, "30d": 20}, "12h", (5, 3), "42d", "21:00-08:00"),
        Tier.TRUSTED: tier({"7d": 15, "30d": 40}, "2h", (8, 4), "60d", "22:00-07:30"),
    }


@dataclass(frozen=True, slots=True)
class Limits:
    """A tier's limits in whole seconds and hundredths, for one sender or (scaled) for the whole team."""

    volume: tuple[tuple[int, int], ...]
    min_gap: int
    max_unanswered: int
    max_unanswered_channels: int
    max_pursuit: int
    quiet_hours: QuietHours


class Policy(_Strict):
    """One tenant's complete policy (the file's top level, with a tenant's overrides merged in)."""

    channel_weights: dict[Channel, Weight] = Field(default_factory=_channel_weights)
    exempt_categories: frozenset[str] = frozenset({"transactional", "support", "contact_booked"})
    tiers: dict[Tier, TierLimits] = Field(default_factory=_tiers)
    rules: Rules = Rules()
    scoring: Scoring = Scoring()
    rapport: Rapport = Rapport()
    team: Team = Team()
    history: History = History()
    consent: Consent = Consent()
    alerts: Alerts = Alerts()

    @field_validator("exempt_categories")
    @classmethod
    def _lower_case(cls, categories: frozenset[str]) -> frozenset[str]:
        return frozenset(category.lower() for category in categories)

    @cached_property
    def weights(self) -> dict[Channel, int]:
        """Channel weights in hundredths; a channel the file leaves out weighs 1."""
        return {channel: centi(self.channel_weights.get(channel, 1)) for channel in Channel}

    @cached_property
    def gentlest_channel(self) -> Channel:
        """The channel scores quote `next_allowed_at` for: the lightest one without quiet hours."""
        quiet = self.rules.quiet_channels
        candidates = [channel for channel in Channel if channel not in quiet] or list(Channel)
        return min(candidates, key=lambda channel: (self.weights[channel], list(Channel).index(channel)))

    def limits(self, tier: Tier) -> TierLimits:
        return self.tiers[tier]

    @cached_property
    def compiled(self) -> dict[tuple[Tier, bool], Limits]:
        """(tier, team?) → limits ready for integer arithmetic; the team's are the pair's times `team.factor`."""
        compiled = {}
        for tier, limits in self.tiers.items():
            for team in (False, True):
                scale = self.team.factor if team else 1.0
                compiled[(tier, team)] = Limits(
                    volume=tuple(
                        (window, round(centi(most) * scale)) for window, most in sorted(limits.volume.items())
                    ),
                    min_gap=limits.min_gap,
                    max_unanswered=int(limits.max_unanswered * scale),
                    max_unanswered_channels=int(limits.max_unanswered_channels * scale),
                    max_pursuit=round(limits.max_pursuit * scale),
                    quiet_hours=limits.quiet_hours,
                )
        return compiled

    @cached_property
    def engagement_points(self) -> dict[str, float]:
        """Rapport points by engagement name (reply, contact_initiated, answered_call, meeting)."""
        return self.rapport.points.model_dump()

    @cached_property
    def fingerprint(self) -> int:
        """32 bits that change whenever the policy does, so state judged under another policy is re-judged.

        The same in every process: sets (exempt categories, quiet channels) are written sorted, not in the
        hash-seeded order Python iterates them in, or each restart and each replica would re-judge every contact.
        """
        canonical = json.dumps(_canonical(self.model_dump(mode="python")), sort_keys=True)
        digest = hashlib.blake2b(canonical.encode(), digest_size=4).digest()
        return int.from_bytes(digest, "big")

    def inconsistencies(self) -> list[tuple[str, str]]:
        """Cross-field problems as (field path, what is wrong); empty when the policy is coherent."""
        problems: list[tuple[str, str]] = []
        missing = [tier.value for tier in TIER_ORDER if tier not in self.tiers]
        if missing:
            return [("tiers", f"must define every tier, missing {', '.join(missing)}")]
        problems += _ascending("scoring.levels", self.scoring.levels.model_dump(), strict=True)
        problems += _ascending("rapport.tiers", self.rapport.tiers.model_dump(), strict=True)
        if self.consent.repeat_level.rank < self.consent.level.rank:
            problems.append(("consent.repeat_level", f"must be at least consent.level ({self.consent.level.value})"))
        heaviest = max(self.weights.values())
        longest = self.rules.unanswered_window
        for tier, previous in zip(TIER_ORDER, (None, *TIER_ORDER), strict=False):
            path = f"tiers.{tier.value}"
            limits = self.tiers[tier]
            longest = max(longest, *limits.volume)
            if limits.quiet_hours.start == limits.quiet_hours.end:
                problems.append((f"{path}.quiet_hours", "start and end must differ (calls need some daytime)"))
            for window, limit in limits.volume.items():
                if centi(limit) < heaviest:
                    problems.append(
                        (
                            f"{path}.volume.{format_duration(window)}",
                            f"must be at least the heaviest channel weight ({heaviest / 100:g}), got {limit:g}",
                        )
                    )
            if previous is not None:
                problems += _looser(path, previous.value, limits, self.tiers[previous])
        needed = longest + self.scoring.cool_down
        if self.history.horizon < needed:
            problems.append(
                (
                    "history.horizon",
                    f"must cover the longest window plus the cool-down ({format_duration(needed)}),"
                    f" got {format_duration(self.history.horizon)}",
                )
            )
        return problems


def _canonical(value: Any) -> Any:
    """Plain JSON-ready data with every set sorted, so equal policies write equal text."""
    if isinstance(value, dict):
        return {str(key): _canonical(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted(_canonical(item) for item in value)
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    if isinstance(value, Enum):
        return value.value
    return value


def _ascending(path: str, values: dict[str, float], strict: bool) -> list[tuple[str, str]]:
    names = list(values)
    return [
        (f"{path}.{high}", f"must be above {low} ({values[low]:g}), got {values[high]:g}")
        for low, high in itertools.pairwise(names)
        if values[high] < values[low] or (strict and values[high] == values[low])
    ]


def _looser(path: str, lower: str, limits: TierLimits, below: TierLimits) -> list[tuple[str, str]]:
    """A higher tier may loosen every limit, never tighten one: rapport only ever earns room."""
    problems = []
    if set(limits.volume) != set(below.volume):
        windows = ", ".join(format_duration(window) for window in sorted(below.volume))
        return [(f"{path}.volume", f"must name the same windows as {lower} ({windows})")]
    for window, limit in limits.volume.items():
        if limit < below.volume[window]:
            problems.append(
                (f"{path}.volume.{format_duration(window)}", f"must be at least {lower}'s ({below.volume[window]:g})")
            )
    for name in ("max_unanswered", "max_unanswered_channels", "max_pursuit"):
        if getattr(limits, name) < getattr(below, name):
            problems.append((f"{path}.{name}", f"must be at least {lower}'s"))
    if limits.min_gap > below.min_gap:
        problems.append((f"{path}.min_gap", f"must be at most {lower}'s ({format_duration(below.min_gap)})"))
    if not limits.quiet_hours.minutes() <= below.quiet_hours.minutes():
        problems.append((f"{path}.quiet_hours", f"must lie inside {lower}'s quiet hours"))
    return problems
