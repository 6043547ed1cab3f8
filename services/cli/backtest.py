"""`rapport-guard backtest EXPORT`: what a policy would have flagged on an activity export, and why."""

import argparse
import json
import secrets
import sys
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from services.backtest.compare import differences
from services.backtest.history import Labels
from services.backtest.reading import Export, ExportError, Format, read_export
from services.backtest.replay import DEFAULT_BATCH, Replay, replay, tune_garbage_collection
from services.backtest.report import counted, render
from services.backtest.summary import summarize
from services.cli.progress import progress_bar
from services.cli.settings import CliSettings
from services.scoring.policy.file import PolicyFileError, PolicySet, load_policy

PROBLEMS_PRINTED = 20


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "backtest",
        help="replay an activity export through the scoring engine and report what the policy would flag",
        description="Replays an export (the generic webhook's JSON Lines or CSV, or HubSpot's exported activities) "
        "in event-time order through the scorer's own processor, and writes report.html and summary.json.",
    )
    parser.add_argument("export", type=Path, help="the activity export (.jsonl, .csv)")
    parser.add_argument("--policy", type=Path, help="policy YAML (default: POLICY_FILE, else the built-in policy)")
    parser.add_argument(
        "--compare", type=Path, metavar="OTHER_POLICY", help="also replay under this policy and list the differences"
    )
    parser.add_argument(
        "--format", choices=[f.value for f in Format], help="the export's format (default: by extension and header)"
    )
    parser.add_argument(
        "--out", type=Path, default=Path("backtest-report"), help="directory for report.html and summary.json"
    )
    parser.add_argument(
        "--identity-key", help="key pseudonymising addresses (default: IDENTITY_HMAC_KEY, else a random one)"
    )
    parser.add_argument("--tenant", default="default", help="tenant for exports that name none (HubSpot)")
    parser.add_argument(
        "--export-timezone",
        default="UTC",
        metavar="ZONE",
        help="zone of dates a HubSpot export writes without one: the HubSpot account's (default UTC)",
    )
    parser.add_argument(
        "--show-contacts", action="store_true", help="name contacts as the export does, not by pseudonym"
    )
    parser.add_argument("--strict", action="store_true", help="stop at the first malformed record (exit 1)")
    parser.add_argument("--top", type=int, default=10, help="pairs and teams listed in the report (default 10)")
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH, help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    settings = CliSettings()
    key = _identity_key(args.identity_key, settings)
    policy_path: Path | None = args.policy or settings.policy_file
    try:
        policies = load_policy(policy_path)
        other = load_policy(args.compare) if args.compare else None
    except PolicyFileError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    labels = Labels(key, args.show_contacts)
    try:
        export = _read(args, key, labels)
    except ExportError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    _print_problems(export)
    if not export.rows:
        sys.stderr.write(f"{args.export}: none of its {export.records} record(s) could be replayed\n")
        return 1
    tune_garbage_collection()
    result = _replay(export, policies)
    summary = summarize(export, result, labels, source=args.export.name, policy=_policy_name(policy_path), top=args.top)
    if other is not None and args.compare is not None:
        compared = _replay(export, other)
        summary["compare"] = differences(result.alerts, compared.alerts, labels, policy=_policy_name(args.compare))
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    (args.out / "report.html").write_text(render(summary), encoding="utf-8")
    _print_summary(summary, args.out)
    return 0


def _identity_key(option: str | None, settings: CliSettings) -> bytes:
    if option:
        return option.encode()
    if settings.identity_hmac_key is not None:
        return settings.identity_hmac_key.get_secret_value().encode()
    sys.stderr.write(
        "note: no --identity-key and no IDENTITY_HMAC_KEY: contacts known only by e-mail or phone get pseudonyms "
        "made with a random key, so they differ from the live system's and from the next run's\n"
    )
    return secrets.token_hex(32).encode()


def _read(args: argparse.Namespace, key: bytes, labels: Labels) -> Export:
    size = args.export.stat().st_size if args.export.is_file() else 0
    fmt = Format(args.format) if args.format else None
    try:
        zone = ZoneInfo(args.export_timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ExportError(
            f"--export-timezone: unknown time zone {args.export_timezone!r}, e.g. Europe/Berlin"
        ) from None
    with progress_bar("reading", size, "bytes") as advance:
        return read_export(
            args.export,
            key,
            labels=labels,
            fmt=fmt,
            strict=args.strict,
            progress=advance,
            tenant=args.tenant,
            export_timezone=zone,
        )


def _replay(export: Export, policies: PolicySet) -> Replay:
    with progress_bar("replaying", len(export.rows), "events") as advance:
        return replay(export.rows, policies, progress=advance)


def _print_problems(export: Export) -> None:
    for name in export.unknown_columns:
        sys.stderr.write(f"unknown column ignored: {name}\n")
    for note in export.notes:
        sys.stderr.write(f"note: {note}\n")
    for problem in export.problems[:PROBLEMS_PRINTED]:
        sys.stderr.write(f"skipped {problem}\n")
    if export.malformed:
        sys.stderr.write(f"{export.malformed} malformed record(s) skipped of {export.records}\n")


def _print_summary(summary: dict[str, Any], out: Path) -> None:
    counts = summary["counts"]
    levels = ", ".join(f"{level} {number}" for level, number in counts["alerts_by_level"].items())
    lines = [
        f"{counted(counts['events'], 'event')}, {counted(counts['pairs'], 'pair')}, "
        f"{counted(counts['pairs_flagged'], 'pair')} flagged; {counted(counts['alerts'], 'alert')} ({levels})",
    ]
    if "compare" in summary:
        compare = summary["compare"]
        lines.append(
            f"under {compare['policy']}: {counted(compare['added_count'], 'alert')} added, "
            f"{compare['removed_count']} removed"
        )
    lines.append(f"report: {out / 'report.html'}; summary: {out / 'summary.json'}")
    sys.stdout.write("\n".join(lines) + "\n")


def _policy_name(path: Path | None) -> str:
    return str(path) if path is not None else "the built-in policy"
