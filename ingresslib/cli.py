"""The `ingresslib` command line: `check`, `routes` and `explain` manifests; `serve` them."""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING, TextIO
from urllib.parse import urlsplit

from ingresslib._version import __version__
from ingresslib.resources import ManifestError, ResourceSet, load_manifests
from ingresslib.routing import RouteMatch, RouteTable, RouteTableError, lint
from ingresslib.tls import CertificateStore, certificate_sources

if TYPE_CHECKING:  # aiohttp and prometheus-client are imported only when serving
    from ingresslib.server import ClusterConfig

__all__ = ["main", "run"]


def _summary(resources: ResourceSet, out: TextIO) -> None:
    counts = Counter(resource.kind for resource in resources)
    kinds = ", ".join(f"{count} {kind}" for kind, count in sorted(counts.items()))
    out.write(f"ok: {len(resources)} resources ({kinds or 'none'})\n")
    for ingress in resources.ingresses:
        spec = ingress.spec
        paths = sum(len(rule.http.paths) for rule in spec.rules if rule.http is not None)
        hosts = sorted({rule.host or "*" for rule in spec.rules})
        details = [f"class={ingress.class_name or '-'}", f"{paths} path(s)"]
        if hosts:
            details.append("hosts=" + ",".join(hosts))
        if spec.default_backend is not None:
            details.append(f"defaultBackend={spec.default_backend.describe()}")
        if spec.tls:
            details.append(f"tls={len(spec.tls)}")
        out.write(f"  {ingress.ref}: {'; '.join(details)}\n")
    for ingress_class in resources.ingress_classes:
        default = " (default)" if ingress_class.is_default else ""
        out.write(f"  {ingress_class.ref}: controller={ingress_class.spec.controller}{default}\n")


def _load(args: argparse.Namespace, err: TextIO) -> tuple[ResourceSet, RouteTable] | None:
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


def _check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    loaded = _load(args, err)
    if loaded is None:
        return 1
    resources, table = loaded
    _summary(resources, out)
    out.write(f"  routes: {len(table)} across {sum(1 for _ in table.virtual_hosts())} host(s)\n")
    for skipped in resources.skipped:
        out.write(f"warning: {skipped}\n")
    for finding in lint(table, resources):
        out.write(f"warning: {finding}\n")
    # What `serve` would do with the TLS sections of the Ingresses it routes: a missing,
    # malformed, mismatched or expired certificate is reported; other hosts are unaffected.
    certificates = CertificateStore.build(certificate_sources(table, resources))
    for problem in certificates.problems:
        out.write(f"warning: certificate: {problem}\n")
    return 0


def _routes(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    loaded = _load(args, err)
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


def _explain(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    args.paths = args.paths_and_url[:-1]
    if not args.paths:
        err.write("ingresslib explain: give at least one manifest path, then the URL\n")
        return 2
    loaded = _load(args, err)
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


def _serve(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    # aiohttp and prometheus-client are needed only here: imported when serving.
    import logging  # noqa: PLC0415

    try:
        from ingresslib import server as _serve  # noqa: PLC0415
    except ImportError as error:
        err.write(
            f"ingresslib serve needs aiohttp and prometheus-client ({error}): "
            "pip install 'ingresslib[serve]'\n"
        )
        return 1
    try:
        config = _serve.ServeConfig(
            paths=tuple(args.paths),
            cluster=_cluster_config(args),
            listen=_serve.parse_address(args.listen),
            tls_listen=None if args.tls_listen == "off" else _serve.parse_address(args.tls_listen),
            admin_listen=(
                None if args.admin_listen == "off" else _serve.parse_address(args.admin_listen)
            ),
            namespace=args.namespace,
            controller=args.controller,
            ingress_class=args.ingress_class,
            watch_without_class=args.watch_without_class,
            implementation_specific=args.implementation_specific,
            rate_limit=None
            if args.rate_limit is None
            else _serve.parse_rate_limit(args.rate_limit),
            trusted_proxies=tuple(args.trusted_proxy),
            allow_loopback_endpoints=args.allow_loopback_endpoints,
            poll_interval=args.poll_interval,
            shutdown_timeout=_drain_timeout(args.drain_timeout),
            loop=args.loop,
        )
    except ValueError as error:
        err.write(f"ingresslib serve: {error}\n")
        return 2
    handler = logging.StreamHandler(err)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("ingresslib")
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    try:
        return _serve.serve(config)
    except ImportError as error:  # --loop uvloop without uvloop
        err.write(f"ingresslib serve: --loop {config.loop}: {error}\n")
        return 1
    finally:
        root.removeHandler(handler)


def _add_serve_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--listen",
        default="127.0.0.1:8080",
        metavar="HOST:PORT",
        help="plain-HTTP listener (default: %(default)s)",
    )
    parser.add_argument(
        "--tls-listen",
        default="127.0.0.1:8443",
        metavar="HOST:PORT",
        help="TLS listener, certificates by SNI from the Ingresses' Secrets; 'off' for none "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--admin-listen",
        default="127.0.0.1:9100",
        metavar="HOST:PORT",
        help="/metrics (Prometheus) and /healthz; 'off' for none (default: %(default)s)",
    )
    parser.add_argument(
        "--rate-limit",
        metavar="RATE/s[:BURST]",
        help="limit each client address, e.g. 10/s:20 (nginx limit_req with nodelay)",
    )
    parser.add_argument(
        "--trusted-proxy",
        action="append",
        default=[],
        metavar="CIDR",
        help="a proxy in front whose X-Forwarded-For names the client (repeatable; "
        "default: trust nobody)",
    )
    parser.add_argument(
        "--allow-loopback-endpoints",
        action="store_true",
        help="accept EndpointSlice addresses on loopback (local development)",
    )
    parser.add_argument(
        "--poll-interval",
        type=float,
        default=0.5,
        metavar="SECONDS",
        help="how often the manifest files are checked for changes (default: %(default)s)",
    )
    parser.add_argument(
        "--loop",
        choices=("auto", "asyncio", "uvloop"),
        default="auto",
        help="the event loop; auto: uvloop when installed (default: %(default)s)",
    )
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="at SIGTERM/SIGINT, how long requests in flight may take to finish once the "
        "listeners are closed (default: %(default)s)",
    )


def _drain_timeout(seconds: float) -> float:
    if not 0 <= seconds < float("inf"):  # NaN too
        raise ValueError(f"expected --drain-timeout SECONDS >= 0, not {seconds}")
    return seconds


def _add_cluster_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "cluster",
        "follow a Kubernetes cluster instead of manifest files (needs kubernetes_asyncio)",
    )
    group.add_argument("--kubeconfig", metavar="PATH", help="the cluster of this kubeconfig")
    group.add_argument("--context", help="the kubeconfig context (default: the current one)")
    group.add_argument(
        "--in-cluster",
        action="store_true",
        help="the cluster this pod runs in, with its service account",
    )
    group.add_argument(
        "--watch-namespace",
        action="append",
        metavar="NAMESPACE",
        help="watch only this namespace (repeatable; default: all namespaces)",
    )
    group.add_argument(
        "--publish-status-address",
        action="append",
        metavar="IP|HOSTNAME",
        help="write this address to status.loadBalancer of the Ingresses served, from the "
        "replica that holds the leader Lease (repeatable; default: no status is written)",
    )
    group.add_argument(
        "--publish-service",
        metavar="NAMESPACE/NAME",
        help="write the addresses of this Service (the one in front of the gateway: its load "
        "balancer's, external or cluster IPs) to status.loadBalancer of the Ingresses served, "
        "replacing what was there, from the Lease holder",
    )
    group.add_argument(
        "--election-id",
        default="ingresslib-leader",
        metavar="NAME",
        help="the Lease that elects the replica writing status (default: %(default)s)",
    )
    group.add_argument(
        "--election-namespace",
        metavar="NAMESPACE",
        help="the Lease's namespace (default: $POD_NAMESPACE, the pod's namespace, or default)",
    )


def _cluster_config(args: argparse.Namespace) -> ClusterConfig | None:
    """The ClusterConfig of `serve`'s options, or None when it serves files.

    Raises:
        ValueError: no source, or both files and a cluster.
    """
    from ingresslib import server as _serve  # noqa: PLC0415 (imported by _serve() already)

    cluster = args.kubeconfig is not None or args.in_cluster
    if args.kubeconfig is not None and args.in_cluster:
        raise ValueError("--kubeconfig and --in-cluster exclude each other")
    if args.publish_service and args.publish_status_address:
        raise ValueError("--publish-service and --publish-status-address exclude each other")
    if cluster and args.paths:
        raise ValueError("serve manifest PATHs or a cluster (--kubeconfig/--in-cluster), not both")
    if not cluster and not args.paths:
        raise ValueError("nothing to serve: give manifest PATHs, --kubeconfig PATH or --in-cluster")
    cluster_only = {
        "--context": args.context,
        "--watch-namespace": args.watch_namespace,
        "--publish-status-address": args.publish_status_address,
        "--publish-service": args.publish_service,
        "--election-namespace": args.election_namespace,
    }
    if not cluster:
        given = [name for name, value in cluster_only.items() if value]
        if given:
            raise ValueError(f"{', '.join(given)} need --kubeconfig or --in-cluster")
        return None
    return _serve.ClusterConfig(
        kubeconfig=args.kubeconfig,
        in_cluster=args.in_cluster,
        context=args.context,
        namespaces=tuple(args.watch_namespace) if args.watch_namespace else None,
        publish_status_addresses=tuple(args.publish_status_address or ()),
        publish_service=args.publish_service,
        election_id=args.election_id,
        election_namespace=args.election_namespace,
    )


def _add_table_options(parser: argparse.ArgumentParser) -> None:
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
        "--implementation-specific",
        default="prefix",
        metavar="MATCHER",
        help="path matcher for ImplementationSpecific paths (default: %(default)s)",
    )


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ingresslib", description="Kubernetes Ingress semantics for Python."
    )
    parser.add_argument("--version", action="version", version=f"ingresslib {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser(
        "check",
        help="validate manifests as the kube-apiserver would, summarise and lint them",
    )
    check.add_argument("paths", nargs="+", help="manifest files or directories")
    _add_table_options(check)
    check.set_defaults(handler=_check)
    routes = commands.add_parser("routes", help="print the compiled route table")
    routes.add_argument("paths", nargs="+", help="manifest files or directories")
    _add_table_options(routes)
    routes.set_defaults(handler=_routes)
    explain = commands.add_parser(
        "explain", help="show which backend a URL reaches and why (exit 3: no route)"
    )
    explain.add_argument(
        "paths_and_url", nargs="+", metavar="PATH... URL", help="manifests, then the URL"
    )
    _add_table_options(explain)
    explain.set_defaults(handler=_explain)
    serve = commands.add_parser(
        "serve",
        help="serve manifests (or a cluster) as a reverse proxy, following their changes",
        usage="%(prog)s [options] (PATH... | --kubeconfig PATH | --in-cluster)",
    )
    serve.add_argument("paths", nargs="*", help="manifest files or directories")
    _add_table_options(serve)
    _add_serve_options(serve)
    _add_cluster_options(serve)
    serve.set_defaults(handler=_serve)
    return parser


def main(
    argv: Sequence[str] | None = None, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    """Run the command line; return the exit status (0 ok, 1 problems found, 3 no route).

    Usage errors exit with status 2 through argparse's `SystemExit`.
    """
    args = _parser().parse_args(argv)
    status: int = args.handler(args, out or sys.stdout, err or sys.stderr)
    return status


def run() -> None:
    """Console-script entry point: run `main` and exit with its status."""
    sys.exit(main())
