"""`ingresslib explain PATH... URL`: which backend a URL reaches, and why.

With `--gateway NAMESPACE/NAME`, the request arrives on the URL's port (80 for http and
443 for https when it names none): the explanation names the listener that takes it, the
hostname intersection of each route attached there, every candidate rule with its
verdict (including the precedence step that decided), and the whole decision of
`decide()` (forward with weights, redirect, or respond).
"""

from __future__ import annotations

import argparse
from typing import TextIO
from urllib.parse import SplitResult, urlsplit

from ingresslib.cli._gateway import covers, describe_decision, parent_text
from ingresslib.cli._tables import add_table_options, load
from ingresslib.gatewayapi import GatewayFrontEnd
from ingresslib.routing import Request, ScopedRouteTable, normalize_host
from ingresslib.rules import Scope

__all__ = ["add_parser", "run"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ingresslib explain PATH... URL`."""
    explain = commands.add_parser(
        "explain", help="show which backend a URL reaches and why (exit 3: no route)"
    )
    explain.add_argument(
        "paths_and_url", nargs="+", metavar="PATH... URL", help="manifests, then the URL"
    )
    explain.add_argument(
        "-X",
        "--method",
        default="GET",
        help="the request method, for rules that match methods (default: %(default)s)",
    )
    explain.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="'NAME: VALUE'",
        help="a request header, for rules that match headers (repeatable)",
    )
    add_table_options(explain)
    explain.set_defaults(handler=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Explain the route of the URL; 0 routed, 3 no route, 1 invalid, 2 usage."""
    args.paths = args.paths_and_url[:-1]
    if not args.paths:
        err.write("ingresslib explain: give at least one manifest path, then the URL\n")
        return 2
    headers = []
    for field in args.header:
        name, colon, value = field.partition(":")
        if not colon or not name.strip():
            err.write(f"ingresslib explain: --header {field!r}: expected 'NAME: VALUE'\n")
            return 2
        headers.append((name.strip(), value.strip()))
    url = args.paths_and_url[-1]
    parts = urlsplit(url if "://" in url else f"http://{url}")
    try:
        port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 80)
    except ValueError as error:
        err.write(f"ingresslib explain: {url}: {error}\n")
        return 2
    loaded = load(args, err)
    if loaded is None:
        return 1
    _, table = loaded
    # The Host header a client sends: no user info, the port kept (the router drops it).
    host = parts.netloc.rpartition("@")[2] or None
    path = parts.path or "/"
    if isinstance(table, ScopedRouteTable):
        return _explain_gateway(table, parts, host, port, args.method, headers, out)
    explanation = table.explain(host, path, method=args.method, headers=headers, query=parts.query)
    out.write(f"{explanation}\n")
    return 0 if explanation.result is not None else 3


def _explain_gateway(  # noqa: PLR0917 -- private: the parts of one request
    table: ScopedRouteTable,
    parts: SplitResult,
    host: str | None,
    port: int,
    method: str,
    headers: list[tuple[str, str]],
    out: TextIO,
) -> int:
    path = parts.path or "/"
    explanation = table.explain(
        host, path, port=port, method=method, headers=headers, query=parts.query
    )
    out.write(f"{explanation}\n")
    found = table.scope_table(host, port)
    if found is not None:
        scope, listener_table = found
        vhost = listener_table.virtual_host(host)
        chosen = None if vhost is None else str(vhost.host)
        _hostnames(table.gateway, scope, normalize_host(host), chosen, out)
    https = parts.scheme == "https"
    decision = table.decide(
        Request(
            method=method,
            scheme="https" if https else "http",
            host=host,
            path=path,
            query=parts.query,
            headers=tuple(headers),
            port=port,
            # A TLS client sends the URL's host as its server name.
            sni=parts.hostname if https else None,
        )
    )
    out.write(f"decision: {describe_decision(decision)}\n")
    return 0 if decision.match is not None else 3


def _hostnames(
    front: GatewayFrontEnd, scope: Scope, name: str, chosen: str | None, out: TextIO
) -> None:
    """Each route of the listener: its hostnames, their intersection with the listener's.

    "A Listener with `test.example.com` as the hostname matches HTTPRoutes that have either
    not specified any hostnames, or have specified at least one of `test.example.com` or
    `*.example.com`": a route's rules claim the intersection; the most specific one that
    covers the request host takes it. Route parents that did not attach here say why.
    """
    lines = []
    for parent in front.attachment.parents:
        route = parent.route
        attached = next((a for a in parent.listeners if a.listener.name == scope.name), None)
        if attached is None:
            section = parent.parent_ref.section_name
            if not parent.accepted and section in (None, scope.name):
                target = parent_text(parent.parent_ref, route.metadata.namespace)
                lines.append(
                    f"{route.ref} (-> {target}): not attached: {parent.reason}: {parent.message}"
                )
            continue
        own = ",".join(route.spec.hostnames) or "*"
        served = [h or "*" for h in attached.hostnames]
        covering = [h for h in attached.hostnames if covers(h, name)]
        if chosen is not None and chosen in covering:
            verdict = f"takes {name!r} (the most specific route hostname that covers it)"
        elif covering:
            verdict = f"covers {name!r}, but {(chosen or '*')!r} is more specific"
        else:
            verdict = f"does not cover {name!r}"
        lines.append(
            f"{route.ref}: {own} x {scope.hostname or '*'} = {','.join(served)}: {verdict}"
        )
    if lines:
        out.write(f"hostnames (route x listener {scope.name!r}):\n")
        out.writelines(f"  {line}\n" for line in lines)
