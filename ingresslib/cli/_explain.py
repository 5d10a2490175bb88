"""`ingresslib explain PATH... URL`: which backend a URL reaches, and why."""

from __future__ import annotations

import argparse
from typing import TextIO
from urllib.parse import urlsplit

from ingresslib.cli._tables import add_table_options, load

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ingresslib explain PATH... URL`."""
    explain = commands.add_parser(
        "explain", help="show which backend a URL reaches and why (exit 3: no route)"
    )
    explain.add_argument(
        "paths_and_url", nargs="+", metavar="PATH... URL", help="manifests, then the URL"
    )
    add_table_options(explain)
    explain.set_defaults(handler=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Explain the route of the URL; 0 routed, 3 no route, 1 invalid, 2 usage."""
    args.paths = args.paths_and_url[:-1]
    if not args.paths:
        err.write("ingresslib explain: give at least one manifest path, then the URL\n")
        return 2
    loaded = load(args, err)
    if loaded is None:
        return 1
    _, table = loaded
    url = args.paths_and_url[-1]
    parts = urlsplit(url if "://" in url else f"http://{url}")
    # The Host header a client sends: no user info, the port kept (the router drops it).
    host = parts.netloc.rpartition("@")[2] or None
    explanation = table.explain(host, parts.path or "/")
    out.write(f"{explanation}\n")
    return 0 if explanation.result is not None else 3
