"""`rapport-guard`: one console script; each subcommand module adds its parser with `register(subparsers)`."""

import argparse
import sys
from collections.abc import Callable

from services.cli import backtest, check, policy

COMMANDS = (backtest, policy, check)

Run = Callable[[argparse.Namespace], int]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rapport-guard", description="Rapport Guard from the command line: backtests, policies, checks."
    )
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for command in COMMANDS:
        command.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Run = args.run
    try:
        return run(args)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        return 130


if __name__ == "__main__":
    sys.exit(main())
