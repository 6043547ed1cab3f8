"""What every state store must do, written once: each backend's test class subclasses `StoreCase`.

A subclass provides the `store` fixture (a store that forgets a contact after one second without a write) and
`let_time_pass`, which moves that store's notion of time (a fake clock, or real waiting for Redis).
"""

import pytest

from schemas import Channel, Direction, Kind, Level
from services.scoring.engine.touches import Touch
from services.scoring.state.history import ContactState, PairHistory
from services.scoring.state.store import StateStore

EXPIRE_AFTER = 1.0


def contact(sender: str = "rep-1", touches: int = 3) -> ContactState:
    history = [
        Touch.of(1_790_000_000 + n * 86400, n, Channel.EMAIL, Direction.OUTBOUND, Kind.MESSAGE) for n in range(touches)
    ]
    return ContactState(
        pairs={sender: PairHistory(touches=history, alerted=Level.WATCH, floor=(1_789_000_000, 7))},
        team_alerted=Level.NUISANCE,
        timezone="Europe/Berlin",
        timezone_at=1_790_000_000,
        policy_mark=12345,
    )


class StoreCase:
    @pytest.fixture
    async def store(self) -> StateStore:
        raise NotImplementedError

    async def let_time_pass(self, store: StateStore, seconds: float) -> None:
        raise NotImplementedError

    async def test_a_contact_never_seen_is_an_empty_state(self, store: StateStore) -> None:
        assert await store.load_many(["acme:nobody"]) == {"acme:nobody": ContactState()}

    async def test_what_is_saved_loads_back_the_same(self, store: StateStore) -> None:
        await store.save_many({"acme:c-1": contact()})
        assert (await store.load_many(["acme:c-1"]))["acme:c-1"] == contact()

    async def test_many_contacts_load_and_save_together(self, store: StateStore) -> None:
        states = {f"acme:c-{n}": contact(f"rep-{n}", touches=n + 1) for n in range(20)}
        await store.save_many(states)
        loaded = await store.load_many([*states, "acme:other"])
        assert loaded == {**states, "acme:other": ContactState()}

    async def test_contacts_are_kept_apart_by_tenant(self, store: StateStore) -> None:
        await store.save_many({"acme:c-1": contact("rep-a"), "globex:c-1": contact("rep-g")})
        loaded = await store.load_many(["acme:c-1", "globex:c-1"])
        assert set(loaded["acme:c-1"].pairs) == {"rep-a"}
        assert set(loaded["globex:c-1"].pairs) == {"rep-g"}

    async def test_a_later_save_replaces_the_earlier_one(self, store: StateStore) -> None:
        await store.save_many({"acme:c-1": contact(touches=5)})
        await store.save_many({"acme:c-1": contact(touches=2)})
        assert len((await store.load_many(["acme:c-1"]))["acme:c-1"].pairs["rep-1"].touches) == 2

    async def test_a_state_with_nothing_left_is_removed(self, store: StateStore) -> None:
        await store.save_many({"acme:c-1": contact()})
        await store.save_many({"acme:c-1": ContactState()})
        assert await store.delete("acme:c-1") is False

    async def test_erasing_a_contact_forgets_it_and_says_whether_anything_was_kept(self, store: StateStore) -> None:
        await store.save_many({"acme:c-1": contact(), "acme:c-2": contact()})
        assert await store.delete("acme:c-1") is True
        assert await store.delete("acme:c-1") is False
        loaded = await store.load_many(["acme:c-1", "acme:c-2"])
        assert loaded == {"acme:c-1": ContactState(), "acme:c-2": contact()}

    async def test_a_contact_is_forgotten_after_the_inactivity_period(self, store: StateStore) -> None:
        await store.save_many({"acme:quiet": contact()})
        await self.let_time_pass(store, EXPIRE_AFTER / 2)
        await store.save_many({"acme:busy": contact()})
        await self.let_time_pass(store, EXPIRE_AFTER * 0.75)
        loaded = await store.load_many(["acme:quiet", "acme:busy"])
        assert loaded == {"acme:quiet": ContactState(), "acme:busy": contact()}

    async def test_unreadable_bytes_start_the_contact_afresh(self, store: StateStore) -> None:
        await self.write_raw(store, "acme:broken", b"\x09garbage")
        assert await store.load_many(["acme:broken"]) == {"acme:broken": ContactState()}

    async def write_raw(self, store: StateStore, contact_key: str, blob: bytes) -> None:
        raise NotImplementedError

    async def test_ping_answers_when_the_store_is_there(self, store: StateStore) -> None:
        await store.ping()

    async def test_contacts_whose_levels_fall_by_now_are_listed_due_earliest_first(self, store: StateStore) -> None:
        later, sooner, calm = contact(), contact(), contact()
        later.pairs["rep-1"].due_at = 1_790_900_000
        sooner.team_due_at = 1_790_800_000
        await store.save_many({"acme:later": later, "acme:sooner": sooner, "acme:calm": calm})
        assert await store.due(1_790_850_000, 10) == ["acme:sooner"]
        assert await store.due(1_791_000_000, 10) == ["acme:sooner", "acme:later"]
        assert await store.due(1_791_000_000, 1) == ["acme:sooner"]
        sooner.team_due_at = None
        await store.save_many({"acme:sooner": sooner})
        await store.delete("acme:later")
        assert await store.due(1_791_000_000, 10) == []
