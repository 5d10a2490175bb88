"""`ingresslib serve`: the options of `ingresslib.server`, and running it.

aiohttp and prometheus-client (the `serve` extra) are imported only when serving.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, TextIO

from ingresslib.cli._tables import add_table_options

if TYPE_CHECKING:  # aiohttp and prometheus-client are imported only when serving
    from ingresslib.server import ClusterConfig

__all__ = ["add_parser", "run"]


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `ingresslib serve (PATH... | --kubeconfig PATH | --in-cluster)`."""
    serve = commands.add_parser(
        "serve",
        help="serve manifests (or a cluster) as a reverse proxy, following their changes",
        usage="%(prog)s [options] (PATH... | --kubeconfig PATH | --in-cluster)",
    )
    serve.add_argument("paths", nargs="*", help="manifest files or directories")
    # No --gateway: serve routes Ingresses (the Gateways of its classes are its own).
    add_table_options(serve, gateway=False)
    _add_serve_options(serve)
    _add_cluster_options(serve)
    serve.set_defaults(handler=run)


def run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Serve until SIGINT or SIGTERM (`ingresslib.server.serve`); 2 for a usage error."""
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
            gateways=tuple(args.gateway or ()),
            listener_ports=tuple(_serve.parse_listener_port(v) for v in args.listener_port),
            gateway_host=args.gateway_host,
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
        "--gateway",
        action="append",
        metavar="NAMESPACE/NAME",
        help="Gateway API: serve this Gateway's listeners instead of the Ingresses "
        "(repeatable; with --controller, only if its GatewayClass names it)",
    )
    parser.add_argument(
        "--listener-port",
        action="append",
        default=[],
        metavar="LISTENER=LOCAL",
        help="with --gateway: bind the Gateway listener port LISTENER on the local port "
        "LOCAL, e.g. 80=8080 (repeatable; a port not named is bound as it is)",
    )
    parser.add_argument(
        "--gateway-host",
        default="127.0.0.1",
        metavar="HOST",
        help="with --gateway: the address the listener ports are bound on (default: %(default)s)",
    )
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
