"""`--without-engine` of the scoring and backtest benches: the same run with the policy engine's judgements replaced
by a constant one (ok, no reasons, no next instant), so the bench prints the ceiling the rest of an event's path
sets. A target the run misses even then cannot be met by making the engine faster alone. The ceiling is a little
generous: with every level ok no alert is ever built or published."""

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any
from unittest import mock

from schemas import Level, Tier
from services.scoring.engine.judge import ContactView, Judgement
from services.scoring.processing import processor

CONSTANT = Judgement(level=Level.OK, nuisance_score=0.0, rapport_score=0.0, tier=Tier.STRANGER, reasons=[])


def _judge_pair(view: ContactView, sender_id: str, at: int, known: Level | None = None) -> Judgement:
    return CONSTANT


def _judge_team(view: ContactView, at: int, next_allowed: datetime | None, *args: Any, **kwargs: Any) -> Judgement:
    return CONSTANT


def reach(ok: bool) -> str:
    """What a target met or missed without the engine says of it."""
    return "within reach of a faster engine" if ok else "out of reach even without the engine"


@contextmanager
def without_engine(enabled: bool = True) -> Iterator[None]:
    """The processor judges nothing inside the block (when `enabled`); it still places, stores and scores."""
    if not enabled:
        yield
        return
    with mock.patch.multiple(processor, judge_pair=_judge_pair, judge_team=_judge_team):
        yield
