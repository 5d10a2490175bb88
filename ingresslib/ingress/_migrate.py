"""Ingresses (with ingress-nginx annotations) -> Gateway API: what the standard can say.

`migrate()` writes, for the Ingresses a controller would serve, one Gateway (an `http`
listener on port 80 and an HTTPS listener per TLS host, with ReferenceGrants for
certificates in other namespaces) and HTTPRoutes, and a precise report of what it cannot
say, each note naming the Ingress and the field (`spec.rules[0].host`,
`metadata.annotations[...]`).

What it translates, and why it is the same routing (Kubernetes `networking/v1` and the
Gateway API v1 spec):

- `Exact` -> `Exact`, `Prefix` -> `PathPrefix` (both match whole path elements, and a
  trailing "/" of the rule path is ignored by both); `ImplementationSpecific` -> `PathPrefix`
  when the table reads it as Prefix (the default). Precedence agrees: Ingress ranks the
  longest path first and Exact before Prefix of the same length; Gateway API ranks Exact
  first, then the longest prefix — and an Exact path that matches a request is never
  shorter than a matching prefix.
- `spec.defaultBackend` -> a `PathPrefix /` rule on the Ingress's hosts (the shortest
  prefix: it answers only what no other path of the host matches), and, for the oldest
  such Ingress, a route without hostnames for the hosts no Ingress claims.
- TLS hosts with `ssl-redirect` (on by default) -> their rules on the HTTPS listeners, and
  on the `http` listener a `RequestRedirect` to https with 308 (ingress-nginx's
  `return 308 https://$redirect_host$request_uri`); `ssl-redirect: "false"` -> the rules
  on both.
- `upstream-vhost` -> `URLRewrite.hostname`; `x-forwarded-prefix` -> a
  `RequestHeaderModifier` setting `X-Forwarded-Prefix`.

Where the two cannot agree, the note says so and `Migration.exact` is False: wildcard
hosts (`*.foo.com` covers one label for Ingress, one or more for Gateway API), rules
without a host next to rules with one (Gateway API falls through to them, Ingress does
not), claims of one host and path by several Ingresses (ranked by creation time, which an
applied HTTPRoute does not keep), named ports of unknown Services, and every annotation
without a Gateway API equivalent.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from ingresslib.ingress._frontend import select_ingresses
from ingresslib.resources._core import Service
from ingresslib.resources._meta import age_key
from ingresslib.resources._networking import Ingress, IngressBackend, IngressClass, PathType
from ingresslib.rules._hosts import normalize_host

__all__ = ["MIGRATED_ANNOTATIONS", "Migration", "MigrationNote", "migrate"]

_NGINX = "nginx.ingress.kubernetes.io/"
_GATEWAY_API = "gateway.networking.k8s.io/v1"
_GRANT_API = "gateway.networking.k8s.io/v1beta1"

#: The annotations `migrate` translates (any other ingress-nginx annotation is reported).
MIGRATED_ANNOTATIONS = frozenset(
    _NGINX + name
    for name in ("ssl-redirect", "preserve-trailing-slash", "upstream-vhost", "x-forwarded-prefix")
)


@attrs.frozen
class MigrationNote:
    """One thing the migration says about an Ingress.

    Attributes:
        ingress: "namespace/name".
        field: the field concerned (`spec.rules[0].host`, `metadata.annotations[...]`).
        reason: what the migrated routes do differently, or what was left out.
        exact: True for a note that changes nothing (information only).
    """

    ingress: str
    field: str
    reason: str
    exact: bool = False

    def __str__(self) -> str:
        kind = "note" if self.exact else "differs"
        return f"{kind}: Ingress {self.ingress}: {self.field}: {self.reason}"


@attrs.frozen
class Migration:
    """The Gateway API manifests of some Ingresses, and what they cannot say.

    Attributes:
        manifests: the Gateway, ReferenceGrants and HTTPRoutes, as manifest dicts.
        notes: every note, in Ingress order.
    """

    manifests: tuple[dict[str, Any], ...]
    notes: tuple[MigrationNote, ...]

    @property
    def exact(self) -> bool:
        """Whether the routes decide requests as the Ingresses do (no note says otherwise).

        Every plain HTTP request, and every HTTPS request to a TLS host.
        """
        return all(note.exact for note in self.notes)


def migrate(
    resources: Iterable[object],
    *,
    gateway: str = "default/ingresslib",
    gateway_class: str = "ingresslib",
    controller: str | None = None,
    ingress_class: str | None = None,
    watch_without_class: bool = False,
) -> Migration:
    """The Gateway API form of the Ingresses a controller serves.

    Args:
        resources: the loaded resources (Ingresses, IngressClasses, Services are read).
        gateway: "namespace/name" of the Gateway to write.
        gateway_class: its `gatewayClassName`.
        controller: select Ingresses as `RouteTable.build` does.
        ingress_class: select Ingresses as `RouteTable.build` does.
        watch_without_class: select Ingresses as `RouteTable.build` does.
    """
    resources = list(resources)
    selected, _ = select_ingresses(
        (r for r in resources if isinstance(r, Ingress)),
        (r for r in resources if isinstance(r, IngressClass)),
        controller=controller,
        ingress_class=ingress_class,
        watch_without_class=watch_without_class,
    )
    selected.sort(key=age_key)
    services = {
        (r.metadata.namespace, r.metadata.name): r for r in resources if isinstance(r, Service)
    }
    writer = _Writer(gateway, gateway_class, services)
    for ingress in selected:
        writer.listeners_of(ingress)
    writer.check_claims(selected)
    for ingress in selected:
        writer.routes_of(ingress)
    writer.catch_all(selected)
    manifests = (writer.gateway(), *writer.grants(), *writer.routes)
    return Migration(manifests, tuple(writer.notes))


class _Writer:
    def __init__(self, gateway: str, gateway_class: str, services: dict[Any, Service]) -> None:
        namespace, _, name = gateway.partition("/")
        if not name:
            namespace, name = "default", namespace
        self.namespace = namespace
        self.name = name
        self.gateway_class = gateway_class
        self.services = services
        self.notes: list[MigrationNote] = []
        self.routes: list[dict[str, Any]] = []
        # TLS host -> (listener name, secret namespace, secret name)
        self.tls: dict[str, tuple[str, str, str]] = {}
        self._grant_secrets: set[tuple[str, str]] = set()

    def note(self, ingress: Ingress, field: str, reason: str, *, exact: bool = False) -> None:
        meta = ingress.metadata
        self.notes.append(MigrationNote(f"{meta.namespace}/{meta.name}", field, reason, exact))

    # --- the Gateway ----------------------------------------------------------------------

    def listeners_of(self, ingress: Ingress) -> None:
        namespace = ingress.metadata.namespace
        for index, tls in enumerate(ingress.spec.tls):
            if not tls.hosts:
                self.note(
                    ingress,
                    f"spec.tls[{index}].hosts",
                    "a TLS entry without hosts (the controller's default certificate) has "
                    "no listener",
                )
                continue
            for host in tls.hosts:
                name = normalize_host(host)
                if not name or name in self.tls or not tls.secret_name:
                    continue
                self.tls[name] = (f"https-{len(self.tls)}", namespace, tls.secret_name)

    def gateway(self) -> dict[str, Any]:
        listeners: list[dict[str, Any]] = [
            {
                "name": "http",
                "port": 80,
                "protocol": "HTTP",
                "allowedRoutes": {"namespaces": {"from": "All"}},
            }
        ]
        for host, (listener, namespace, secret) in self.tls.items():
            reference: dict[str, Any] = {"kind": "Secret", "name": secret}
            if namespace != self.namespace:
                reference["namespace"] = namespace
                self._grant_secrets.add((namespace, secret))
            listeners.append(
                {
                    "name": listener,
                    "hostname": host,
                    "port": 443,
                    "protocol": "HTTPS",
                    "tls": {"mode": "Terminate", "certificateRefs": [reference]},
                    "allowedRoutes": {"namespaces": {"from": "All"}},
                }
            )
        return {
            "apiVersion": _GATEWAY_API,
            "kind": "Gateway",
            "metadata": {"name": self.name, "namespace": self.namespace},
            "spec": {"gatewayClassName": self.gateway_class, "listeners": listeners},
        }

    def grants(self) -> list[dict[str, Any]]:
        """The ReferenceGrants of the certificates `gateway()` refers to in other namespaces."""
        by_namespace: dict[str, list[str]] = {}
        for namespace, secret in sorted(self._grant_secrets):
            by_namespace.setdefault(namespace, []).append(secret)
        return [
            {
                "apiVersion": _GRANT_API,
                "kind": "ReferenceGrant",
                "metadata": {"name": f"{self.name}-certificates", "namespace": namespace},
                "spec": {
                    "from": [
                        {
                            "group": "gateway.networking.k8s.io",
                            "kind": "Gateway",
                            "namespace": self.namespace,
                        }
                    ],
                    "to": [{"group": "", "kind": "Secret", "name": s} for s in secrets],
                },
            }
            for namespace, secrets in by_namespace.items()
        ]

    # --- what cannot be said ----------------------------------------------------------------

    def check_claims(self, ingresses: list[Ingress]) -> None:
        claims: dict[tuple[str, str, str], tuple[Ingress, str]] = {}
        hosts_with_rules = False
        hostless: Ingress | None = None
        for ingress in ingresses:
            for index, rule in enumerate(ingress.spec.rules):
                host = rule.host.lower()
                if host.startswith("*."):
                    self.note(
                        ingress,
                        f"spec.rules[{index}].host",
                        f"{host}: an Ingress wildcard covers one label, a Gateway API "
                        "wildcard one or more",
                    )
                if host:
                    hosts_with_rules = True
                else:
                    hostless = hostless or ingress
                paths = rule.http.paths if rule.http is not None else ()
                keys = [
                    (host, _kind(p.path_type), _prefix_key(p.path, p.path_type), p.path or "/")
                    for p in paths
                ]
                if ingress.spec.default_backend is not None and host:
                    keys.append((host, "prefix", "/", "(defaultBackend)"))
                for host_key, kind, path_key, written in keys:
                    first, first_written = claims.setdefault(
                        (host_key, kind, path_key), (ingress, written)
                    )
                    if first is not ingress:
                        self.note(
                            ingress,
                            f"spec.rules[{index}]",
                            f"{host_key or '*'} {path_key} is claimed by Ingress "
                            f"{first.metadata.namespace}/{first.metadata.name} too: Ingress "
                            "ranks them by creation time, which applied HTTPRoutes do not keep",
                        )
                    elif first_written != written and "(defaultBackend)" not in (
                        first_written,
                        written,
                    ):
                        self.note(
                            ingress,
                            f"spec.rules[{index}]",
                            f"{first_written} and {written} are one prefix: Ingress takes the "
                            "first, Gateway API the longer",
                        )
        defaults = any(i.spec.default_backend is not None for i in ingresses)
        if hostless is not None and (hosts_with_rules or defaults):
            self.note(
                hostless,
                "spec.rules",
                "a rule without a host: Gateway API also falls through to it for hosts "
                "that other routes claim, and from it to the catch-all; Ingress does not",
            )

    def annotations_of(self, ingress: Ingress) -> None:
        for name in sorted(ingress.metadata.annotations):
            if name.startswith(_NGINX) and name not in MIGRATED_ANNOTATIONS:
                self.note(
                    ingress,
                    f"metadata.annotations[{name}]",
                    "no Gateway API equivalent is written for this annotation",
                )

    # --- the routes -----------------------------------------------------------------------

    def routes_of(self, ingress: Ingress) -> None:
        self.annotations_of(ingress)
        meta = ingress.metadata
        annotations = meta.annotations
        redirect = annotations.get(_NGINX + "ssl-redirect", "true") not in (
            "false", "False", "0", "f", "F", "FALSE",
        )  # fmt: skip
        own_tls = {
            name for tls in ingress.spec.tls for host in tls.hosts if (name := normalize_host(host))
        }
        preserve = annotations.get(_NGINX + "preserve-trailing-slash", "false") in (
            "true", "True", "1", "t", "T", "TRUE",
        )  # fmt: skip
        if redirect and own_tls and not preserve:
            self.note(
                ingress,
                f"metadata.annotations[{_NGINX}preserve-trailing-slash]",
                'ingress-nginx drops the "/" that ends the target of its HTTPS redirect '
                "(https://host/a/ -> https://host/a); a RequestRedirect keeps it",
            )
        for name in sorted(own_tls):
            if name.startswith("*.") and redirect:
                self.note(
                    ingress,
                    "spec.tls",
                    f"the HTTPS redirect of the hosts {name} covers is not written",
                )
        filters = self._filters(ingress)
        plain: dict[str, list[dict[str, Any]]] = {}
        secure: dict[str, list[dict[str, Any]]] = {}
        hosts = list(dict.fromkeys(rule.host.lower() for rule in ingress.spec.rules))
        for index, rule in enumerate(ingress.spec.rules):
            host = rule.host.lower()
            target = secure if redirect and host in own_tls and host in self.tls else plain
            rules = target.setdefault(host, [])
            for j, path in enumerate(rule.http.paths if rule.http is not None else ()):
                field = f"spec.rules[{index}].http.paths[{j}]"
                match = self._match(ingress, path.path, path.path_type, field)
                rules.append(_rule(match, self._backend_ref(ingress, path.backend, field), filters))
        default = ingress.spec.default_backend
        if default is not None:
            backend = self._backend_ref(ingress, default, "spec.defaultBackend")
            for host in hosts:
                if host:
                    target = secure if redirect and host in own_tls and host in self.tls else plain
                    target.setdefault(host, []).append(
                        _rule({"path": {"type": "PathPrefix", "value": "/"}}, backend, filters)
                    )
        for host, rules in plain.items():
            if rules:
                self._route(ingress, "", host, rules, None)
        for host, rules in secure.items():
            if rules:
                self._route(ingress, "-https", host, rules, self.tls[host][0])
                # The same matches on the http listener, redirected: they rank against the
                # other routes of the host as the Ingress's paths do.
                redirects = [{"matches": rule["matches"], "filters": [_HTTPS]} for rule in rules]
                self._route(ingress, "-redirect", host, redirects, "http")

    def catch_all(self, ingresses: list[Ingress]) -> None:
        """The oldest default backend answers the hosts no Ingress claims."""
        for ingress in ingresses:
            default = ingress.spec.default_backend
            if default is None:
                continue
            backend = self._backend_ref(ingress, default, "spec.defaultBackend")
            match = {"path": {"type": "PathPrefix", "value": "/"}}
            filters = self._filters(ingress)
            self._route(ingress, "-default", "", [_rule(match, backend, filters)], None)
            claimed = {rule.host.lower() for i in ingresses for rule in i.spec.rules}
            uncovered = sorted(
                host
                for host in claimed
                if host
                and not any(
                    i.spec.default_backend is not None
                    and host in {r.host.lower() for r in i.spec.rules}
                    for i in ingresses
                )
            )
            if uncovered:
                self.note(
                    ingress,
                    "spec.defaultBackend",
                    f"hosts without a default backend of their own ({', '.join(uncovered)}) "
                    "answer 404 for unmatched paths with Ingress; Gateway API falls "
                    "through to this catch-all",
                )
            return

    def _route(
        self,
        ingress: Ingress,
        suffix: str,
        host: str,
        rules: list[dict[str, Any]],
        section: str | None,
    ) -> None:
        meta = ingress.metadata
        parent: dict[str, Any] = {"name": self.name, "namespace": self.namespace}
        if section is not None:
            parent["sectionName"] = section
        # One route per Ingress host: a route's rules then rank against other routes'
        # as the Ingress's paths rank against other Ingresses' of the same host.
        label = host.replace("*", "wildcard") if host else "any"
        spec: dict[str, Any] = {"parentRefs": [parent], "rules": rules}
        if host:
            spec["hostnames"] = [host]
        self.routes.append(
            {
                "apiVersion": _GATEWAY_API,
                "kind": "HTTPRoute",
                "metadata": {
                    "name": _name(f"{meta.name}{suffix}-{label}"),
                    "namespace": meta.namespace,
                },
                "spec": spec,
            }
        )

    def _filters(self, ingress: Ingress) -> tuple[dict[str, Any], ...]:
        annotations = ingress.metadata.annotations
        filters: list[dict[str, Any]] = []
        vhost = annotations.get(_NGINX + "upstream-vhost")
        if vhost:
            # `proxy_set_header Host <upstream-vhost>;`
            filters.append({"type": "URLRewrite", "urlRewrite": {"hostname": vhost.strip()}})
        prefix = annotations.get(_NGINX + "x-forwarded-prefix")
        if prefix and prefix.strip() and _NGINX + "rewrite-target" in annotations:
            # `proxy_set_header X-Forwarded-Prefix "<x-forwarded-prefix>";`, written by
            # ingress-nginx beside the rewrite only (`buildProxyPass`): without a
            # rewrite-target the annotation does nothing, and neither does the migration.
            filters.append(
                {
                    "type": "RequestHeaderModifier",
                    "requestHeaderModifier": {
                        "set": [{"name": "X-Forwarded-Prefix", "value": prefix.strip()}]
                    },
                }
            )
        return tuple(filters)

    def _match(
        self, ingress: Ingress, path: str, path_type: str | None, field: str
    ) -> dict[str, Any]:
        value = path or "/"
        if "//" in value or not value.startswith("/"):
            # Gateway API paths are absolute and hold no empty segment.
            self.note(ingress, f"{field}.path", f"{path!r} is not a Gateway API path")
            value = "/" + "/".join(part for part in value.split("/") if part)
        if path_type == PathType.EXACT:
            return {"path": {"type": "Exact", "value": value}}
        return {"path": {"type": "PathPrefix", "value": value}}

    def _backend_ref(self, ingress: Ingress, backend: IngressBackend, field: str) -> dict[str, Any]:
        namespace = ingress.metadata.namespace
        service = backend.service
        if service is None:
            resource = backend.resource
            assert resource is not None  # the apiserver requires one of them
            self.note(ingress, f"{field}.resource", "a resource backend has no Gateway API route")
            return {"group": resource.api_group or "", "kind": resource.kind, "name": resource.name}
        port = service.port.number
        if service.port.name:
            found = self.services.get((namespace, service.name))
            numbers = (
                [p.port for p in found.spec.ports if p.name == service.port.name] if found else []
            )
            if not numbers:
                self.note(
                    ingress,
                    f"{field}.service.port.name",
                    f"the port {service.port.name!r} of Service {service.name} is unknown: "
                    "Gateway API backendRefs need the number",
                )
                return {"name": service.name, "port": 1}
            port = numbers[0]
        return {"name": service.name, "port": port}


# ingress-nginx: `return 308 https://$redirect_host$request_uri;`
_HTTPS = {"type": "RequestRedirect", "requestRedirect": {"scheme": "https", "statusCode": 308}}


def _kind(path_type: str | None) -> str:
    return "exact" if path_type == PathType.EXACT else "prefix"


def _prefix_key(path: str, path_type: str | None) -> str:
    if path_type == PathType.EXACT:
        return path or "/"
    return (path or "/").rstrip("/") or "/"


def _rule(
    match: dict[str, Any], backend: dict[str, Any], filters: Iterable[dict[str, Any]]
) -> dict[str, Any]:
    rule: dict[str, Any] = {"matches": [match], "backendRefs": [backend]}
    if filters:
        rule["filters"] = list(filters)
    return rule


def _name(text: str) -> str:
    """A DNS subdomain name (253 characters at most, lower case, no '_')."""
    cleaned = "".join(c if c.isalnum() or c in "-." else "-" for c in text.lower())
    return cleaned.strip("-.")[:253] or "route"
