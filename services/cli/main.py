"""Entry point of `rapport-guard`: builds the parser from each subcommand module and runs the chosen one."""

import argparse
import sys
from collections.abc import Callable
from typing import Protocol

from services.cli import alerts, backtest, check, policy


class Subcommand(Protocol):
    """A module that adds its parser and sets `run` (Namespace -> exit code) as its default."""

    def register(self, subparsers: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None: ...


SUBCOMMANDS: tuple[Subcommand, ...] = (backtest, policy, check, alerts)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rapport-guard", description="Rapport Guard from the command line.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for subcommand in SUBCOMMANDS:
        subcommand.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
