from pathlib import Path

from schemas import AlertLevel
from services.backtest.compare import differences
from services.backtest.history import Labels
from services.backtest.reading import read_export
from services.backtest.replay import replay
from services.backtest.report import render
from services.backtest.summary import summarize
from services.scoring.policy.file import parse_policy
from tests.harness.exports import KEY, email, write_jsonl

STRICTER = parse_policy({"tiers": {"stranger": {"max_unanswered": 1}}})


def history(tmp_path: Path) -> Path:
    """Contact a: three unanswered e-mails three days apart; contact b: two."""
    items = [email(n, "a", 3 * n) for n in range(3)] + [email(n, "b", 3 * n) for n in range(2)]
    return write_jsonl(tmp_path / "history.jsonl", items)


def test_three_unanswered_emails_raise_one_watch_at_the_third(tmp_path: Path) -> None:
    export = read_export(history(tmp_path), KEY, labels=Labels(KEY, False))
    result = replay(export.rows, parse_policy({}), batch_size=2)
    assert [(a.contact_id, a.event_id, a.level) for a in result.alerts] == [("a", "a-2", AlertLevel.WATCH)]
    assert result.touches_at_first_alert == {("acme", "rep-1", "a"): 3}
    assert result.alerts[0].emitted_at == result.alerts[0].occurred_at  # `now` is the batch's latest event time


def test_batch_size_does_not_change_the_alerts(tmp_path: Path) -> None:
    export = read_export(history(tmp_path), KEY, labels=Labels(KEY, False))
    one = replay(export.rows, STRICTER, batch_size=1).alerts
    many = replay(export.rows, STRICTER, batch_size=500).alerts
    assert [(a.alert_id, a.level) for a in one] == [(a.alert_id, a.level) for a in many]


def test_summary_counts_weeks_rules_and_top_pairs(tmp_path: Path) -> None:
    labels = Labels(KEY, False)
    export = read_export(history(tmp_path), KEY, labels=labels)
    summary = summarize(export, replay(export.rows, parse_policy({})), labels, source="h", policy="default")
    assert summary["counts"]["pairs"] == 2
    assert summary["counts"]["alerts_by_level"] == {"watch": 1, "nuisance": 0, "stalking": 0, "resolved": 0}
    assert sum(week["alerts"]["watch"] for week in summary["weeks"]) == 1
    assert summary["weeks"][-1]["pairs_at_level"]["watch"] == 1
    assert summary["rules"] == [{"rule": "unanswered_streak", "alerts": 1}]
    assert summary["touches_before_first_alert"]["histogram"] == [{"touches": 3, "pairs": 1}]
    (top,) = summary["top_pairs"]
    assert top["contact"] == labels.contact("a") != "a"
    assert [entry["event_id"] for entry in top["timeline"]] == ["a-0", "a-1", "a-2"]
    assert "without a reply" in top["reasons"][0]["message"]


def test_compare_lists_exactly_the_alerts_a_stricter_policy_adds_and_removes(tmp_path: Path) -> None:
    labels = Labels(KEY, True)
    export = read_export(history(tmp_path), KEY, labels=labels)
    base = replay(export.rows, parse_policy({})).alerts
    stricter = replay(export.rows, STRICTER).alerts
    compared = differences(base, stricter, labels, policy="stricter.yaml")
    changes = {
        (change["contact"], kind, alert["event_id"], alert["level"])
        for change in compared["pairs"]
        for kind in ("added", "removed")
        for alert in change[kind]
    }
    assert changes == {
        ("a", "added", "a-1", "nuisance"),
        ("a", "added", "a-2", "stalking"),
        ("b", "added", "b-1", "nuisance"),
        ("a", "removed", "a-2", "watch"),
    }
    assert (compared["added_count"], compared["removed_count"]) == (3, 1)
    assert all(alert["reasons"] for change in compared["pairs"] for alert in change["added"] + change["removed"])
    assert differences(base, base, labels, policy="same")["pairs"] == []


def test_html_report_is_self_contained_with_a_chart_per_section(tmp_path: Path) -> None:
    labels = Labels(KEY, False)
    export = read_export(history(tmp_path), KEY, labels=labels)
    summary = summarize(export, replay(export.rows, parse_policy({})), labels, source="h", policy="default")
    summary["compare"] = differences([], replay(export.rows, STRICTER).alerts, labels, policy="stricter.yaml")
    page = render(summary)
    for chart in ("alerts-per-week", "level-mix", "rules", "touches-before-first-alert", "pair-0"):
        assert f'data-chart="{chart}"' in page
    assert "<script" not in page
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "https://" not in page
    assert "Compared with stricter.yaml" in page
