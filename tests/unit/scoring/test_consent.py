"""The contact's "stop": touches after an opt-out are at least a nuisance, on the channels it names, until an opt-in."""

import asyncio
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from schemas import AlertLevel, Channel, Direction, Kind, Level, Outcome, OutreachEvent, Scope
from services.scoring.http.api import scoring_router
from services.scoring.policy.file import PolicyFileError, PolicySet, parse_policy
from services.scoring.processing.processor import Outputs, Processor
from services.scoring.state.codec import decode, encode
from services.scoring.state.memory_store import MemoryStore
from tests.harness.api_keys import operator_auth
from tests.harness.events import event
from tests.unit.scoring.builders import DAY, T0, emails, reply, state_of

NOW = T0 + 60 * DAY


def consent(n: str, at: datetime, kind: Kind, channel: Channel | None = None) -> OutreachEvent:
    return event(n, at, channel=channel, direction=Direction.INBOUND, kind=kind)


def opt_out(at: datetime, channel: Channel | None = None, n: str = "stop") -> OutreachEvent:
    return consent(n, at, Kind.OPT_OUT, channel)


def opt_in(at: datetime, channel: Channel | None = None, n: str = "start") -> OutreachEvent:
    return consent(n, at, Kind.OPT_IN, channel)


async def scored(*batches: list[OutreachEvent], policies: PolicySet | None = None) -> list[Outputs]:
    processor = Processor(MemoryStore(expire_after=10**9), policies or PolicySet())
    results = []
    for batch in batches:
        outputs, states = await processor.process(batch, NOW)
        await processor.save(states)
        results.append(outputs)
    return results


async def test_an_email_after_stop_is_a_nuisance_and_the_next_one_stalking() -> None:
    first, second = emails(2, 3 * DAY, start=T0 + DAY)
    [outputs] = await scored([opt_out(T0), first, second])
    assert [score.level for score in outputs.scores] == [Level.NUISANCE, Level.STALKING]
    reason = outputs.scores[0].reasons[0]
    assert reason.rule == "opted_out"
    assert reason.message.startswith("the contact asked not to be contacted at all; 1 touch since then")
    assert outputs.scores[0].next_allowed_at is None, "no waiting makes it welcome: only an opt-in"
    assert [alert.level for alert in outputs.alerts] == [AlertLevel.NUISANCE, AlertLevel.STALKING]


async def test_rapport_earns_no_room_against_a_stop() -> None:
    friendship = [reply(f"r{n}", T0 + n * DAY) for n in range(8)]
    after = event("after", T0 + 10 * DAY)
    [outputs] = await scored([*friendship, opt_out(T0 + 9 * DAY), after])
    assert outputs.scores[-1].tier.value != "stranger"
    assert outputs.scores[-1].level is Level.NUISANCE


async def test_a_stop_on_email_leaves_the_phone_alone_and_exempt_mail_stays_exempt() -> None:
    call = event("call", T0 + 2 * DAY, channel=Channel.PHONE_WORK)
    receipt = event("receipt", T0 + 3 * DAY, category="transactional")
    [outputs] = await scored([opt_out(T0, Channel.EMAIL), call, receipt])
    assert [score.level for score in outputs.scores] == [Level.OK, Level.OK]
    assert outputs.alerts == []


async def test_an_opt_in_lifts_the_stop_for_what_it_names() -> None:
    events = [
        opt_out(T0),
        opt_in(T0 + DAY, Channel.EMAIL),
        event("mail", T0 + 3 * DAY),
        event("text", T0 + 6 * DAY, channel=Channel.SMS),
    ]
    [outputs] = await scored(events)
    assert [score.level for score in outputs.scores] == [Level.OK, Level.NUISANCE]
    assert [reason.rule for reason in outputs.scores[1].reasons] == ["opted_out"]


async def test_a_call_picked_up_after_stop_earns_nothing_and_still_counts() -> None:
    call = event("call", T0 + DAY, channel=Channel.PHONE_MOBILE, outcome=Outcome.ANSWERED)
    [outputs] = await scored([opt_out(T0), call])
    assert outputs.scores[0].level is Level.NUISANCE


async def test_a_late_stop_re_judges_the_pairs_and_announces_with_the_stop_as_trigger() -> None:
    mails = [event("a", T0 + DAY, sender="rep-1"), event("b", T0 + 2 * DAY, sender="rep-2")]
    stop = opt_out(T0)
    first, late, again = await scored(mails, [stop], [stop])
    assert first.alerts == []
    pair_alerts = sorted((a.sender_id, a.level, a.event_id) for a in late.alerts if a.scope is Scope.PAIR)
    assert pair_alerts == [("rep-1", AlertLevel.NUISANCE, "e-stop"), ("rep-2", AlertLevel.NUISANCE, "e-stop")]
    assert (late.consent, again.consent, again.duplicates, again.alerts) == (1, 0, 1, [])


async def test_the_stop_may_be_made_stricter_but_never_milder() -> None:
    strict = parse_policy({"consent": {"level": "stalking"}})
    [outputs] = await scored([opt_out(T0), event("a", T0 + DAY)], policies=strict)
    assert outputs.scores[0].level is Level.STALKING
    with pytest.raises(PolicyFileError, match=r"policy\.consent\.level: .*must be nuisance or stalking"):
        parse_policy({"consent": {"level": "watch"}})


def test_opt_outs_survive_the_stored_form_and_old_states_still_read() -> None:
    state = state_of([*emails(2, DAY), opt_out(T0 + DAY, Channel.SMS), opt_in(T0 + 2 * DAY)])
    assert len(state.consent) == 2
    assert decode(encode(state)) == state
    plain = state_of(emails(2, DAY))
    old = bytes((1,)) + encode(plain)[1:-1]
    assert decode(old) == plain


def check(store: MemoryStore, channel: str = "email", sender: str = "rep-9") -> dict[str, Any]:
    app = FastAPI()
    auth, headers = operator_auth()
    app.include_router(
        scoring_router(store, PolicySet(), b"identity-key-0123456789", lambda: NOW, asyncio.Lock(), auth=auth)
    )
    request = {"tenant": "acme", "sender": {"id": sender}, "contact": {"id": "c-1"}, "channel": channel}
    answer = TestClient(app, headers=headers).post("/v1/check", json=request)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def test_the_pre_send_check_blocks_until_consent_is_given_again() -> None:
    store = MemoryStore(expire_after=10**9)
    processor = Processor(store, PolicySet())

    async def deliver(*events: OutreachEvent) -> None:
        _, states = await processor.process(list(events), NOW)
        await processor.save(states)

    asyncio.run(deliver(opt_out(NOW - DAY, Channel.EMAIL)))
    blocked = check(store)
    assert (blocked["decision"], blocked["next_allowed_at"]) == ("block", None)
    assert [reason["rule"] for reason in blocked["reasons"]] == ["opted_out"]
    assert "by e-mail" in blocked["reasons"][0]["message"]
    assert check(store, "phone_work")["decision"] == "allow"
    asyncio.run(deliver(opt_in(NOW - timedelta(hours=1), Channel.EMAIL)))
    assert check(store)["decision"] == "allow"


async def test_two_reps_each_writing_once_after_stop_are_stalking_together() -> None:
    """Each rep's own touch is a first offence; the contact got two, so the team's alert says stalking."""
    mails = [event("a", T0 + DAY, sender="rep-1"), event("b", T0 + 2 * DAY, sender="rep-2")]
    [outputs] = await scored([opt_out(T0), *mails])
    assert [score.level for score in outputs.scores] == [Level.NUISANCE, Level.NUISANCE]
    team = [alert for alert in outputs.alerts if alert.scope is Scope.TEAM]
    assert [alert.level for alert in team] == [AlertLevel.STALKING]
    reason = team[0].reasons[0]
    assert (reason.rule, reason.observed) == ("opted_out", 2)
    assert "2 touches by the team together" in reason.message
    assert team[0].next_allowed_at is None


def test_the_check_blocks_a_colleague_who_never_wrote_and_counts_the_team() -> None:
    """rep-9 has never written, but rep-1 already did after the stop: rep-9's touch would be the second."""
    store = MemoryStore(expire_after=10**9)
    processor = Processor(store, PolicySet())

    async def deliver(*events: OutreachEvent) -> None:
        _, states = await processor.process(list(events), NOW)
        await processor.save(states)

    asyncio.run(deliver(opt_out(NOW - 40 * DAY), event("a", NOW - 35 * DAY, sender="rep-1")))
    blocked = check(store, sender="rep-9")
    assert (blocked["decision"], blocked["level"], blocked["next_allowed_at"]) == ("block", "stalking", None)
    assert [(reason["rule"], reason["observed"]) for reason in blocked["reasons"]] == [
        ("opted_out", 1),
        ("opted_out", 2),
    ]
    assert check(store, sender="rep-1")["level"] == "stalking"
    assert check(store, channel="phone_work", sender="rep-9")["decision"] == "block", "the stop covered every channel"


async def test_consent_given_again_is_said_to_be_why_the_level_fell() -> None:
    """An opt-in that arrives late, but was given before the touch, clears it; one given after does not."""
    touch = event("a", T0 + DAY)
    before, after, late = await scored([opt_out(T0), touch], [opt_in(T0 + 2 * DAY)], [opt_in(T0 + DAY / 2, n="s2")])
    assert [(a.level, a.previous_level) for a in before.alerts] == [(AlertLevel.NUISANCE, Level.OK)]
    assert after.alerts == [], "the touch was made while the contact had opted out"
    [resolved] = late.alerts
    assert (resolved.level, resolved.reasons[0].rule) == (AlertLevel.RESOLVED, "consent_given")
