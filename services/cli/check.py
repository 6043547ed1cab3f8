"""`rapport-guard check`: the pre-send check against a running scoring service, for scripts.

Exit status by decision, so a script can branch on it: 0 allow, 1 warn, 2 block, 3 the check could not be made.
"""

import argparse
import json
import sys
from typing import Any

import httpx

from schemas import Channel
from services.cli.settings import CliSettings

EXIT_BY_DECISION = {"allow": 0, "warn": 1, "block": 2}
EXIT_ERROR = 3


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "check",
        help="would one more touch be welcome? asks a running scoring service (exit 0 allow, 1 warn, 2 block, 3 error)",
        usage_status=EXIT_ERROR,
    )
    parser.add_argument("--url", default="http://127.0.0.1:8081", help="the scoring service (default %(default)s)")
    parser.add_argument("--api-key", help="sent as Authorization: Bearer (default: RAPPORT_API_KEY)")
    parser.add_argument("--tenant", default="default")
    sender = parser.add_mutually_exclusive_group(required=True)
    sender.add_argument("--sender", help="the sender's CRM id")
    sender.add_argument("--sender-email")
    parser.add_argument("--contact", help="the contact's CRM id")
    parser.add_argument("--contact-email")
    parser.add_argument("--contact-phone")
    parser.add_argument("--contact-timezone", help="IANA zone, e.g. Europe/Berlin")
    parser.add_argument("--channel", required=True, choices=[channel.value for channel in Channel])
    parser.add_argument("--at", help="when the touch would be made (ISO 8601; default now)")
    parser.add_argument("--json", action="store_true", help="print the service's answer as JSON")
    parser.add_argument("--timeout", type=float, default=10.0, help=argparse.SUPPRESS)
    parser.set_defaults(run=run)


def request_body(args: argparse.Namespace) -> dict[str, Any]:
    sender = {"id": args.sender} if args.sender else {"email": args.sender_email}
    contact = {
        name: value
        for name, value in (
            ("id", args.contact),
            ("email", args.contact_email),
            ("phone", args.contact_phone),
            ("timezone", args.contact_timezone),
        )
        if value
    }
    body: dict[str, Any] = {"tenant": args.tenant, "sender": sender, "contact": contact, "channel": args.channel}
    if args.at:
        body["at"] = args.at
    return body


def run(args: argparse.Namespace) -> int:
    if not (args.contact or args.contact_email or args.contact_phone):
        sys.stderr.write("check: name the contact with --contact, --contact-email or --contact-phone\n")
        return EXIT_ERROR
    key = args.api_key or _configured_key()
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    try:
        response = httpx.post(
            f"{args.url.rstrip('/')}/v1/check", json=request_body(args), headers=headers, timeout=args.timeout
        )
    except httpx.HTTPError as exc:
        sys.stderr.write(f"check: cannot reach {args.url}: {exc}\n")
        return EXIT_ERROR
    if response.status_code != 200:
        sys.stderr.write(f"check: {args.url} answered {response.status_code}: {response.text[:500]}\n")
        return EXIT_ERROR
    answer = response.json()
    decision = answer.get("decision")
    if decision not in EXIT_BY_DECISION:
        sys.stderr.write(f"check: unexpected answer without a decision: {response.text[:500]}\n")
        return EXIT_ERROR
    sys.stdout.write(json.dumps(answer, indent=2) + "\n" if args.json else _describe(answer))
    return EXIT_BY_DECISION[decision]


def _configured_key() -> str | None:
    key = CliSettings().rapport_api_key
    return key.get_secret_value() if key is not None else None


def _describe(answer: dict[str, Any]) -> str:
    lines = [f"{answer['decision']} (level {answer.get('level')}, tier {answer.get('tier')})"]
    lines += [f"  {reason['rule']}: {reason['message']}" for reason in answer.get("reasons", [])]
    if answer.get("next_allowed_at"):
        lines.append(f"  next allowed at {answer['next_allowed_at']}")
    return "\n".join(lines) + "\n"
