"""The compact state form: exact round trips, canonical bytes, and the size that keeps a pair under 1 KiB."""

from hypothesis import given, settings

from schemas import Level
from services.scoring.state.codec import decode, encode
from services.scoring.state.history import ContactState
from tests.unit.scoring.builders import DAY, emails, state_of
from tests.unit.scoring.test_properties import touches


@settings(max_examples=100, deadline=None)
@given(history=touches(most=60))
def test_every_state_survives_the_round_trip(history: list) -> None:  # type: ignore[type-arg]
    state = state_of(history)
    assert decode(encode(state)) == state


def test_the_same_state_always_has_the_same_bytes() -> None:
    one = state_of([*emails(3, DAY, sender="rep-b"), *emails(3, DAY, sender="rep-a")])
    other = state_of([*emails(3, DAY, sender="rep-a"), *emails(3, DAY, sender="rep-b")])
    assert list(one.pairs) != list(other.pairs)
    assert encode(one) == encode(other)


def test_a_touch_costs_fourteen_bytes_and_a_full_pair_stays_under_a_kibibyte() -> None:
    one, eleven = state_of(emails(1, DAY)), state_of(emails(11, DAY))
    assert len(encode(eleven)) - len(encode(one)) == 10 * 14
    full = state_of(emails(40, DAY / 4))
    assert len(full.pairs["rep-1"].touches) == 32
    assert len(encode(full)) < 1024
    assert encode(ContactState()) == encode(state_of([]))


WRITTEN_BEFORE_TEAM_TOLD = bytes.fromhex(
    "02010000001ff4a100000000020005007265702d61020c2016b30c021070dc0c378e6922112d0320000090c1dd0cf6bf64789ff25bed"
    "000005007265702d620000011070dc0ca4d4d0a1062989490000002016b30c"
)
"""A version 2 state as stored before the team's damping: team at watch, rep-a judged nuisance but told ok."""


def test_a_state_stored_before_team_damping_reads_and_writes_back_unchanged() -> None:
    state = decode(WRITTEN_BEFORE_TEAM_TOLD)
    assert (state.team_alerted, state.team_announced, state.team_due_at) == (Level.WATCH, Level.WATCH, 1_790_900_000)
    assert (state.pairs["rep-a"].alerted, state.pairs["rep-a"].announced) == (Level.NUISANCE, Level.OK)
    assert [len(pair.touches) for pair in state.pairs.values()] == [2, 1]
    assert encode(state) == WRITTEN_BEFORE_TEAM_TOLD


def test_what_readers_were_told_of_the_team_survives_the_round_trip() -> None:
    state = decode(WRITTEN_BEFORE_TEAM_TOLD)
    state.team_told = Level.OK
    blob = encode(state)
    assert decode(blob) == state
    assert decode(blob).team_announced is Level.OK
    assert blob[:-1] == WRITTEN_BEFORE_TEAM_TOLD, "one byte after the old layout, which older readers stop before"


def test_that_the_last_alerts_went_out_historical_survives_the_round_trip_and_costs_two_bytes_at_most() -> None:
    state = decode(WRITTEN_BEFORE_TEAM_TOLD)
    assert not state.team_historical
    assert not any(pair.historical for pair in state.pairs.values())
    state.pairs["rep-b"].historical = True
    pair_only = encode(state)
    assert decode(pair_only) == state
    assert len(pair_only) == len(WRITTEN_BEFORE_TEAM_TOLD), "a spare bit of the pair's flags byte"
    state.team_historical = True
    both = encode(state)
    assert decode(both) == state
    assert both[:-2] == pair_only, "two bytes after the old layout, which older readers stop before"
    assert both[-2] == 1, "where older readers look for the team's told level: the team's own level (watch)"
    state.team_told = Level.OK
    assert decode(encode(state)) == state
    assert encode(state)[-2:] == bytes((0, 1))
