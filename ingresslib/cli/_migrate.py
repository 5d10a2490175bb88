"""`ingresslib migrate PATH...`: the Ingresses as Gateway API routes, and what differs.

Writes the Gateway, ReferenceGrants and HTTPRoutes (YAML, to stdout or `--output`) of the
Ingresses `serve` would route (the same class options), then the report on stderr: one
`differs:` line per thing the routes cannot say the same way (the Ingress, the field,
why), and a last line saying whether the migration is exact. The exit status is 0, or 1
when the manifests do not load; with `--strict`, also 1 when the migration is not exact.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TextIO

import yaml

from ingresslib.ingress import migrate
from ingresslib.resources import ManifestError, load_manifests

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ingresslib migrate PATH...`."""
    command = commands.add_parser(
        "migrate",
        help="write the Ingresses as Gateway API routes, and report what differs",
    )
    command.add_argument("paths", nargs="+", help="manifest files or directories")
    command.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace for objects that name none (default: %(default)s)",
    )
    command.add_argument("--controller", help="migrate Ingresses of classes with this controller")
    command.add_argument("--ingress-class", help="migrate Ingresses of this class")
    command.add_argument(
        "--watch-without-class", action="store_true", help="also Ingresses without a class"
    )
    command.add_argument(
        "--gateway",
        default="default/ingresslib",
        metavar="NAMESPACE/NAME",
        help="the Gateway to write (default: %(default)s)",
    )
    command.add_argument(
        "--gateway-class", default="ingresslib", help="its gatewayClassName (default: %(default)s)"
    )
    command.add_argument("-o", "--output", type=Path, help="write the manifests here")
    command.add_argument(
        "--strict", action="store_true", help="exit 1 when the migration is not exact"
    )
    command.set_defaults(handler=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Migrate; 0, or 1 (the input does not load; `--strict` and not exact)."""
    try:
        resources = load_manifests(args.paths, namespace=args.namespace, unknown_kinds="ignore")
    except ManifestError as error:
        err.write(f"{error}\n")
        return 1
    migration = migrate(
        resources,
        gateway=args.gateway,
        gateway_class=args.gateway_class,
        controller=args.controller,
        ingress_class=args.ingress_class,
        watch_without_class=args.watch_without_class,
    )
    text = yaml.safe_dump_all(migration.manifests, sort_keys=False)
    if args.output is not None:
        args.output.write_text(text)
    else:
        out.write(text)
    for note in migration.notes:
        err.write(f"{note}\n")
    if migration.exact:
        err.write("exact: the routes decide every request as the Ingresses do\n")
    else:
        count = sum(1 for note in migration.notes if not note.exact)
        err.write(f"not exact: {count} difference(s) listed above\n")
    return 1 if args.strict and not migration.exact else 0
