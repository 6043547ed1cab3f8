"""Damping: a pair that falls quiet and starts again at the same level is one story, not a stream of alerts.

A pursuit often goes in waves: nuisance, the cool-down passes calmly (`resolved`), nuisance again weeks later.
Each wave on its own is worth a word; the second one within `alerts.damping` of the first one's fall, and no
worse than it, tells the reader nothing new. Such a re-rise is not announced; the pair's level is still judged
and kept (the check and `GET /v1/pairs` say it), and what readers were told is remembered apart
(`PairHistory.told`), so the next change they need to hear about is announced against what they know. The team
alert cycling watch → resolved → watch is damped the same way, on the team's merged history
(`ContactState.team_told`).

Only falls with the passing of time count: the contact engaging (with any sender, for the team) or giving consent
again starts a new story, and a touch against the contact's opt-out is always news. Judged from the history
alone, so a restore or a redelivery damps the same re-rises. The processor does not ask while the pair's (or the
team's) last level above ok went out historical (`PairHistory.historical`): readers never heard that wave as
news, so the new one repeats nothing they know.
"""

import bisect

from schemas import Level
from services.scoring.engine.judge import ContactView, Judgement, verdict
from services.scoring.engine.rules import OPTED_OUT, Situation, Subject, Timeline


def quiet_re_rise(view: ContactView, sender_id: str, told: Level, current: Judgement, at: int) -> bool:
    """Whether the pair's rise from `told` to `current` as of `at` repeats a level it had already reached, in an
    episode that fell with time at most `alerts.damping` before `at`, with no engagement since."""
    return _repeats(view, view.pair(sender_id), told, current, at, team=False)


def quiet_team_re_rise(view: ContactView, told: Level, current: Judgement, at: int) -> bool:
    """The same for the team: its rise repeats a level the team had reached, in an episode that fell with time,
    with no engagement of the contact with any sender since."""
    return _repeats(view, view.team(), told, current, at, team=True)


def _repeats(view: ContactView, line: Timeline, told: Level, current: Judgement, at: int, *, team: bool) -> bool:
    damping = view.policy.alerts.damping
    if damping <= 0 or current.level.rank <= told.rank:
        return False
    if any(reason.rule == OPTED_OUT for reason in current.reasons):
        return False
    cool_down = view.policy.scoring.cool_down
    engaged = bisect.bisect_right(line.engaged_at, at)
    last_engaged = line.engaged_at[engaged - 1] if engaged else None
    since = at - cool_down - damping
    if last_engaged is not None:
        since = max(since, last_engaged)
    fallen_by = at - cool_down
    """Touches at or before this have left the cool-down: the episode they made has fallen by `at`."""
    first = bisect.bisect_right(line.out_at, since)
    end = bisect.bisect_right(line.out_at, fallen_by)
    for index in range(first, end):
        subject = Subject(line.out_at[index], line.out_channel[index], line.out_sender[index])
        earlier = verdict(Situation(line, index, subject, view.policy, view.timezone, team=team))
        if earlier.level.rank >= current.level.rank:
            return True
    return False
