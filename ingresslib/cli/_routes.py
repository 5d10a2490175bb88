"""`ingresslib routes PATH...`: print the compiled route table.

With `--gateway NAMESPACE/NAME`, the table of that Gateway, listener by listener: each
rule's host (the intersection of its route's hostnames with the listener's), match,
backends with their weights (and why one is invalid), filters and source; then the
listeners that serve nothing and the route parents that did not attach.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TextIO

from ingresslib.cli._gateway import (
    abnormal,
    condition_text,
    conditions_text,
    describe_backends,
    describe_filters,
    describe_match,
    invalid_shares,
    listener_text,
    parent_text,
)
from ingresslib.cli._tables import add_table_options, load
from ingresslib.gatewayapi import GatewayFrontEnd, gateway_status
from ingresslib.resources import ResourceSet
from ingresslib.routing import Route, RouteMatch, RouteTable, ScopedRouteTable

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ingresslib routes PATH...`."""
    routes = commands.add_parser(
        "routes", help="print the compiled route table (of the Ingresses, or of a --gateway)"
    )
    routes.add_argument("paths", nargs="+", help="manifest files or directories")
    add_table_options(routes)
    routes.set_defaults(handler=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print the table: one row per route, then the default backends; 1 when invalid."""
    loaded = load(args, err)
    if loaded is None:
        return 1
    resources, table = loaded
    if isinstance(table, ScopedRouteTable):
        _gateway_routes(resources, table, args, out)
        return 0
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
    _write_rows(rows, out)
    return 0


def _write_rows(rows: Sequence[Sequence[str]], out: TextIO, indent: str = "") -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for row in rows:
        cells = "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        out.write(f"{indent}{cells}".rstrip() + "\n")


_GATEWAY_HEADER = ("HOST", "PATH", "TYPE", "MATCH", "BACKENDS", "FILTERS", "SOURCE")


def _gateway_routes(
    resources: ResourceSet, table: ScopedRouteTable, args: argparse.Namespace, out: TextIO
) -> None:
    front: GatewayFrontEnd = table.gateway
    attachment = front.attachment
    gateway = attachment.gateway
    namespace, name = gateway.metadata.namespace, gateway.metadata.name
    out.write(f"{gateway.ref} (class {gateway.spec.gateway_class_name})\n")
    scopes = {scope.name: scope for scope in table.scopes}
    report = gateway_status(resources, controller=args.controller)
    for state in attachment.listeners:
        scope = scopes.get(state.name)
        heading = f"listener {state.name} ({listener_text(state)})"
        if scope is None:
            # Not accepted (a conflict, an unsupported protocol): it serves nothing.
            conditions = report.listener_conditions(namespace, name, state.name)
            out.write(f"{heading}: serves nothing: {conditions_text(conditions)}\n")
            continue
        listener_table = RouteTable.from_rules(scope.rules)
        rows: list[tuple[str, ...]] = [_GATEWAY_HEADER]
        notes: dict[str, None] = {}  # one note per route rule, in order
        for vhost in listener_table.virtual_hosts():
            for route in vhost.routes:
                rows.append(_gateway_row(route))
                rule_field = route.field.partition(".matches[")[0]
                for why in invalid_shares(route.rule):
                    notes[f"invalid: {route.source} {rule_field}: {why}"] = None
            for conflict in vhost.conflicts:
                w = conflict.winner
                note = f" (never used: {w.source} {w.field} claims the same)"
                rows.append(_gateway_row(conflict.loser, note))
        count = len(rows) - 1
        # An accepted listener can still fail to serve (an unresolved certificate...).
        problems = [
            condition_text(c)
            for c in report.listener_conditions(namespace, name, state.name)
            if abnormal(c)
        ]
        warning = f"; {' '.join(problems)}" if problems else ""
        out.write(f"{heading}: {count} rule(s){warning}\n")
        if count:
            _write_rows(rows, out, "  ")
        for note in notes:
            out.write(f"  {note}\n")
    for parent in attachment.parents:
        if parent.accepted:
            continue
        refused = parent.route
        out.write(
            f"not attached: {refused.ref} spec.parentRefs[{parent.index}] -> "
            f"{parent_text(parent.parent_ref, refused.metadata.namespace)}: "
            f"{parent.reason}: {parent.message}\n"
        )


def _gateway_row(route: Route, note: str = "") -> tuple[str, ...]:
    rule = route.rule
    return (
        route.host or "*",
        route.match.path.value or '""',
        route.match.path.path_type or "",
        describe_match(route.match),
        describe_backends(rule),
        describe_filters(rule),
        f"{route.source} {route.field}{note}",
    )


def _default_row(host: str, match: RouteMatch) -> tuple[str, str, str, str, str, str]:
    source = (
        f"{match.ingress.metadata.namespace}/{match.ingress.metadata.name}"
        if match.ingress is not None
        else "(controller)"
    )
    return (host, "(default)", "", "", match.backend.describe(), source)
