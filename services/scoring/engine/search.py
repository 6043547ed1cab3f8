"""The search for the earliest instant at which one more touch would break no rule (`next_allowed_at`). Pure.

It walks exactly the path the rules describe: start at the sender's last touch plus the minimum gap, and while the
touch considered at `moment` breaks a rule, jump to the latest instant any broken rule names as its release. What
makes it cheap is that a step computes only those releases, not the breaches with their overshoot and wording,
and that everything a step needs that does not depend on the channel (rapport and the tier's limits at `moment`,
the unanswered streak, the pursuit, the gap, whether the team rules apply) is worked out once per instant and
shared by the searches for every channel of one judgement.
"""

import bisect
from collections.abc import Sequence

from schemas import Channel, Tier
from services.scoring.engine.consent import opt_out_in_force
from services.scoring.engine.quiet_hours import quiet_release
from services.scoring.engine.rapport import rapport_at
from services.scoring.engine.rules import FOREVER, NEVER, Timeline
from services.scoring.engine.touches import Engagement
from services.scoring.policy.model import Limits, Policy

MAX_STEPS = 1000


class _Line:
    """One timeline cut at the search's `at`: the first `n` outreach touches and the engagements known then."""

    __slots__ = (
        "channels",
        "cumulative",
        "engagements",
        "first_engaged_at",
        "last_engaged",
        "n",
        "out_at",
        "senders",
        "stranger_from",
    )

    def __init__(self, line: Timeline, at: int) -> None:
        self.out_at = line.out_at
        self.cumulative = line.out_cumulative
        self.channels = line.out_channel
        self.senders = line.out_sender
        self.n = bisect.bisect_right(line.out_at, at)
        engaged = bisect.bisect_right(line.engaged_at, at)
        self.engagements: Sequence[tuple[int, Engagement]] = line.engagements[:engaged]
        self.first_engaged_at = line.first_engaged_at
        self.last_engaged = line.engaged_at[engaged - 1] if engaged else NEVER
        self.stranger_from = at if engaged == 0 else FOREVER
        """The earliest instant of the search known to find rapport at the lowest tier."""


class Search:
    """The searches of one sender's next touch from `at` on, for any channel, knowing the history up to `at`.

    `team` is the whole contact's timeline when the team rules may apply (the caller's cheap pre-check), else None.
    """

    def __init__(
        self,
        pair: Timeline,
        team: Timeline | None,
        sender_id: str,
        at: int,
        *,
        policy: Policy,
        timezone: str,
    ) -> None:
        self.at = at
        self.sender_id = sender_id
        self.policy = policy
        self.timezone = timezone
        self.consent = pair.consent
        self.pair = _Line(pair, at)
        self.team = None if team is None else _Line(team, at)
        self.weights = policy.weights
        rules = policy.rules
        self.unanswered_window = rules.unanswered_window
        self.escalation_window = rules.escalation_window
        self.pursuit_rest = rules.pursuit_rest
        self.quiet_channels = rules.quiet_channels
        self.min_senders = policy.team.min_senders
        self._pair_steps: dict[int, tuple[Limits, int | None, dict[Channel, int] | None]] = {}
        self._team_steps: dict[int, tuple[Limits, int | None, dict[Channel, int] | None, int] | None] = {}
        self._start: int | None = None
        self._earliest: dict[Channel, int | None] = {}
        self._quiet: dict[int, int | None] = {}

    def earliest(self, channel: Channel) -> int | None:
        """The earliest instant from `at` on at which one more touch on `channel` breaks no rule; None while the
        contact has opted out of it (or no waiting ever helps)."""
        if channel not in self._earliest:
            self._earliest[channel] = self._search(channel)
        return self._earliest[channel]

    def _search(self, channel: Channel) -> int | None:
        if self.consent and opt_out_in_force(self.consent, channel, self.at) is not None:
            return None
        moment = self.start()
        weight = self.weights[channel]
        quiet = channel in self.quiet_channels
        team = self.team is not None
        steps = self._pair_steps
        for _ in range(MAX_STEPS):
            step = steps.get(moment)
            if step is None:
                step = steps[moment] = self._pair_step(moment)
            limits, shared, tried = step
            latest = self._channel_release(self.pair, moment, limits, shared, tried, channel, weight)
            if quiet:
                release = self._quiet_release(moment, limits)
                if release is not None and (latest is None or release > latest):
                    latest = release
            if team:
                release = self._team_release(moment, channel)
                if release is not None and (latest is None or release > latest):
                    latest = release
            if latest is None:
                return moment
            moment = latest
            if moment >= FOREVER:
                return None
        return None

    def _quiet_release(self, moment: int, limits: Limits) -> int | None:
        if moment in self._quiet:
            return self._quiet[moment]
        release = self._quiet[moment] = quiet_release(moment, self.timezone, limits.quiet_hours)
        return release

    def start(self) -> int:
        """No touch before the sender's last one plus the minimum gap its tier has now can be welcome: tiers only
        fall while nobody writes, and a lower tier's gap is no shorter. Starting there saves one step."""
        if self._start is None:
            line, at = self.pair, self.at
            if line.n == 0:
                self._start = at
            else:
                self._start = max(at, line.out_at[line.n - 1] + self._limits(line, at, False).min_gap)
        return self._start

    def _limits(self, line: _Line, moment: int, team: bool) -> Limits:
        """The limits of the tier rapport has at `moment`. Rapport only decays while nobody writes, so once the
        tier is the lowest it stays so at every later instant of the search, and rapport need not be worked out."""
        if moment >= line.stranger_from:
            return self.policy.compiled[(Tier.STRANGER, team)]
        tier = rapport_at(line.engagements, line.n, line.first_engaged_at, moment, self.policy).tier
        if tier is Tier.STRANGER:
            line.stranger_from = moment
        return self.policy.compiled[(tier, team)]

    def _pair_step(self, moment: int) -> tuple[Limits, int | None, dict[Channel, int] | None]:
        """What a pair step at `moment` shares across channels: the limits, the latest release of the streak,
        pursuit and gap rules (None: none broken), and the channels tried in the escalation window."""
        line = self.pair
        limits = self._limits(line, moment, False)
        latest = _streak_release(line, moment, limits, self.unanswered_window)
        pursuit = _pursuit_release(line, moment, limits, self.pursuit_rest)
        if pursuit is not None and (latest is None or pursuit > latest):
            latest = pursuit
        n = line.n
        if n:
            previous = line.out_at[n - 1]
            if moment - previous < limits.min_gap:
                gap = previous + limits.min_gap
                if latest is None or gap > latest:
                    latest = gap
        return limits, latest, _tried(line, moment, limits, self.escalation_window)

    def _team_release(self, moment: int, channel: Channel) -> int | None:
        if moment not in self._team_steps:
            self._team_steps[moment] = self._team_step(moment)
        step = self._team_steps[moment]
        if step is None:
            return None
        limits, shared, tried, escape = step
        assert self.team is not None
        latest = self._channel_release(self.team, moment, limits, shared, tried, channel, self.weights[channel])
        if latest is None:
            return None
        return latest if escape >= latest else escape

    def _channel_release(  # noqa: PLR0917 - the hot path's step, passed as it was unpacked
        self,
        line: _Line,
        moment: int,
        limits: Limits,
        shared: int | None,
        tried: dict[Channel, int] | None,
        channel: Channel,
        weight: int,
    ) -> int | None:
        """The latest of a step's channel-independent release (`shared`) and the volume and escalation releases
        of one more touch on `channel`; None when no rule is broken. The pair's step and the team's share it."""
        latest = shared
        volume = _volume_release(line, moment, limits, weight)
        if volume is not None and (latest is None or volume > latest):
            latest = volume
        if tried is not None:
            escalation = _escalation_release(tried, channel, limits, self.escalation_window)
            if escalation is not None and (latest is None or escalation > latest):
                latest = escalation
        return latest

    def _team_step(self, moment: int) -> tuple[Limits, int | None, dict[Channel, int] | None, int] | None:
        """None when too few senders wrote inside the window for the team rules to apply; else the limits, the
        latest release of the streak and pursuit rules, the channels tried, and when the team rules stop applying."""
        line = self.team
        assert line is not None
        window = self.unanswered_window
        n = line.n
        first = bisect.bisect_right(line.out_at, moment - window, 0, n)
        senders = dict(zip(line.senders[first:n], line.out_at[first:n], strict=True))
        senders[self.sender_id] = moment
        if len(senders) < self.min_senders:
            return None
        leaving = sorted(at + window for sender, at in senders.items() if sender != self.sender_id)
        escape = leaving[len(senders) - self.min_senders]
        limits = self._limits(line, moment, True)
        latest = _streak_release(line, moment, limits, window)
        pursuit = _pursuit_release(line, moment, limits, self.pursuit_rest)
        if pursuit is not None and (latest is None or pursuit > latest):
            latest = pursuit
        return limits, latest, _tried(line, moment, limits, self.escalation_window), escape


def _volume_release(line: _Line, moment: int, limits: Limits, weight: int) -> int | None:
    n, out_at, cumulative = line.n, line.out_at, line.cumulative
    latest = None
    for window, most in limits.volume:
        first = bisect.bisect_right(out_at, moment - window, 0, n)
        if cumulative[n] - cumulative[first] + weight > most:
            leaving = first
            while cumulative[n] - cumulative[leaving + 1] + weight > most:
                leaving += 1
            release = out_at[leaving] + window
            if latest is None or release > latest:
                latest = release
    return latest


def _streak_release(line: _Line, moment: int, limits: Limits, window: int) -> int | None:
    n = line.n
    first = bisect.bisect_right(line.out_at, max(line.last_engaged, moment - window), 0, n)
    most = limits.max_unanswered
    if n - first + 1 > most:
        return line.out_at[n - most] + window
    return None


def _pursuit_release(line: _Line, moment: int, limits: Limits, rest: int) -> int | None:
    out_at, last_engaged = line.out_at, line.last_engaged
    start = previous = moment
    index = line.n - 1
    while index >= 0 and out_at[index] > last_engaged and previous - out_at[index] < rest:
        start = previous = out_at[index]
        index -= 1
    if moment - start > limits.max_pursuit:
        return out_at[line.n - 1] + rest
    return None


def _tried(line: _Line, moment: int, limits: Limits, window: int) -> dict[Channel, int] | None:
    """The channels tried without an answer inside the escalation window, each with its latest touch; None when
    too few touches are inside it for the rule to be broken on any channel."""
    n = line.n
    first = bisect.bisect_right(line.out_at, max(line.last_engaged, moment - window), 0, n)
    if n - first + 1 <= limits.max_unanswered_channels:
        return None
    return dict(zip(line.channels[first:n], line.out_at[first:n], strict=True))


def _escalation_release(tried: dict[Channel, int], channel: Channel, limits: Limits, window: int) -> int | None:
    most = limits.max_unanswered_channels
    count = len(tried) + (channel not in tried)
    if count <= most:
        return None
    leaving = sorted(at + window for other, at in tried.items() if other is not channel)
    return leaving[count - most - 1]
