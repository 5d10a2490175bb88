"""The parser of the `ingresslib` command line, `main` and the console script's `run`."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TextIO

from ingresslib._version import __version__
from ingresslib.cli import _audit, _check, _explain, _migrate, _routes, _serve
from ingresslib.cli._tables import table_option_problem

__all__ = ["main", "run"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ingresslib", description="Kubernetes Ingress semantics for Python."
    )
    parser.add_argument("--version", action="version", version=f"ingresslib {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for command in (_check, _routes, _explain, _audit, _migrate, _serve):
        command.add_parser(commands)
    return parser


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; return the exit status (0 ok, 1 problems found, 3 no route).

    Usage errors exit with status 2 through argparse's `SystemExit`.
    """
    parser = _parser()
    args = parser.parse_args(argv)
    problem = table_option_problem(args)
    if problem is not None:
        parser.error(f"{args.command}: {problem}")
    status: int = args.handler(args, out or sys.stdout, err or sys.stderr)
    return status


def run() -> None:
    """Console-script entry point: run `main` and exit with its status."""
    sys.exit(main())
