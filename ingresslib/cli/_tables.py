"""What the commands that read manifests share: the table options, and loading them."""

from __future__ import annotations

import argparse
from typing import TextIO

from ingresslib.resources import ManifestError, ResourceSet, load_manifests
from ingresslib.routing import RouteTable, RouteTableError

__all__ = ["add_table_options", "load"]


def add_table_options(parser: argparse.ArgumentParser) -> None:
    """The options of `RouteTable.build` and `load_manifests`: namespace, class, matcher."""
    parser.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace for objects that name none (default: %(default)s)",
    )
    parser.add_argument("--controller", help="use only Ingresses of classes with this controller")
    parser.add_argument("--ingress-class", help="use only Ingresses of this class")
    parser.add_argument(
        "--watch-without-class", action="store_true", help="also use Ingresses without a class"
    )
    parser.add_argument(
        "--gateway",
        action="append",
        metavar="NAMESPACE/NAME",
        help="Gateway API: route for this Gateway (with --controller, only if its "
        "GatewayClass names it) instead of Ingresses",
    )
    parser.add_argument(
        "--implementation-specific",
        default="prefix",
        metavar="MATCHER",
        help="path matcher for ImplementationSpecific paths (default: %(default)s)",
    )


def load(args: argparse.Namespace, err: TextIO) -> tuple[ResourceSet, RouteTable] | None:
    """The resources of `args.paths` and their table; None (the error written) when invalid."""
    try:
        resources = load_manifests(args.paths, namespace=args.namespace, unknown_kinds="ignore")
        table = RouteTable.build(
            resources,
            controller=args.controller,
            ingress_class=args.ingress_class,
            watch_without_class=args.watch_without_class,
            implementation_specific=args.implementation_specific,
        )
    except (ManifestError, RouteTableError) as error:
        err.write(f"{error}\n")
        return None
    return resources, table
