"""Entry point of `rapport-guard`: builds the parser from each subcommand module and runs the chosen one."""

import argparse
import sys
from collections.abc import Callable
from typing import Any, NoReturn, Protocol

from services.cli import alerts, backtest, check, policy


class Subcommand(Protocol):
    """A module that adds its parser and sets `run` (Namespace -> exit code) as its default."""

    def register(self, subparsers: "argparse._SubParsersAction[Any]") -> None: ...


SUBCOMMANDS: tuple[Subcommand, ...] = (backtest, policy, check, alerts)


class Parser(argparse.ArgumentParser):
    """An argparse parser whose usage errors exit with `usage_status`: argparse's own 2 is `check`'s "block", so a
    mistyped channel must not read as a decision."""

    def __init__(self, *args: Any, usage_status: int = 2, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.usage_status = usage_status

    def error(self, message: str) -> NoReturn:
        self.print_usage(sys.stderr)
        self.exit(self.usage_status, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="rapport-guard", description="Rapport Guard from the command line.")
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
