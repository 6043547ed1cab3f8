"""Each rule of the policy, observed through the engine's judgements and pre-send checks."""

import functools
from datetime import datetime, timedelta

from schemas import Channel, Direction, Kind, Level, Outcome, OutreachEvent, Tier
from services.scoring.engine.judge import ContactView, Decision, check, judge_pair, judge_team
from services.scoring.engine.touches import seconds
from services.scoring.engine.wording import breach_sentence
from services.scoring.policy.file import parse_policy
from services.scoring.policy.model import TIER_ORDER, Policy
from tests.harness.events import event
from tests.unit.scoring.builders import DAY, T0, emails, reply, state_of

POLICY = Policy()


def rules_broken(
    events: list[OutreachEvent], at: datetime | None = None, sender: str = "rep-1"
) -> dict[str, tuple[float, float, str | None]]:
    state = state_of(events)
    when = seconds(at or events[-1].occurred_at)
    return {
        r.rule: (r.observed, r.limit, r.window) for r in judge_pair(ContactView(state, POLICY), sender, when).reasons
    }


def test_three_unanswered_emails_to_a_stranger_are_worth_watching() -> None:
    state = state_of(emails(3, 2 * DAY))
    judgement = judge_pair(ContactView(state, POLICY), "rep-1", seconds(T0 + 4 * DAY))
    assert judgement.level is Level.WATCH
    assert judgement.tier is Tier.STRANGER
    [reason] = judgement.reasons
    assert (reason.rule, reason.observed, reason.limit, reason.window) == ("unanswered_streak", 3, 2, "60d")
    assert reason.message == "3 touches in 60 days without a reply; at most 2 for a stranger"


def test_a_reply_ends_the_unanswered_streak_and_earns_rapport() -> None:
    events = [*emails(3, 2 * DAY), reply("r", T0 + 5 * DAY)]
    judgement = judge_pair(ContactView(state_of(events), POLICY), "rep-1", seconds(T0 + 5 * DAY))
    assert judgement.level is Level.OK
    assert judgement.reasons == []
    assert judgement.rapport_score > 0
    assert judgement.tier is Tier.ACQUAINTANCE


def test_weighted_volume_counts_a_cell_phone_call_heavier_than_an_email() -> None:
    calls = [event(n, T0 + n * 2 * DAY, channel=Channel.PHONE_MOBILE, outcome=Outcome.NO_ANSWER) for n in range(2)]
    volume = rules_broken(calls)["volume"]
    assert volume == (5.0, 3.0, "7d"), "two cell phone calls weigh 2 x 2.5 against a stranger's 3"
    assert "volume" not in rules_broken(emails(2, 2 * DAY))


def test_touches_closer_than_the_minimum_gap_break_it() -> None:
    broken = rules_broken(emails(2, timedelta(hours=12)))
    observed, limit, window = broken["min_gap"]
    assert (observed, limit, window) == (0.5, 2.0, None)


def test_three_channels_without_an_answer_is_escalation() -> None:
    events = [
        event(1, T0, channel=Channel.EMAIL),
        event(2, T0 + 2 * DAY, channel=Channel.PHONE_WORK, outcome=Outcome.NO_ANSWER),
        event(3, T0 + 4 * DAY, channel=Channel.PHONE_MOBILE, outcome=Outcome.VOICEMAIL),
    ]
    state = state_of(events)
    reasons = {r.rule: r for r in judge_pair(ContactView(state, POLICY), "rep-1", seconds(T0 + 4 * DAY)).reasons}
    escalation = reasons["channel_escalation"]
    assert (escalation.observed, escalation.limit, escalation.window) == (3, 2, "14d")
    assert "e-mail, work phone, cell phone" in escalation.message


def test_quiet_hours_are_the_contacts_own_night() -> None:
    late_in_berlin = T0.replace(hour=19, minute=30)  # 20:30 in Berlin, 14:30 in New York
    for zone, quiet in (("Europe/Berlin", True), ("America/New_York", False)):
        call = event(1, late_in_berlin, channel=Channel.PHONE_MOBILE, timezone=zone, outcome=Outcome.NO_ANSWER)
        assert ("quiet_hours" in rules_broken([call])) is quiet, zone
    email = event(1, late_in_berlin, channel=Channel.EMAIL, timezone="Europe/Berlin")
    assert "quiet_hours" not in rules_broken([email]), "an e-mail waits in the inbox; it wakes no one"


def test_quiet_hours_end_at_the_contacts_morning() -> None:
    state = state_of([event(0, T0 - 10 * DAY, timezone="Asia/Tokyo")])
    evening_in_tokyo = T0.replace(hour=12)  # 21:00 in Tokyo
    verdict = check(ContactView(state, POLICY), "rep-1", seconds(evening_in_tokyo), Channel.PHONE_WORK)
    assert verdict.decision is Decision.WARN
    assert [r.rule for r in verdict.judgement.reasons] == ["quiet_hours"]
    assert verdict.judgement.next_allowed_at == (T0 + DAY).replace(hour=0), "09:00 in Tokyo is 00:00 UTC"


def test_unanswered_outreach_for_weeks_is_persistent_pursuit() -> None:
    weekly = [event(n, T0 + n * 7 * DAY) for n in range(5)]
    patient = {tier.value: {"max_unanswered": 8} for tier in TIER_ORDER}
    policy = parse_policy({"tiers": patient}).default
    state = state_of(weekly, policy)
    reasons = {r.rule: r for r in judge_pair(ContactView(state, policy), "rep-1", seconds(T0 + 28 * DAY)).reasons}
    assert reasons["persistent_pursuit"].observed == 28
    assert reasons["persistent_pursuit"].limit == 21


def test_a_rest_ends_the_pursuit() -> None:
    rested = [*(event(n, T0 + n * 7 * DAY) for n in range(3)), event(9, T0 + 30 * DAY)]
    assert "persistent_pursuit" not in rules_broken(rested)


def test_exempt_categories_and_bounces_never_count_against_the_sender() -> None:
    receipts = [event(n, T0 + n * timedelta(hours=1), category="Transactional") for n in range(10)]
    bounced = [event(f"b{n}", T0 + n * timedelta(hours=1), outcome=Outcome.BOUNCED) for n in range(10)]
    booked = event("m", T0 + DAY, channel=Channel.MEETING, kind=Kind.MEETING, category="contact_booked")
    state = state_of([*receipts, *bounced, booked])
    judgement = judge_pair(ContactView(state, POLICY), "rep-1", seconds(T0 + DAY))
    assert (judgement.level, judgement.reasons) == (Level.OK, [])


def test_an_answered_call_or_a_held_meeting_is_engagement_not_pressure() -> None:
    answered = event(1, T0, channel=Channel.PHONE_MOBILE, outcome=Outcome.ANSWERED)
    meeting = event(2, T0 + DAY, channel=Channel.MEETING, kind=Kind.MEETING, outcome=Outcome.ANSWERED)
    judgement = judge_pair(ContactView(state_of([answered, meeting]), POLICY), "rep-1", seconds(T0 + DAY))
    assert judgement.reasons == []
    assert judgement.rapport_score >= 30


def test_rapport_decays_with_its_half_life() -> None:
    state = state_of([reply("r", T0, kind=Kind.MESSAGE)])
    fresh = judge_pair(ContactView(state, POLICY), "rep-1", seconds(T0)).rapport_score
    later = judge_pair(ContactView(state, POLICY), "rep-1", seconds(T0 + 90 * DAY)).rapport_score
    assert later < fresh
    assert later - POLICY.rapport.reciprocity == (fresh - POLICY.rapport.reciprocity) / 2


def test_a_mentee_who_always_hears_back_stays_ok_and_grows_trust() -> None:
    events = []
    for week in range(12):
        events += [event(f"m{week}", T0 + week * 7 * DAY), reply(f"r{week}", T0 + week * 7 * DAY + DAY)]
    state = state_of(events)
    levels = {judge_pair(ContactView(state, POLICY), "rep-1", seconds(item.occurred_at)).level for item in events}
    assert levels == {Level.OK}
    tier = judge_pair(ContactView(state, POLICY), "rep-1", seconds(events[-1].occurred_at)).tier
    assert TIER_ORDER.index(tier) >= TIER_ORDER.index(Tier.ESTABLISHED)


def test_five_polite_colleagues_add_up_to_team_pressure() -> None:
    events = sorted(
        (
            event(f"{rep}-{n}", T0 + n * timedelta(days=3.5) + rep * timedelta(hours=5), sender=f"rep-{rep}")
            for rep in range(5)
            for n in range(2)
        ),
        key=lambda item: item.occurred_at,
    )
    state = state_of(events)
    at = seconds(events[-1].occurred_at)
    assert {judge_pair(ContactView(state, POLICY), f"rep-{rep}", at).level for rep in range(5)} == {Level.OK}
    team = judge_team(ContactView(state, POLICY), at, None)
    assert team.level.rank >= Level.NUISANCE.rank
    assert {r.rule for r in team.reasons} >= {"team_volume", "team_unanswered_streak"}
    assert all("the team together" in r.message for r in team.reasons)


def test_the_check_blocks_what_would_make_a_nuisance_and_says_when_to_try() -> None:
    state = state_of(emails(4, 2 * DAY))
    verdict = check(ContactView(state, POLICY), "rep-1", seconds(T0 + 7 * DAY), Channel.PHONE_MOBILE)
    assert verdict.decision is Decision.BLOCK
    assert verdict.judgement.level.rank >= Level.NUISANCE.rank
    assert verdict.judgement.next_allowed_at is not None
    assert verdict.judgement.next_allowed_at > T0 + 7 * DAY
    first = check(ContactView(state_of([]), POLICY), "rep-1", seconds(T0), Channel.EMAIL)
    assert (first.decision, first.judgement.reasons, first.judgement.next_allowed_at) == (Decision.ALLOW, [], T0)


def test_a_check_in_the_past_sees_only_what_had_happened_by_then() -> None:
    state = state_of(emails(4, 2 * DAY))
    verdict = check(ContactView(state, POLICY), "rep-1", seconds(T0 + DAY), Channel.EMAIL)
    assert [r.rule for r in verdict.judgement.reasons] == ["min_gap"]
    assert verdict.decision is Decision.WARN


def test_inbound_direction_is_never_judged_as_pressure() -> None:
    chatty_contact = [reply(n, T0 + n * timedelta(hours=1), kind=Kind.MESSAGE) for n in range(20)]
    judgement = judge_pair(ContactView(state_of(chatty_contact), POLICY), "rep-1", seconds(T0 + DAY))
    assert judgement.level is Level.OK
    assert judgement.tier is Tier.TRUSTED
    assert Direction.INBOUND in {item.direction for item in chatty_contact}


def test_the_minimum_gap_is_said_in_plain_words_however_short() -> None:
    say = functools.partial(breach_sentence, "min_gap", window=None, tier=Tier.STRANGER, detail="")
    assert say(0.5, 2.0).startswith("only 12 hours since the previous touch; a stranger should get at least 2 days")
    assert say(10 / 86400, 2.0).startswith("less than a minute since the previous touch;")
