"""Lint: what is valid to the apiserver but probably not what the author meant."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import attrs

from ingresslib.resources._core import Service
from ingresslib.resources._networking import Ingress, IngressBackend
from ingresslib.routing._table import RouteTable

__all__ = ["LintFinding", "lint"]


@attrs.frozen
class LintFinding:
    """One warning about the routing configuration.

    Attributes:
        ingress: `namespace/name` of the object concerned (an Ingress, unless `kind`
            says otherwise).
        field: the field path inside it ("" for the whole object).
        message: what is wrong.
        kind: the object's kind.
    """

    ingress: str
    field: str
    message: str
    kind: str = "Ingress"

    def __str__(self) -> str:
        where = f"{self.kind} {self.ingress}" + (f": {self.field}" if self.field else "")
        return f"{where}: {self.message}"


def _ref(ingress: Ingress) -> str:
    return f"{ingress.metadata.namespace}/{ingress.metadata.name}"


def lint(table: RouteTable, resources: Iterable[object]) -> list[LintFinding]:
    """Return the warnings for a table built from `resources`."""
    resources = list(resources)
    findings: list[LintFinding] = []
    findings += _identical_claims(table)
    findings += _unreachable_patterns(table)
    findings += _tls_hosts_without_rules(table)
    services = {
        (s.metadata.namespace, s.metadata.name): s for s in resources if isinstance(s, Service)
    }
    if services:
        findings += _missing_backends(table, services)
    findings.extend(
        LintFinding(_ref(i), "", f"no class selects it (class {i.class_name or 'unset'})")
        for i in table.ignored_ingresses
    )
    return findings


def _identical_claims(table: RouteTable) -> Iterator[LintFinding]:
    for conflict in table.conflicts():
        loser, winner = conflict.loser, conflict.winner
        if loser.source.kind != "Ingress" or winner.source.kind != "Ingress":
            # Another API's identical claims (Gateway API: the spec's precedence decides,
            # and `explain` shows it): said in that API's own words.
            yield LintFinding(
                f"{loser.source.namespace}/{loser.source.name}",
                loser.field,
                f"never used: host {loser.host or '*'!r} path {loser.match.path.value!r} with "
                f"the same conditions is also claimed by {winner.source} {winner.field}, "
                "which wins",
                kind=loser.source.kind,
            )
            continue
        yield LintFinding(
            _ref(loser.ingress),
            loser.field,
            f"never used: host {loser.host or '*'!r} path {loser.http_path.path!r} "
            f"({loser.http_path.path_type}) is also claimed by the older Ingress "
            f"{_ref(winner.ingress)} {winner.field}, which wins",
        )


def _unreachable_patterns(table: RouteTable) -> Iterator[LintFinding]:
    for vhost in table.virtual_hosts():
        root = vhost.top.children.get("")
        if root is None or root.route is None or not vhost.patterns:
            continue
        for route in vhost.patterns:
            if route.source.kind != "Ingress":
                continue
            yield LintFinding(
                _ref(route.ingress),
                route.field,
                f"shadowed: the {route.matcher} path {route.http_path.path!r} is consulted "
                f"only when no literal path matches, and Prefix '/' on host "
                f"{vhost.host or '*'!r} matches every path",
            )


def _tls_hosts_without_rules(table: RouteTable) -> Iterator[LintFinding]:
    hosts = {vhost.host for vhost in table.virtual_hosts()}
    for ingress in table.ingresses:
        for i, tls in enumerate(ingress.spec.tls):
            for j, host in enumerate(tls.hosts):
                parent = host.split(".", 1)[1] if "." in host else ""
                if host not in hosts and f"*.{parent}" not in hosts:
                    yield LintFinding(
                        _ref(ingress),
                        f"spec.tls[{i}].hosts[{j}]",
                        f"TLS host {host!r} has no rule: its certificate routes nothing",
                    )


def _missing_backends(
    table: RouteTable, services: dict[tuple[str, str], Service]
) -> Iterator[LintFinding]:
    def check(ingress: Ingress, field: str, backend: IngressBackend) -> Iterator[LintFinding]:
        if backend.service is None:
            return
        namespace = ingress.metadata.namespace
        service = services.get((namespace, backend.service.name))
        if service is None:
            yield LintFinding(
                _ref(ingress),
                f"{field}.service.name",
                f"Service {namespace}/{backend.service.name} does not exist",
            )
            return
        if service.effective_type == "ExternalName":
            return
        port = backend.service.port
        found = (
            service.port_by_name(port.name) if port.name else service.port_by_number(port.number)
        )
        if found is None:
            wanted = port.name or port.number
            yield LintFinding(
                _ref(ingress),
                f"{field}.service.port",
                f"Service {namespace}/{backend.service.name} has no port {wanted!r}",
            )

    for route in table.routes():
        # Gateway API backendRefs are checked by their status (ResolvedRefs), not here.
        if route.source.kind == "Ingress":
            yield from check(route.ingress, f"{route.field}.backend", route.http_path.backend)
    for ingress in table.ingresses:
        if ingress.spec.default_backend is not None:
            yield from check(ingress, "spec.defaultBackend", ingress.spec.default_backend)
