"""What the keyed store must do for each of the three stores built on it, written once.

`tests/unit/test_keyed_stores_memory.py` runs it on the in-process store with a fake clock and
`tests/integration/test_keyed_stores_redis.py` on a real redis-server with real waiting. A subclass provides
`keyed` (a fresh, empty store) and `let_time_pass`. Everything here lives for `TTL` seconds after its last
write: scoring's inactivity expiry, the cool-down's retention and the dedupe window.
"""

from datetime import timedelta

import pytest

from schemas import AlertLevel, Channel, Direction, Kind, Level
from services.ingestion.dedupe import DedupeStore, dedupe_key
from services.notification.cooldown import PairNotices
from services.notification.cooldown_store import COOLDOWNS, CooldownStore
from services.runtime.keyed_store import KeyedStore, Writes
from services.runtime.keyspace import Keyspace
from services.scoring.engine.touches import Touch
from services.scoring.state.contact_store import CONTACTS, ContactStore
from services.scoring.state.history import ContactState, PairHistory
from tests.harness.alerts import T0

TTL = 1.0
NOTICES = PairNotices(window_started_at=T0, peak=AlertLevel.NUISANCE, open=True, delivered=("a-1",), held=("a-2",))


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


async def put(keyed: KeyedStore, space: Keyspace, key: str, value: bytes) -> None:
    writes = Writes()
    writes.put(space, key, value, TTL)
    await keyed.write(writes)


class KeyedStoreCase:
    @pytest.fixture
    async def keyed(self) -> KeyedStore:
        raise NotImplementedError

    async def let_time_pass(self, seconds: float) -> None:
        raise NotImplementedError

    @pytest.fixture
    def contacts(self, keyed: KeyedStore) -> ContactStore:
        return ContactStore(keyed, TTL)

    @pytest.fixture
    def cooldowns(self, keyed: KeyedStore) -> CooldownStore:
        return CooldownStore(keyed, timedelta(seconds=TTL))

    @pytest.fixture
    def dedupe(self, keyed: KeyedStore) -> DedupeStore:
        return DedupeStore(keyed, TTL)

    # scoring: contact states

    async def test_a_contact_never_seen_is_an_empty_state(self, contacts: ContactStore) -> None:
        assert await contacts.load_many(["acme:nobody"]) == {"acme:nobody": ContactState()}

    async def test_what_is_saved_loads_back_the_same(self, contacts: ContactStore) -> None:
        await contacts.save_many({"acme:c-1": contact()})
        assert (await contacts.load_many(["acme:c-1"]))["acme:c-1"] == contact()

    async def test_many_contacts_load_and_save_together(self, contacts: ContactStore) -> None:
        states = {f"acme:c-{n}": contact(f"rep-{n}", touches=n + 1) for n in range(20)}
        await contacts.save_many(states)
        loaded = await contacts.load_many([*states, "acme:other"])
        assert loaded == {**states, "acme:other": ContactState()}

    async def test_contacts_are_kept_apart_by_tenant(self, contacts: ContactStore) -> None:
        await contacts.save_many({"acme:c-1": contact("rep-a"), "globex:c-1": contact("rep-g")})
        loaded = await contacts.load_many(["acme:c-1", "globex:c-1"])
        assert set(loaded["acme:c-1"].pairs) == {"rep-a"}
        assert set(loaded["globex:c-1"].pairs) == {"rep-g"}

    async def test_a_later_save_replaces_the_earlier_one(self, contacts: ContactStore) -> None:
        await contacts.save_many({"acme:c-1": contact(touches=5)})
        await contacts.save_many({"acme:c-1": contact(touches=2)})
        assert len((await contacts.load_many(["acme:c-1"]))["acme:c-1"].pairs["rep-1"].touches) == 2

    async def test_a_state_with_nothing_left_is_removed(self, contacts: ContactStore) -> None:
        await contacts.save_many({"acme:c-1": contact()})
        await contacts.save_many({"acme:c-1": ContactState()})
        assert await contacts.delete("acme:c-1") is False

    async def test_erasing_a_contact_forgets_it_and_says_whether_anything_was_kept(
        self, contacts: ContactStore
    ) -> None:
        await contacts.save_many({"acme:c-1": contact(), "acme:c-2": contact()})
        assert await contacts.delete("acme:c-1") is True
        assert await contacts.delete("acme:c-1") is False
        loaded = await contacts.load_many(["acme:c-1", "acme:c-2"])
        assert loaded == {"acme:c-1": ContactState(), "acme:c-2": contact()}

    async def test_a_contact_is_forgotten_after_the_inactivity_period(self, contacts: ContactStore) -> None:
        await contacts.save_many({"acme:quiet": contact()})
        await self.let_time_pass(TTL / 2)
        await contacts.save_many({"acme:busy": contact()})
        await self.let_time_pass(TTL * 0.75)
        loaded = await contacts.load_many(["acme:quiet", "acme:busy"])
        assert loaded == {"acme:quiet": ContactState(), "acme:busy": contact()}

    async def test_unreadable_bytes_start_the_contact_afresh(self, keyed: KeyedStore, contacts: ContactStore) -> None:
        await put(keyed, CONTACTS, "acme:broken", b"\x09garbage")
        assert await contacts.load_many(["acme:broken"]) == {"acme:broken": ContactState()}

    async def test_ping_answers_when_the_store_is_there(self, contacts: ContactStore) -> None:
        await contacts.ping()

    async def test_contacts_whose_levels_fall_by_now_are_listed_due_earliest_first(
        self, contacts: ContactStore
    ) -> None:
        later, sooner, calm = contact(), contact(), contact()
        later.pairs["rep-1"].due_at = 1_790_900_000
        sooner.team_due_at = 1_790_800_000
        await contacts.save_many({"acme:later": later, "acme:sooner": sooner, "acme:calm": calm})
        assert await contacts.due(1_790_850_000, 10) == ["acme:sooner"]
        assert await contacts.due(1_791_000_000, 10) == ["acme:sooner", "acme:later"]
        assert await contacts.due(1_791_000_000, 1) == ["acme:sooner"]
        sooner.team_due_at = None
        await contacts.save_many({"acme:sooner": sooner})
        await contacts.delete("acme:later")
        assert await contacts.due(1_791_000_000, 10) == []

    # notification: the cool-down's history

    async def test_what_was_told_about_a_pair_is_read_back(self, cooldowns: CooldownStore) -> None:
        assert await cooldowns.load("acme:c-1:sender:rep-1") is None
        await cooldowns.save("acme:c-1:sender:rep-1", NOTICES)
        assert await cooldowns.load("acme:c-1:sender:rep-1") == NOTICES
        assert await cooldowns.load("acme:c-1:team") is None
        await cooldowns.ping()

    async def test_an_erased_contact_leaves_no_entry_and_a_lookalike_keeps_its_own(
        self, cooldowns: CooldownStore
    ) -> None:
        for key in ("acme:c*1:team", "acme:c*1:sender:rep-1", "acme:c-1:team", "acme:c*10:team"):
            await cooldowns.save(key, NOTICES)
        await cooldowns.forget_contact("acme:c*1")
        kept = [await cooldowns.load(key) is not None for key in ("acme:c*1:team", "acme:c*1:sender:rep-1")]
        assert kept == [False, False]
        assert await cooldowns.load("acme:c-1:team") == NOTICES, "a glob character in an id matches only itself"
        assert await cooldowns.load("acme:c*10:team") == NOTICES

    async def test_the_history_of_a_pair_is_kept_for_the_retention_after_its_last_change(
        self, cooldowns: CooldownStore
    ) -> None:
        await cooldowns.save("acme:c-1:team", NOTICES)
        await self.let_time_pass(TTL / 2)
        await cooldowns.save("acme:c-2:team", NOTICES)
        await self.let_time_pass(TTL * 0.75)
        assert [await cooldowns.load(key) for key in ("acme:c-1:team", "acme:c-2:team")] == [None, NOTICES]

    async def test_an_unreadable_history_starts_the_pair_afresh(
        self, keyed: KeyedStore, cooldowns: CooldownStore
    ) -> None:
        await put(keyed, COOLDOWNS, "acme:c-1:team", b'{"peak": "loud"}')
        assert await cooldowns.load("acme:c-1:team") is None

    # ingestion: events seen before

    async def test_a_marked_event_is_seen_and_an_unmarked_one_is_not(self, dedupe: DedupeStore) -> None:
        first, other = dedupe_key("hubspot", "acme", "e-1"), dedupe_key("hubspot", "acme", "e-2")
        assert await dedupe.seen([first, other]) == set()
        await dedupe.mark([first])
        assert await dedupe.seen([first, other]) == {first}
        assert await dedupe.seen([]) == set()

    async def test_an_event_is_seen_for_the_ttl_after_its_first_mark_and_not_after(self, dedupe: DedupeStore) -> None:
        early, late = dedupe_key("generic", "acme", "early"), dedupe_key("generic", "acme", "late")
        await dedupe.mark([early])
        await self.let_time_pass(TTL / 2)
        await dedupe.mark([early, late])
        assert await dedupe.seen([early, late]) == {early, late}
        await self.let_time_pass(TTL * 0.75)
        assert await dedupe.seen([early, late]) == {late}, "marking again does not lengthen the window"

    # every service in its own keyspace

    async def test_each_service_keeps_its_own_keys_even_under_the_same_name(self, keyed: KeyedStore) -> None:
        spaces = [Keyspace(service, "state") for service in ("scoring", "notification", "ingestion")]
        for n, space in enumerate(spaces):
            await put(keyed, space, "acme:c-1", f"value {n}".encode())
        assert [await keyed.get_many(space, ["acme:c-1"]) for space in spaces] == [
            [b"value 0"],
            [b"value 1"],
            [b"value 2"],
        ]
        assert await keyed.delete(spaces[1], ["acme:c-1"]) == 1
        assert [(await keyed.get_many(space, ["acme:c-1"]))[0] is None for space in spaces] == [False, True, False]

    async def test_erasing_a_contact_in_one_service_leaves_the_others_to_their_own_erasure(
        self, contacts: ContactStore, cooldowns: CooldownStore, dedupe: DedupeStore
    ) -> None:
        await contacts.save_many({"acme:c-1": contact()})
        await cooldowns.save("acme:c-1:team", NOTICES)
        await dedupe.mark(["acme:c-1:x"])
        await cooldowns.forget_contact("acme:c-1")
        assert (await contacts.load_many(["acme:c-1"]))["acme:c-1"] == contact()
        assert await dedupe.seen(["acme:c-1:x"]) == {"acme:c-1:x"}
        assert await contacts.delete("acme:c-1") is True
        assert await cooldowns.load("acme:c-1:team") is None

    # the capability itself

    async def test_changes_are_applied_in_the_order_they_were_written(self, keyed: KeyedStore) -> None:
        space = Keyspace("scoring", "probe")
        writes = Writes()
        writes.put(space, "a", b"1", TTL)
        writes.delete(space, "a")
        writes.put(space, "b", b"1", TTL)
        writes.put(space, "b", b"2", TTL)
        writes.put(space, "b", b"3", TTL, only_if_absent=True)
        writes.rank(space, "m", 5)
        writes.unrank(space, "m")
        writes.rank(space, "n", 5)
        writes.rank(space, "n", 7)
        writes.unrank(space, "o")
        writes.rank(space, "o", 8)
        await keyed.write(writes)
        assert await keyed.get_many(space, ["a", "b"]) == [None, b"2"]
        assert await keyed.ranked(space, 6, 10) == []
        assert await keyed.ranked(space, 7, 10) == ["n"]
        assert await keyed.ranked(space, 8, 10) == ["n", "o"]

    async def test_equal_scores_rank_by_member_and_counts_say_what_was_removed(self, keyed: KeyedStore) -> None:
        space = Keyspace("scoring", "probe")
        writes = Writes()
        for member in ("c", "a", "b"):
            writes.rank(space, member, 1)
            writes.put(space, f"x:{member}", b"1", TTL)
        await keyed.write(writes)
        assert await keyed.ranked(space, 1, 2) == ["a", "b"]
        assert await keyed.delete(space, ["x:a", "x:nobody"]) == 1
        assert await keyed.delete_starting_with(space, "x:") == 2
        assert await keyed.get_many(space, ["x:a", "x:b", "x:c"]) == [None, None, None]
