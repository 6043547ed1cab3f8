"""The compact state form: exact round trips, canonical bytes, and the size that keeps a pair under 1 KiB."""

from hypothesis import given, settings

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
