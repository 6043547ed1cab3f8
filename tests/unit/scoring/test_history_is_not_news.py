"""A backfill is on record but is not news: alerts whose pressure had ended by wall clock are marked historical."""

from datetime import datetime, timedelta

from schemas import AlertLevel, Level, OutreachEvent
from services.scoring.policy.file import PolicySet
from services.scoring.processing.processor import Outputs, Processor
from services.scoring.state.memory_store import MemoryStore
from services.scoring.stream.outputs import alert_output
from tests.unit.scoring.builders import DAY, T0, emails

PURSUIT = emails(8, DAY)
"""Eight unanswered e-mails a day apart: watch, nuisance, then stalking."""


async def scored(events: list[OutreachEvent], now: datetime) -> Outputs:
    outputs, _ = await Processor(MemoryStore(expire_after=10**9), PolicySet()).process(events, now)
    return outputs


async def test_a_pursuit_that_ended_94_days_ago_is_on_record_but_not_news() -> None:
    outputs = await scored(PURSUIT, T0 + 100 * DAY)
    assert AlertLevel.STALKING in [alert.level for alert in outputs.alerts]
    assert all(alert.historical for alert in outputs.alerts)
    assert {alert_output("alerts", alert).headers["ce_historical"] for alert in outputs.alerts} == {"true"}
    assert Level.STALKING in [score.level for score in outputs.scores], "scores keep their event-time levels"


async def test_a_pursuit_going_on_now_is_news() -> None:
    outputs = await scored(PURSUIT, T0 + 7 * DAY + timedelta(hours=1))
    assert outputs.alerts
    assert not any(alert.historical for alert in outputs.alerts)
    assert {alert_output("alerts", alert).headers["ce_historical"] for alert in outputs.alerts} == {"false"}


async def test_only_the_levels_that_have_since_fallen_are_historical() -> None:
    """Seen four days after the last e-mail: the stalking touches are still inside the cool-down."""
    outputs = await scored(PURSUIT, T0 + 11 * DAY)
    assert [(alert.level, alert.historical) for alert in outputs.alerts][-1] == (AlertLevel.STALKING, False)
