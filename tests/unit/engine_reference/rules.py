"""REFERENCE copy, frozen (see __init__): do not optimise or fix.

The frequency rules, judged for one outbound touch against what came before it.

Each rule answers two questions: is this touch over the limit (a `Breach`, with how far over), and, for a touch
not made yet, from when on would it not be (`release`). The engine combines the answers; nothing here reads the
clock, every instant is a parameter in whole seconds.
"""

import bisect
import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from schemas import Channel, Direction, Reason, Tier
from services.scoring.engine.consent import ConsentMark
from services.scoring.engine.touches import Engagement, Touch
from services.scoring.engine.wording import breach_sentence
from services.scoring.policy.model import Limits, Policy, format_clock, format_duration
from tests.unit.engine_reference.consent import opt_out_in_force
from tests.unit.engine_reference.quiet_hours import is_quiet, local_time, quiet_ends
from tests.unit.engine_reference.rapport import Rapport, rapport_at

NEVER = -(2**62)
FOREVER = 2**62
"""The release of a rule no waiting keeps: only the contact (an opt-in) lifts it."""
OPTED_OUT = "opted_out"


@dataclass(slots=True)
class Timeline:
    """What the rules see of a history: the outreach that counts and the engagements, each oldest first."""

    out_at: list[int]
    out_cumulative: list[int]
    """Running total of channel weights (hundredths): out_cumulative[i] is the weight of out_at[:i]."""
    out_channel: list[Channel]
    out_sender: list[str]
    engagements: list[tuple[int, Engagement]]
    engaged_at: list[int]
    first_engaged_at: int | None
    consent: Sequence[ConsentMark] = ()
    out_opted: list[bool] = dataclasses.field(default_factory=list)
    """out_opted[i]: the i-th outreach was made on a channel the contact had opted out of."""


def timeline(
    touches: Iterable[tuple[str, Touch]],
    policy: Policy,
    first_engaged_at: int | None,
    consent: Sequence[ConsentMark] = (),
) -> Timeline:
    """From (sender, touch) pairs in event-time order.

    An outbound, non-exempt touch on a channel the contact had opted out of is outreach whatever came of it: a
    call the contact picked up to say stop again earns no rapport, and a bounce was still an attempt.
    """
    weights = policy.weights
    out_at: list[int] = []
    cumulative = [0]
    channels: list[Channel] = []
    senders: list[str] = []
    engagements: list[tuple[int, Engagement]] = []
    opted: list[bool] = []
    for sender_id, touch in touches:
        engagement = touch.engagement
        against = (
            bool(consent)
            and touch.direction is Direction.OUTBOUND
            and not touch.exempt
            and opt_out_in_force(consent, touch.channel, touch.at) is not None
        )
        if engagement is not None and not against:
            engagements.append((touch.at, engagement))
        elif touch.counts or against:
            out_at.append(touch.at)
            cumulative.append(cumulative[-1] + weights[touch.channel])
            channels.append(touch.channel)
            senders.append(sender_id)
            opted.append(against)
    engaged_at = [at for at, _ in engagements]
    return Timeline(out_at, cumulative, channels, senders, engagements, engaged_at, first_engaged_at, consent, opted)


@dataclass(slots=True)
class Subject:
    """The touch being judged: made (the n-th outreach of its timeline) or only considered."""

    at: int
    channel: Channel
    sender_id: str


@dataclass(slots=True)
class Breach:
    rule: str
    observed: float
    limit: float
    window: int | None
    overshoot: float
    release: int
    """Earliest instant from which a touch not yet made would keep this rule (for a made touch: unused)."""
    tier: Tier
    detail: str = ""

    def reason(self) -> Reason:
        return _reason(self.rule, self.observed, self.limit, self.window, tier=self.tier, detail=self.detail)


@lru_cache(maxsize=4096)
def _reason(rule: str, observed: float, limit: float, window: int | None, *, tier: Tier, detail: str) -> Reason:
    """Reasons repeat a lot (the same streak, the same limit): each is worded once."""
    return Reason(
        rule=rule,
        message=breach_sentence(rule, observed, limit, window=window, tier=tier, detail=detail),
        observed=observed,
        limit=limit,
        window=None if window is None else format_duration(window),
    )


class Situation:
    """One subject touch against the `n` outreach touches before it, under the tier rapport has earned by then."""

    def __init__(
        self,
        line: Timeline,
        n: int,
        subject: Subject,
        policy: Policy,
        timezone: str,
        *,
        team: bool = False,
        as_of: int | None = None,
    ) -> None:
        """`as_of` cuts the history for a touch not yet made: later engagements are not known when it is made."""
        self.line = line
        self.n = n
        self.subject = subject
        self.policy = policy
        self.timezone = timezone
        self.team = team
        known = subject.at if as_of is None else min(as_of, subject.at)
        self.known = known
        engaged = bisect.bisect_right(line.engaged_at, known)
        self.last_engaged = line.engaged_at[engaged - 1] if engaged else NEVER
        self.rapport: Rapport = rapport_at(line.engagements[:engaged], n, line.first_engaged_at, subject.at, policy)
        self.limits: Limits = policy.compiled[(self.rapport.tier, team)]
        self._senders: dict[str, int] | None = None

    @property
    def tier(self) -> Tier:
        return self.rapport.tier

    def breaches(self) -> list[Breach]:
        found: list[Breach] = []
        self._opted_out(found)
        if self.team:
            if not self._team_applies():
                return found
            counted: list[Breach] = []
            self._volume(counted)
            self._streak(counted)
            self._escalation(counted)
            self._pursuit(counted)
            escape = self._team_escape()
            return found + [_released_by(breach, escape) for breach in counted]
        self._volume(found)
        self._streak(found)
        self._escalation(found)
        self._pursuit(found)
        self._gap(found)
        self._quiet(found)
        return found

    def _opted_out(self, found: list[Breach]) -> None:
        """A touch on a channel the contact opted out of (as far as known when it is made); observed is how many
        such touches this one makes since the opt-out. No waiting lifts it: only an opt-in."""
        line = self.line
        if not line.consent:
            return
        mark = opt_out_in_force(line.consent, self.subject.channel, self.known)
        if mark is None:
            return
        first = bisect.bisect_left(line.out_at, mark.at, 0, self.n)
        count = sum(line.out_opted[first : self.n]) + 1
        detail = f"{'' if mark.channel is None else mark.channel.value}|{self.subject.channel.value}"
        if self.team:
            detail += "|team"
        found.append(Breach(OPTED_OUT, count, 0, None, 1.0, FOREVER, self.rapport.tier, detail))

    def _breach(
        self,
        rule: str,
        observed: float,
        limit: float,
        *,
        window: int | None = None,
        ratio: float,
        release: int,
        detail: str = "",
    ) -> Breach:
        name = "team_" + rule if self.team else rule
        overshoot = min(self.policy.scoring.overshoot_cap, ratio)
        return Breach(name, observed, limit, window, overshoot, release, self.rapport.tier, detail)

    def _volume(self, found: list[Breach]) -> None:
        line, n, at = self.line, self.n, self.subject.at
        cumulative = line.out_cumulative
        weight = self.policy.weights[self.subject.channel]
        for window, most in self.limits.volume:
            first = bisect.bisect_right(line.out_at, at - window, 0, n)
            total = cumulative[n] - cumulative[first] + weight
            if total > most:
                leaving = first
                while cumulative[n] - cumulative[leaving + 1] + weight > most:
                    leaving += 1
                release = line.out_at[leaving] + window
                found.append(
                    self._breach("volume", total / 100, most / 100, window=window, ratio=total / most, release=release)
                )

    def _unanswered_since(self, window: int) -> int:
        """Index of the first outreach touch inside `window` that the contact has not answered."""
        bound = max(self.last_engaged, self.subject.at - window)
        return bisect.bisect_right(self.line.out_at, bound, 0, self.n)

    def _streak(self, found: list[Breach]) -> None:
        window = self.policy.rules.unanswered_window
        first = self._unanswered_since(window)
        streak = self.n - first + 1
        most = self.limits.max_unanswered
        if streak > most:
            release = self.line.out_at[self.n - most] + window
            found.append(
                self._breach("unanswered_streak", streak, most, window=window, ratio=streak / most, release=release)
            )

    def _escalation(self, found: list[Breach]) -> None:
        window = self.policy.rules.escalation_window
        first = self._unanswered_since(window)
        most = self.limits.max_unanswered_channels
        if self.n - first + 1 <= most:
            return
        tried = dict(zip(self.line.out_channel[first : self.n], self.line.out_at[first : self.n], strict=True))
        tried[self.subject.channel] = self.subject.at
        if len(tried) > most:
            leaving = sorted(at + window for channel, at in tried.items() if channel is not self.subject.channel)
            release = leaving[len(tried) - most - 1]
            found.append(
                self._breach(
                    "channel_escalation",
                    len(tried),
                    most,
                    window=window,
                    ratio=len(tried) / most,
                    release=release,
                    detail=",".join(channel.value for channel in tried),
                )
            )

    def _pursuit(self, found: list[Breach]) -> None:
        rest = self.policy.rules.pursuit_rest
        out_at = self.line.out_at
        start = previous = self.subject.at
        index = self.n - 1
        while index >= 0 and out_at[index] > self.last_engaged and previous - out_at[index] < rest:
            start = previous = out_at[index]
            index -= 1
        span = self.subject.at - start
        most = self.limits.max_pursuit
        if span > most:
            release = out_at[self.n - 1] + rest
            found.append(
                self._breach("persistent_pursuit", span / 86400, most / 86400, ratio=span / most, release=release)
            )

    def _gap(self, found: list[Breach]) -> None:
        if self.n == 0:
            return
        gap = self.subject.at - self.line.out_at[self.n - 1]
        least = self.limits.min_gap
        if gap < least:
            release = self.line.out_at[self.n - 1] + least
            found.append(
                self._breach("min_gap", gap / 86400, least / 86400, ratio=least / max(gap, 1), release=release)
            )

    def _quiet(self, found: list[Breach]) -> None:
        quiet = self.limits.quiet_hours
        if self.subject.channel in self.policy.rules.quiet_channels and is_quiet(self.subject.at, self.timezone, quiet):
            release = quiet_ends(self.subject.at, self.timezone, quiet)
            local = local_time(self.subject.at, self.timezone)
            period = f"{format_clock(quiet.start)}–{format_clock(quiet.end)}"
            detail = f"{local:%H:%M}|{self.timezone}|{self.subject.channel.value}|{period}"
            found.append(self._breach("quiet_hours", 1, 0, ratio=1.0, release=release, detail=detail))

    def _team_senders(self) -> dict[str, int]:
        """Senders with outreach inside the unanswered window, with the last time each wrote."""
        if self._senders is None:
            window = self.policy.rules.unanswered_window
            first = bisect.bisect_right(self.line.out_at, self.subject.at - window, 0, self.n)
            senders = dict(zip(self.line.out_sender[first : self.n], self.line.out_at[first : self.n], strict=True))
            senders[self.subject.sender_id] = self.subject.at
            self._senders = senders
        return self._senders

    def _team_applies(self) -> bool:
        return self.policy.team.enabled and len(self._team_senders()) >= self.policy.team.min_senders

    def _team_escape(self) -> int:
        """When enough colleagues' outreach leaves the window for the team rules to stop applying."""
        window = self.policy.rules.unanswered_window
        senders = self._team_senders()
        leaving = sorted(at + window for sender, at in senders.items() if sender != self.subject.sender_id)
        return leaving[len(senders) - self.policy.team.min_senders]


def _released_by(breach: Breach, escape: int) -> Breach:
    if escape >= breach.release:
        return breach
    return dataclasses.replace(breach, release=escape)
