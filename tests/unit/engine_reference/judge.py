"""REFERENCE copy, frozen (see __init__): do not optimise or fix.

The policy engine: judges a relationship, or a touch not yet made, from the contact's history. Pure.

A touch's *verdict* is the set of rules it broke and a nuisance score: each broken rule adds its severity times
the overshoot, and rapport earns headroom. A pair's *level* is the worst verdict among the sender's touches in
the last cool-down period since the contact last engaged: the contact engaging clears it at once; otherwise it
falls back only once the sender has kept within the rules for the whole cool-down. The team is judged the same
way over every sender of the tenant, with the team rules. `next_allowed_at` is the earliest instant at which one
more outbound touch would break no rule, pair or team.
"""

import bisect
from dataclasses import dataclass
from datetime import datetime

from schemas import Channel, Level
from services.scoring.engine.judge import Check, Decision, Judgement
from services.scoring.engine.touches import instant
from services.scoring.policy.model import Policy
from services.scoring.state.history import ContactState
from tests.unit.engine_reference.consent import opt_out_in_force
from tests.unit.engine_reference.rapport import Rapport, rapport_at
from tests.unit.engine_reference.rules import FOREVER, NEVER, OPTED_OUT, Breach, Situation, Subject, Timeline, timeline

_MAX_STEPS = 1000
BY_CHANNEL = (Channel.EMAIL, Channel.PHONE_WORK, Channel.PHONE_MOBILE)
"""The channels scores and alerts quote a next welcome instant for, so "pause until" is true for calls too."""


@dataclass(slots=True)
class Verdict:
    score: float
    level: Level
    breaches: list[Breach]
    rapport: Rapport
    at: int
    """When the judged touch was (or would be) made."""


def level_for(score: float, policy: Policy) -> Level:
    levels = policy.scoring.levels
    if score >= levels.stalking:
        return Level.STALKING
    if score >= levels.nuisance:
        return Level.NUISANCE
    if score >= levels.watch:
        return Level.WATCH
    return Level.OK


def nuisance_score(breaches: list[Breach], rapport: Rapport, policy: Policy) -> float:
    """Severity times overshoot, less rapport's headroom; a touch against an opt-out scores at least its floor,
    whatever rapport was earned."""
    severity = policy.scoring.severity
    raw = sum(
        float(getattr(severity, breach.rule.removeprefix("team_"))) * breach.overshoot
        for breach in breaches
        if breach.rule != OPTED_OUT
    )
    score = round(max(0.0, min(100.0, raw - policy.scoring.headroom * rapport.score)), 1)
    floors = [_opt_out_floor(breach, policy) for breach in breaches if breach.rule == OPTED_OUT]
    return max([score, *floors])


def _opt_out_floor(breach: Breach, policy: Policy) -> float:
    consent = policy.consent
    level = consent.repeat_level if breach.observed >= consent.repeat_from else consent.level
    return float(getattr(policy.scoring.levels, level.value))


def verdict(situation: Situation) -> Verdict:
    breaches = situation.breaches()
    score = nuisance_score(breaches, situation.rapport, situation.policy)
    return Verdict(score, level_for(score, situation.policy), breaches, situation.rapport, situation.subject.at)


class ContactView:
    """One contact's history as the rules see it, built once and shared by every judgement of one moment.

    Build a new view after the state changes; a view never notices changes made after it was built.
    """

    def __init__(self, state: ContactState, policy: Policy, timezone: str | None = None) -> None:
        self.state = state
        self.policy = policy
        self.timezone = timezone or state.timezone or policy.rules.default_timezone
        self._pairs: dict[str, Timeline] = {}
        self._team: Timeline | None = None

    def pair(self, sender_id: str) -> Timeline:
        if sender_id not in self._pairs:
            pair = self.state.pairs.get(sender_id)
            touches = [] if pair is None else pair.touches
            first = None if pair is None else pair.first_engaged_at
            self._pairs[sender_id] = timeline(((sender_id, t) for t in touches), self.policy, first, self.state.consent)
        return self._pairs[sender_id]

    def team(self) -> Timeline:
        if self._team is None:
            merged = sorted(
                (
                    (touch.at, touch.key, sender_id, touch)
                    for sender_id, pair in self.state.pairs.items()
                    for touch in pair.touches
                ),
                key=lambda item: (item[0], item[1]),
            )
            firsts = [pair.first_engaged_at for pair in self.state.pairs.values() if pair.first_engaged_at is not None]
            self._team = timeline(
                ((sender_id, touch) for _, _, sender_id, touch in merged),
                self.policy,
                min(firsts, default=None),
                self.state.consent,
            )
        return self._team

    def has_others(self, sender_id: str) -> bool:
        return self.policy.team.enabled and any(other != sender_id for other in self.state.pairs)

    def _several_senders(self, at: int, sender_id: str) -> bool:
        """Whether enough colleagues wrote inside the window for the team rules to apply at all (a cheap
        pre-check that spares judging the team for most contacts)."""
        since = at - self.policy.rules.unanswered_window
        writing = {sender_id} | {
            other
            for other, pair in self.state.pairs.items()
            if any(since < touch.at <= at and touch.counts for touch in pair.touches)
        }
        return len(writing) >= self.policy.team.min_senders

    def _opted_out(self, channel: Channel, at: int) -> bool:
        return bool(self.state.consent) and opt_out_in_force(self.state.consent, channel, at) is not None

    def rapport(self, line: Timeline, at: int) -> Rapport:
        engaged = bisect.bisect_right(line.engaged_at, at)
        outreach = bisect.bisect_right(line.out_at, at)
        return rapport_at(line.engagements[:engaged], outreach, line.first_engaged_at, at, self.policy)

    def settled(self, line: Timeline, at: int, team: bool, known: Level | None = None) -> Verdict | None:
        """The worst verdict among the outreach in the cool-down before `at` since the contact last engaged:
        the latest touch of the highest level.

        `known` is the level settled as of the previous touch, given only when the caller vouches that the
        newest outreach touch is the only change since (appended last, nothing forgotten, same policy and zone).
        Then the touches before it keep their verdicts, none of them can be worse than `known`, and a newest
        touch at least that bad is the answer without judging the others again.
        """
        end = bisect.bisect_right(line.out_at, at)
        engaged = bisect.bisect_right(line.engaged_at, at)
        last_engaged = line.engaged_at[engaged - 1] if engaged else NEVER
        start = bisect.bisect_right(line.out_at, max(last_engaged, at - self.policy.scoring.cool_down), 0, end)
        if start == end:
            return None
        if known is not None:
            newest = self._verdict(line, end - 1, team)
            if newest.level.rank >= known.rank:
                return newest
        worst: Verdict | None = None
        for index in range(start, end):
            candidate = self._verdict(line, index, team)
            if worst is None or candidate.level.rank >= worst.level.rank:
                worst = candidate
        return worst

    def _verdict(self, line: Timeline, index: int, team: bool) -> Verdict:
        subject = Subject(line.out_at[index], line.out_channel[index], line.out_sender[index])
        return verdict(Situation(line, index, subject, self.policy, self.timezone, team=team))

    def considered(self, sender_id: str, at: int, channel: Channel, as_of: int) -> tuple[Situation, Situation | None]:
        """Situations (pair, team) of an outbound touch not yet made at `at`, knowing the history up to `as_of`."""
        subject = Subject(at, channel, sender_id)
        line = self.pair(sender_id)
        pair = Situation(
            line, bisect.bisect_right(line.out_at, as_of), subject, self.policy, self.timezone, as_of=as_of
        )
        if not self.has_others(sender_id):
            return pair, None
        if not self._several_senders(as_of, sender_id) and not self._opted_out(channel, as_of):
            return pair, None
        team_line = self.team()
        n = bisect.bisect_right(team_line.out_at, as_of)
        return pair, Situation(team_line, n, subject, self.policy, self.timezone, team=True, as_of=as_of)

    def _earliest_by_gap(self, sender_id: str, at: int, channel: Channel) -> int:
        """No touch before the sender's last one plus the minimum gap its tier has now can be welcome: tiers only
        fall while nobody writes, and a lower tier's gap is no shorter. Starting there saves one judgement."""
        line = self.pair(sender_id)
        n = bisect.bisect_right(line.out_at, at)
        if n == 0:
            return at
        situation = Situation(line, n, Subject(at, channel, sender_id), self.policy, self.timezone, as_of=at)
        return max(at, line.out_at[n - 1] + situation.limits.min_gap)

    def next_allowed_at(self, sender_id: str, at: int, channel: Channel) -> int | None:
        """The earliest instant from `at` on at which one more touch on `channel` breaks no rule.

        Each broken rule names the first instant it would be kept again; no earlier instant can satisfy every
        rule, so jumping to the latest of those and judging again converges on the earliest welcome instant.
        Rapport only decays while no one writes, so limits never loosen on the way and none is skipped.
        """
        moment = self._earliest_by_gap(sender_id, at, channel)
        for _ in range(_MAX_STEPS):
            pair, team = self.considered(sender_id, moment, channel, as_of=at)
            breaches = pair.breaches() + ([] if team is None else team.breaches())
            if not breaches:
                return moment
            moment = max(breach.release for breach in breaches)
            if moment >= FOREVER:
                return None
        return None


def _instant(at: int | None) -> datetime | None:
    return None if at is None else instant(at)


def _judgement(worst: Verdict | None, rapport: Rapport, next_allowed: int | None, cool_down: int) -> Judgement:
    return Judgement(
        falls_at=None if worst is None or worst.level is Level.OK else worst.at + cool_down,
        level=Level.OK if worst is None else worst.level,
        nuisance_score=0.0 if worst is None else worst.score,
        rapport_score=rapport.score,
        tier=rapport.tier,
        reasons=[] if worst is None else [breach.reason() for breach in worst.breaches],
        next_allowed_at=_instant(next_allowed),
    )


def judge_pair(view: ContactView, sender_id: str, at: int, known: Level | None = None) -> Judgement:
    """The pair's level as of `at`, and when the sender's next touch on the gentlest channel would be welcome.

    `known`: see `ContactView.settled`.
    """
    line = view.pair(sender_id)
    worst = view.settled(line, at, team=False, known=known)
    gentlest = view.policy.gentlest_channel
    next_allowed = view.next_allowed_at(sender_id, at, gentlest)
    judgement = _judgement(worst, view.rapport(line, at), next_allowed, view.policy.scoring.cool_down)
    by_channel = {
        channel: _instant(next_allowed if channel is gentlest else view.next_allowed_at(sender_id, at, channel))
        for channel in BY_CHANNEL
    }
    return judgement.model_copy(update={"next_allowed_by_channel": by_channel})


def pair_level(view: ContactView, sender_id: str, at: int) -> Level:
    return pair_settling(view, sender_id, at)[0]


def pair_settling(view: ContactView, sender_id: str, at: int) -> tuple[Level, int | None]:
    """The pair's level as of `at`, and when it falls if nothing happens."""
    worst = view.settled(view.pair(sender_id), at, team=False)
    if worst is None or worst.level is Level.OK:
        return Level.OK, None
    return worst.level, worst.at + view.policy.scoring.cool_down


def team_level(view: ContactView, at: int) -> Level:
    worst = view.settled(view.team(), at, team=True)
    return Level.OK if worst is None else worst.level


def team_applies(state: ContactState, policy: Policy) -> bool:
    return policy.team.enabled and len(state.pairs) >= policy.team.min_senders


def judge_team(view: ContactView, at: int, next_allowed: datetime | None, known: Level | None = None) -> Judgement:
    """The team's level as of `at`; `next_allowed` is passed through from the triggering sender's judgement."""
    line = view.team()
    worst = view.settled(line, at, team=True, known=known)
    judgement = _judgement(worst, view.rapport(line, at), None, view.policy.scoring.cool_down)
    return judgement.model_copy(update={"next_allowed_at": next_allowed})


def check(view: ContactView, sender_id: str, at: int, channel: Channel) -> Check:
    """Would one more outbound touch on `channel` at `at` be welcome? The same rules the stream applies."""
    pair_situation, team_situation = view.considered(sender_id, at, channel, as_of=at)
    pair = verdict(pair_situation)
    team = None if team_situation is None else verdict(team_situation)
    touch_breaches = pair.breaches + ([] if team is None else team.breaches)
    worst_now = view.settled(view.pair(sender_id), at, team=False)
    projected = max((v for v in (worst_now, pair, team) if v is not None), key=lambda v: v.score)
    touch_level = max(pair.level, Level.OK if team is None else team.level, key=lambda level: level.rank)
    if not touch_breaches:
        decision = Decision.ALLOW
    elif touch_level.rank >= Level.NUISANCE.rank:
        decision = Decision.BLOCK
    else:
        decision = Decision.WARN
    reasons = touch_breaches or projected.breaches
    judgement = Judgement(
        level=projected.level,
        nuisance_score=projected.score,
        rapport_score=pair.rapport.score,
        tier=pair.rapport.tier,
        reasons=[breach.reason() for breach in reasons],
        next_allowed_at=_instant(view.next_allowed_at(sender_id, at, channel)),
    )
    return Check(decision, judgement)
