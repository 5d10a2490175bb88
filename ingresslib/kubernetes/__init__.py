"""Follow a live cluster: LIST + WATCH into a store, publish `RouteTable` snapshots.

This is an edge of ingresslib: it does IO and needs the `kubernetes` extra
(`pip install 'ingresslib[kubernetes]'`, which brings kubernetes_asyncio). The package imports
without it; creating a `Watcher` then raises an ImportError that says so. See
docs/kubernetes.md.
"""

from ingresslib.kubernetes._client import Backoff, KindSpec
from ingresslib.kubernetes._gateway_status import GatewayStatusWriter
from ingresslib.kubernetes._lease import LeaderElector, StatusWriter, StatusWriterStats
from ingresslib.kubernetes._watcher import (
    GATEWAY_API_KINDS,
    KINDS,
    Snapshot,
    SnapshotCallback,
    Watcher,
    WatcherStats,
)

__all__ = [
    "GATEWAY_API_KINDS",
    "KINDS",
    "Backoff",
    "GatewayStatusWriter",
    "KindSpec",
    "LeaderElector",
    "Snapshot",
    "SnapshotCallback",
    "StatusWriter",
    "StatusWriterStats",
    "Watcher",
    "WatcherStats",
]
