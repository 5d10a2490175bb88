"""The Prometheus metrics of `ingresslib serve`, and their children per route and backend.

Exposed on the admin listener's `/metrics` (`ingresslib.server._admin`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from ingresslib.routing import RouteMatch

__all__ = ["Metrics", "Series", "SeriesCache", "route_labels"]


class Metrics:
    """The Prometheus metrics of one server, in a registry of its own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ingresslib_requests",
            "Requests answered, by route, backend and status.",
            ["route", "backend", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ingresslib_request_duration_seconds",
            "Time from the request to the end of the response, by route and backend.",
            ["route", "backend"],
            registry=self.registry,
        )
        self.refusals = Counter(
            "ingresslib_ratelimit_refusals",
            "Requests refused by the rate limit (429), by route.",
            ["route"],
            registry=self.registry,
        )
        self.upstream_errors = Counter(
            "ingresslib_upstream_errors",
            "Failed attempts to reach an endpoint, by backend and resulting status (502/504).",
            ["backend", "status"],
            registry=self.registry,
        )
        self.reloads = Counter(
            "ingresslib_config_reloads",
            "Configuration reloads, by result (ok, error).",
            ["result"],
            registry=self.registry,
        )
        self.last_reload_ok = Gauge(
            "ingresslib_config_last_reload_successful",
            "1 when the last reload was valid, 0 when the last good configuration is kept.",
            registry=self.registry,
        )
        self.routes = Gauge(
            "ingresslib_routes", "Routes in the current table.", registry=self.registry
        )


#: (the match, its requests counter child, its latency histogram child, its backend label)
Series = tuple["RouteMatch | None", Counter, Histogram, str]


def route_labels(match: RouteMatch | None, namespace: str) -> tuple[str, str]:
    """The route and backend labels of a match: ("shop.example.test/api", "demo/api:80").

    A default backend's route is "HOST (default)", the catch-all's "* (default)"; no match is
    "(none)" for both.
    """
    if match is None:
        return "(none)", "(none)"
    host = match.host or "*"
    route = f"{host}{match.path}" if match.path is not None else f"{host} (default)"
    ns = match.ingress.metadata.namespace if match.ingress is not None else namespace
    return route, f"{ns}/{match.backend.describe()}"


class SeriesCache:
    """The metric children (and backend label) of each match and status, remembered.

    PERF: building the labels and looking the children up costs a few µs per request; the
    matches of a table are long-lived objects, so (id, status) finds them again. The match is
    kept in the entry and compared, so an id reused after a swap never hits.

    Args:
        metrics: the metrics whose children are kept.
        namespace: the namespace of backends that come from no Ingress (for the labels).
    """

    #: The most entries kept; the cache starts again empty when it is full.
    SIZE = 4096

    def __init__(self, metrics: Metrics, namespace: str) -> None:
        self.metrics = metrics
        self.namespace = namespace
        self._entries: dict[tuple[int, int], Series] = {}

    def get(self, match: RouteMatch | None, status: int) -> Series:
        """The series of `match` answered with `status`."""
        key = (id(match), status)
        series = self._entries.get(key)
        if series is None or series[0] is not match:
            route, backend = route_labels(match, self.namespace)
            series = (
                match,
                self.metrics.requests.labels(route, backend, str(status)),
                self.metrics.latency.labels(route, backend),
                backend,
            )
            if len(self._entries) >= self.SIZE:
                self._entries.clear()
            self._entries[key] = series
        return series

    def clear(self) -> None:
        """Forget every entry (after a swap: let the old table's matches go)."""
        self._entries.clear()
