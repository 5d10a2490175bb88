"""Manifest builders: the dicts of Ingresses, IngressClasses, Services, EndpointSlices, Secrets.

Each builder returns a plain dict, as `yaml.safe_load` would give it, for `load_manifests`
(or a kube-apiserver); only what is asked for is written, so that a test reads as the object
it builds. Namespaces are left out unless given (`load_manifests(namespace=...)` fills them).
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

__all__ = [
    "Manifest",
    "endpoint_slice",
    "ingress",
    "ingress_class",
    "ingress_path",
    "ingress_rule",
    "ingress_tls",
    "service",
    "service_backend",
    "tls_secret",
]

#: A Kubernetes object (or a part of one) as a dict.
Manifest = dict[str, Any]

#: A path of an Ingress rule: a dict (`ingress_path()`), or (path, pathType, Service name).
PathSpec = Manifest | tuple[str, str, str]

_SERVICE_NAME_LABEL = "kubernetes.io/service-name"


def _metadata(
    name: str,
    namespace: str | None,
    labels: Mapping[str, str] | None = None,
    annotations: Mapping[str, str] | None = None,
    created: str | None = None,
) -> Manifest:
    metadata: Manifest = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    if labels:
        metadata["labels"] = dict(labels)
    if annotations:
        metadata["annotations"] = dict(annotations)
    if created is not None:
        metadata["creationTimestamp"] = created
    return metadata


def service_backend(name: str, port: int | str = 80) -> Manifest:
    """An IngressBackend naming a Service and its port.

    Args:
        name: the Service's name.
        port: the Service port's number (an int) or name (a str).

    Returns:
        `{"service": {"name": name, "port": {"number": port}}}` (or `{"name": port}`).
    """
    key = "number" if isinstance(port, int) else "name"
    return {"service": {"name": name, "port": {key: port}}}


def ingress_path(
    path: str, service: str, *, path_type: str = "Prefix", port: int | str = 80
) -> Manifest:
    """An HTTPIngressPath: `path` of `path_type` to the Service `service`.

    Args:
        path: the rule path, e.g. "/api".
        service: the backend Service's name.
        path_type: "Exact", "Prefix" or "ImplementationSpecific".
        port: the Service port's number or name.
    """
    return {"path": path, "pathType": path_type, "backend": service_backend(service, port)}


def ingress_rule(host: str | None, *paths: PathSpec) -> Manifest:
    """An IngressRule for `host` (None: every host) with `paths`.

    Args:
        host: the rule's host, e.g. "shop.example.com" or "*.example.com"; None for none.
        *paths: each an `ingress_path()` dict or a (path, pathType, Service) tuple, whose
            backend is the Service's port 80.

    Returns:
        The rule; without paths it has no `http` section (it still claims its host).
    """
    rule: Manifest = {} if host is None else {"host": host}
    if paths:
        rule["http"] = {
            "paths": [
                p if isinstance(p, dict) else ingress_path(p[0], p[2], path_type=p[1])
                for p in paths
            ]
        }
    return rule


def ingress_tls(secret_name: str, *hosts: str) -> Manifest:
    """An IngressTLS entry: the hosts whose certificate is the TLS Secret `secret_name`."""
    return {"hosts": list(hosts), "secretName": secret_name}


def ingress(
    name: str,
    rules: Iterable[Manifest] = (),
    *,
    namespace: str | None = None,
    default_backend: str | Manifest | None = None,
    ingress_class: str | None = None,
    tls: Iterable[Manifest] = (),
    annotations: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    created: str | None = None,
) -> Manifest:
    """A networking.k8s.io/v1 Ingress.

    Example::

        ingress(
            "shop",
            [ingress_rule("shop.example.com", ("/api", "Prefix", "api"), ("/", "Exact", "web"))],
            tls=[ingress_tls("shop-tls", "shop.example.com")],
        )

    Args:
        name: the Ingress's name.
        rules: its rules (`ingress_rule()`).
        namespace: its namespace (None: left to `load_manifests`).
        default_backend: `spec.defaultBackend`: a Service name (its port 80) or a backend
            dict (`service_backend()`).
        ingress_class: `spec.ingressClassName`.
        tls: its `spec.tls` entries (`ingress_tls()`).
        annotations: `metadata.annotations`.
        labels: `metadata.labels`.
        created: `metadata.creationTimestamp`, e.g. "2024-01-01T00:00:00Z" (the oldest
            Ingress wins identical claims).
    """
    spec: Manifest = {}
    if ingress_class is not None:
        spec["ingressClassName"] = ingress_class
    if default_backend is not None:
        spec["defaultBackend"] = (
            service_backend(default_backend)
            if isinstance(default_backend, str)
            else default_backend
        )
    tls_entries = list(tls)
    if tls_entries:
        spec["tls"] = tls_entries
    spec["rules"] = list(rules)
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": _metadata(name, namespace, labels, annotations, created),
        "spec": spec,
    }


def ingress_class(name: str, controller: str, *, default: bool = False) -> Manifest:
    """A networking.k8s.io/v1 IngressClass of `controller`.

    Args:
        name: the class's name (what `spec.ingressClassName` names).
        controller: `spec.controller`, e.g. "example.com/ingress-controller".
        default: annotate it as the cluster's default class.
    """
    annotations = {"ingressclass.kubernetes.io/is-default-class": "true"} if default else None
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": _metadata(name, None, annotations=annotations),
        "spec": {"controller": controller},
    }


def service(
    name: str,
    *,
    namespace: str | None = None,
    port: int = 80,
    target_port: int | str = 8080,
    port_name: str = "http",
    ports: Sequence[Manifest] | None = None,
    **spec: Any,
) -> Manifest:
    """A v1 Service with one port (or `ports`).

    Args:
        name: the Service's name.
        namespace: its namespace (None: left to `load_manifests`).
        port: the Service port.
        target_port: the endpoints' port (a number or a container port's name).
        port_name: the port's name (EndpointSlice ports are matched by it).
        ports: the whole `spec.ports` instead of the one port above.
        **spec: more of `spec`, as the API spells it (e.g. `type="ExternalName"`).
    """
    if ports is None:
        ports = [{"name": port_name, "port": port, "targetPort": target_port}]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": _metadata(name, namespace),
        "spec": {"ports": [dict(p) for p in ports], **spec},
    }


def endpoint_slice(
    service_name: str,
    endpoints: Iterable[str | Manifest],
    *,
    name: str | None = None,
    namespace: str | None = None,
    port: int = 8080,
    port_name: str = "http",
    ports: Sequence[Manifest] | None = None,
    address_type: str = "IPv4",
) -> Manifest:
    """A discovery.k8s.io/v1 EndpointSlice of the Service `service_name`.

    Args:
        service_name: the Service it belongs to (its `kubernetes.io/service-name` label).
        endpoints: each an address (a ready endpoint) or an endpoint dict as the API spells
            it (`{"addresses": [...], "conditions": {...}, "zone": ...}`).
        name: the slice's name (default: `<service_name>-1`).
        namespace: its namespace (None: left to `load_manifests`).
        port: the endpoints' port.
        port_name: the port's name (the Service port of the same name maps to it).
        ports: the whole `ports` list instead of the one port above.
        address_type: "IPv4", "IPv6" or "FQDN".
    """
    if ports is None:
        ports = [{"name": port_name, "port": port, "protocol": "TCP"}]
    return {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": _metadata(
            name if name is not None else f"{service_name}-1",
            namespace,
            labels={_SERVICE_NAME_LABEL: service_name},
        ),
        "addressType": address_type,
        "endpoints": [
            {"addresses": [e], "conditions": {"ready": True}} if isinstance(e, str) else dict(e)
            for e in endpoints
        ],
        "ports": [dict(p) for p in ports],
    }


def tls_secret(
    name: str, certificate: bytes | str, key: bytes | str, *, namespace: str | None = None
) -> Manifest:
    """A v1 Secret of type kubernetes.io/tls (what `spec.tls[].secretName` names).

    Args:
        name: the Secret's name.
        certificate: the PEM certificate chain (`tls.crt`), leaf first.
        key: the PEM private key (`tls.key`).
        namespace: its namespace (None: left to `load_manifests`).
    """

    def encoded(data: bytes | str) -> str:
        raw = data.encode() if isinstance(data, str) else data
        return base64.b64encode(raw).decode("ascii")

    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": _metadata(name, namespace),
        "type": "kubernetes.io/tls",
        "data": {"tls.crt": encoded(certificate), "tls.key": encoded(key)},
    }
