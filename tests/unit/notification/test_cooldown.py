"""The per-relationship cool-down: one message per pair per window, escalations break through."""

from datetime import timedelta

from schemas import AlertLevel, Scope
from services.notification.cooldown import PairNotices, Verdict, decide, pair_key
from tests.harness.alerts import T0, make_alert

DAY = timedelta(hours=24)


def run(levels: list[tuple[float, AlertLevel]], cooldown: timedelta = DAY) -> list[Verdict]:
    """Feed alerts for one pair at the given hours after T0; return each verdict."""
    notices: PairNotices | None = None
    verdicts = []
    for hours, level in levels:
        decision = decide(notices, make_alert(level), T0 + timedelta(hours=hours), cooldown)
        verdicts.append(decision.verdict)
        notices = decision.notices if decision.notices is not None else notices
    return verdicts


def test_a_pair_that_flaps_between_ok_and_watch_hears_once_and_once_that_it_is_over() -> None:
    verdicts = run(
        [
            (0, AlertLevel.WATCH),
            (1, AlertLevel.RESOLVED),
            (2, AlertLevel.WATCH),
            (3, AlertLevel.RESOLVED),
            (4, AlertLevel.WATCH),
        ]
    )
    assert verdicts == [
        Verdict.DELIVER,
        Verdict.DELIVER,
        Verdict.COOLDOWN,
        Verdict.NOTHING_TO_RESOLVE,
        Verdict.COOLDOWN,
    ]


def test_escalations_break_through_the_cooldown_and_stalking_always_does() -> None:
    assert run([(0, AlertLevel.WATCH), (1, AlertLevel.NUISANCE), (2, AlertLevel.STALKING)]) == [Verdict.DELIVER] * 3
    assert run([(0, AlertLevel.NUISANCE), (1, AlertLevel.WATCH), (2, AlertLevel.STALKING)]) == [
        Verdict.DELIVER,
        Verdict.COOLDOWN,
        Verdict.DELIVER,
    ]


def test_after_the_window_the_same_level_is_news_again() -> None:
    assert run([(0, AlertLevel.WATCH), (23, AlertLevel.WATCH), (25, AlertLevel.WATCH)]) == [
        Verdict.DELIVER,
        Verdict.COOLDOWN,
        Verdict.DELIVER,
    ]


def test_resolved_reaches_people_weeks_later_but_never_without_a_problem_told() -> None:
    assert run([(0, AlertLevel.STALKING), (24 * 21, AlertLevel.RESOLVED)]) == [Verdict.DELIVER, Verdict.DELIVER]
    assert run([(0, AlertLevel.RESOLVED)]) == [Verdict.NOTHING_TO_RESOLVE]


def test_the_next_message_counts_what_was_held_back() -> None:
    first = decide(None, make_alert(AlertLevel.NUISANCE), T0, DAY)
    held = decide(first.notices, make_alert(AlertLevel.WATCH), T0 + timedelta(hours=1), DAY)
    held = decide(held.notices, make_alert(AlertLevel.NUISANCE), T0 + timedelta(hours=2), DAY)
    escalation = decide(held.notices, make_alert(AlertLevel.STALKING), T0 + timedelta(hours=3), DAY)
    assert (escalation.deliver, escalation.held_back) == (True, 2)
    assert escalation.notices is not None
    assert escalation.notices.held == ()


def test_an_alert_redelivered_after_a_crash_is_delivered_again_not_held_back() -> None:
    alert = make_alert(AlertLevel.WATCH)
    first = decide(None, alert, T0, DAY)
    again = decide(first.notices, alert, T0 + timedelta(minutes=5), DAY)
    assert again.deliver


def test_a_held_back_alert_redelivered_is_counted_once() -> None:
    first = decide(None, make_alert(AlertLevel.WATCH), T0, DAY)
    repeat = make_alert(AlertLevel.WATCH)
    held = decide(first.notices, repeat, T0 + timedelta(hours=1), DAY)
    held_again = decide(held.notices, repeat, T0 + timedelta(hours=1), DAY)
    assert held_again.notices is not None
    assert len(held_again.notices.held) == 1


def test_zero_cooldown_delivers_everything() -> None:
    assert (
        run([(0, AlertLevel.WATCH), (0, AlertLevel.WATCH), (0, AlertLevel.RESOLVED)], timedelta(0))
        == [Verdict.DELIVER] * 3
    )


def test_each_sender_has_its_own_cooldown_and_the_team_one_more() -> None:
    keys = {
        pair_key(make_alert(sender="rep-1")),
        pair_key(make_alert(sender="rep-2")),
        pair_key(make_alert(scope=Scope.TEAM)),
        pair_key(make_alert(sender="rep-1", contact="c-2")),
    }
    assert len(keys) == 4
