"""What the commands that read manifests share: the table options, and loading them."""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from typing import TextIO

from ingresslib.gatewayapi import GatewayNotFoundError
from ingresslib.resources import Gateway, ManifestError, ResourceSet, load_manifests
from ingresslib.routing import RouteTable, RouteTableError, ScopedRouteTable

__all__ = ["add_table_options", "gateway_key", "gateway_table", "load", "table_option_problem"]


def add_table_options(parser: argparse.ArgumentParser, *, gateway: bool = True) -> None:
    """The options of `RouteTable.build` and `load_manifests`: namespace, class, matcher.

    Args:
        parser: the command's parser.
        gateway: also `--gateway NAMESPACE/NAME` (the commands that route one Gateway).
    """
    parser.add_argument(
        "-n",
        "--namespace",
        default="default",
        help="namespace for objects that name none (default: %(default)s)",
    )
    parser.add_argument(
        "--controller",
        help="use only Ingresses of classes with this controller; for Gateway API, only "
        "GatewayClasses with this controllerName (default: every class)",
    )
    parser.add_argument("--ingress-class", help="use only Ingresses of this class")
    parser.add_argument(
        "--watch-without-class", action="store_true", help="also use Ingresses without a class"
    )
    parser.add_argument(
        "--implementation-specific",
        default="prefix",
        metavar="MATCHER",
        help="path matcher for ImplementationSpecific paths (default: %(default)s)",
    )
    if gateway:
        parser.add_argument(
            "--gateway",
            metavar="[NAMESPACE/]NAME",
            help="the routes attached to this Gateway (Gateway API), listener by listener, "
            "instead of the Ingresses (NAMESPACE: --namespace when omitted)",
        )


def table_option_problem(args: argparse.Namespace) -> str | None:
    """A usage error of the table options (None: none): Ingress options with --gateway."""
    if getattr(args, "gateway", None) is None:
        return None
    given = [
        option
        for option, value in (
            ("--ingress-class", args.ingress_class),
            ("--watch-without-class", args.watch_without_class),
        )
        if value
    ]
    if given:
        return f"{' and '.join(given)}: Ingress options, not for --gateway"
    return None


def gateway_key(args: argparse.Namespace) -> str | None:
    """`namespace/name` of `--gateway` (the namespace of `--namespace` when omitted)."""
    key: str | None = getattr(args, "gateway", None)
    if key is None or "/" in key:
        return key
    return f"{args.namespace}/{key}"


def load(
    args: argparse.Namespace, err: TextIO, *, gateway: bool = True
) -> tuple[ResourceSet, RouteTable] | None:
    """The resources of `args.paths` and their table; None (the error written) when invalid.

    With `--gateway` (and `gateway`), the table is that Gateway's (a `ScopedRouteTable`,
    one scope per listener); an unknown Gateway, or one that `--controller` does not
    serve, is an error. Without, the table routes the Ingresses.
    """
    try:
        resources = load_manifests(args.paths, namespace=args.namespace, unknown_kinds="ignore")
    except ManifestError as error:
        err.write(f"{error}\n")
        return None
    key = gateway_key(args) if gateway else None
    if key is not None:
        scoped = gateway_table(resources, key, args, err)
        return None if scoped is None else (resources, scoped)
    try:
        table = RouteTable.build(
            resources,
            controller=args.controller,
            ingress_class=args.ingress_class,
            watch_without_class=args.watch_without_class,
            implementation_specific=args.implementation_specific,
        )
    except RouteTableError as error:
        err.write(f"{error}\n")
        return None
    return resources, table


def gateway_table(
    resources: ResourceSet, key: str, args: argparse.Namespace, err: TextIO
) -> ScopedRouteTable | None:
    """The table of the Gateway `key`; None (a one-line error written) when there is none.

    An unknown Gateway, one that `--controller` does not serve, and a rule of its routes
    that cannot be compiled (the table `serve` would build fails) are errors.
    """
    command = f"ingresslib {args.command}"
    try:
        table = RouteTable.build(resources, gateway=key, controller=args.controller)
    except GatewayNotFoundError as error:
        err.write(f"{command}: {error} (Gateways: {_gateway_names(resources.gateways)})\n")
        return None
    except RouteTableError as error:
        err.write(f"{command}: Gateway {key}: {error}\n")
        return None
    if not isinstance(table, ScopedRouteTable) or table.gateway is None:  # pragma: no cover
        raise TypeError("RouteTable.build(gateway=...) returned no ScopedRouteTable")
    front = table.gateway
    if not front.served:
        # With a controller, a Gateway of another controller's class serves nothing: say
        # so, rather than print an empty table or route everything to 404.
        gateway = front.attachment.gateway
        class_name = gateway.spec.gateway_class_name
        gateway_class = front.attachment.gateway_class
        why = (
            f"its GatewayClass {class_name!r} does not exist"
            if gateway_class is None
            else f"its GatewayClass {class_name!r} has controllerName "
            f"{gateway_class.spec.controller_name!r}"
        )
        err.write(
            f"{command}: Gateway {key} is not served by --controller {args.controller}: {why}\n"
        )
        return None
    return table


def _gateway_names(gateways: Iterable[Gateway]) -> str:
    names = sorted(f"{g.metadata.namespace}/{g.metadata.name}" for g in gateways)
    return ", ".join(names) or "none"
