"""`rapport-guard policy validate FILE` and `policy show [--tenant T]`: the policy as the scoring service sees it."""

import argparse
import sys
from pathlib import Path
from typing import Any

import yaml

from services.cli.settings import CliSettings
from services.scoring.policy.file import PolicyFileError, load_policy


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("policy", help="validate a policy file, or print the effective policy")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    validate = actions.add_parser(
        "validate", help="the checks the scoring service makes at start; exit 0 when valid, 1 naming each bad field"
    )
    validate.add_argument("file", type=Path)
    validate.set_defaults(run=run_validate)
    show = actions.add_parser("show", help="the merged effective policy as YAML")
    show.add_argument("--policy", type=Path, help="policy YAML (default: POLICY_FILE, else the built-in policy)")
    show.add_argument("--tenant", help="the policy this tenant gets (its overrides merged over the file's defaults)")
    show.set_defaults(run=run_show)


def run_validate(args: argparse.Namespace) -> int:
    try:
        policies = load_policy(args.file)
    except PolicyFileError as exc:
        for problem in str(exc).split("; "):
            sys.stderr.write(f"{problem}\n")
        return 1
    tenants = sorted(policies.tenants)
    overrides = f"; overrides for {len(tenants)} tenant(s): {', '.join(tenants)}" if tenants else ""
    sys.stdout.write(f"{args.file}: valid{overrides}\n")
    return 0


def run_show(args: argparse.Namespace) -> int:
    path: Path | None = args.policy or CliSettings().policy_file
    try:
        policies = load_policy(path)
    except PolicyFileError as exc:
        sys.stderr.write(f"{exc}\n")
        return 1
    if args.tenant is not None and args.tenant not in policies.tenants:
        sys.stderr.write(f"note: tenant {args.tenant!r} has no overrides; it gets the default policy\n")
    policy = policies.for_tenant(args.tenant) if args.tenant is not None else policies.default
    origin = str(path) if path is not None else "the built-in policy"
    tenant = f", tenant {args.tenant}" if args.tenant is not None else ""
    sys.stdout.write(f"# effective policy from {origin}{tenant}\n")
    sys.stdout.write(yaml.safe_dump(policy.model_dump(mode="json"), sort_keys=False))
    return 0
