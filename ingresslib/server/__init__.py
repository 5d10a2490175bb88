"""`ingresslib serve`: the aiohttp ReverseProxy as a standalone process that follows its sources.

`serve(config)` loads the manifests (Ingress, IngressClass, Service, EndpointSlice, Secret),
builds a `RouteTable`, an `EndpointIndex` and a `CertificateStore`, and serves an
`ingresslib.aiohttp.ReverseProxy` on a plain-HTTP listener and a TLS listener (the certificate of
each SNI name comes from the current store). Certificate problems and lint warnings are logged
at start and at each reload.

The manifest files are polled every `poll_interval` seconds (their paths, sizes and mtimes: no
extra dependency). A change rebuilds everything from scratch: a valid set is swapped into the
gateway at once (table, index and certificates); an invalid one is logged with its
`ManifestError` text and the last good configuration keeps serving.

Each request is logged on the `ingresslib.access` logger (client, method, host, path, status,
backend, upstream address, duration) and counted in Prometheus metrics (prometheus-client),
exposed with `/healthz` on a separate admin listener. An optional limiter (`--rate-limit`)
refuses routed requests per client address with 429 and the same `RateLimit`, `Retry-After`
and `RateLimit-Policy` fields as `ingresslib.asgi.IngressMiddleware`. SIGINT and SIGTERM stop
the listeners and let in-flight requests finish.

The modules: `_config` (ServeConfig, ClusterConfig, Address, Snapshot, the option parsers),
the sources `_files` (manifest files, polled) and `_cluster` (a live cluster, through
`ingresslib.kubernetes`; imported when a cluster is followed), `_gateway` (the proxy, its
access log and rate limit), `_metrics`, `_admin` (`/metrics`, `/healthz`, `/readyz`),
`_listeners`, `_server` (the `Server` that ties them together) and `_run` (`serve`: the event
loop and the signals).

Needs aiohttp and prometheus-client (`pip install 'ingresslib[serve]'`). docs/serve.md
describes it in full.
"""

from ingresslib.server._config import (
    Address,
    ClusterConfig,
    ServeConfig,
    Snapshot,
    SourceError,
    assemble_snapshot,
    parse_address,
    parse_listener_port,
    parse_rate_limit,
)
from ingresslib.server._files import build_snapshot
from ingresslib.server._run import loop_factory, serve
from ingresslib.server._server import Server, SnapshotSource, open_server

__all__ = [
    "Address",
    "ClusterConfig",
    "ServeConfig",
    "Server",
    "Snapshot",
    "SnapshotSource",
    "SourceError",
    "assemble_snapshot",
    "build_snapshot",
    "loop_factory",
    "open_server",
    "parse_address",
    "parse_listener_port",
    "parse_rate_limit",
    "serve",
]
