"""`ingresslib routes PATH...`: print the compiled route table."""

from __future__ import annotations

import argparse
from typing import TextIO

from ingresslib.cli._tables import add_table_options, load
from ingresslib.routing import RouteMatch

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ingresslib routes PATH...`."""
    routes = commands.add_parser("routes", help="print the compiled route table")
    routes.add_argument("paths", nargs="+", help="manifest files or directories")
    add_table_options(routes)
    routes.set_defaults(handler=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print the table: one row per route, then the default backends; 1 when invalid."""
    loaded = load(args, err)
    if loaded is None:
        return 1
    _, table = loaded
    rows = [("HOST", "PATH", "TYPE", "MATCHER", "BACKEND", "SOURCE")]
    for vhost in table.virtual_hosts():
        rows.extend(
            (
                route.host or "*",
                route.http_path.path or '""',
                route.http_path.path_type or "",
                route.matcher,
                route.http_path.backend.describe(),
                f"{route.ingress.metadata.namespace}/{route.ingress.metadata.name}",
            )
            for route in vhost.routes
        )
        if vhost.default is not None:
            rows.append(_default_row(vhost.host or "*", vhost.default))
    if table.catch_all is not None:
        rows.append(_default_row("(any other)", table.catch_all))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        out.write(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
            + "\n"
        )
    return 0


def _default_row(host: str, match: RouteMatch) -> tuple[str, str, str, str, str, str]:
    source = (
        f"{match.ingress.metadata.namespace}/{match.ingress.metadata.name}"
        if match.ingress is not None
        else "(controller)"
    )
    return (host, "(default)", "", "", match.backend.describe(), source)
