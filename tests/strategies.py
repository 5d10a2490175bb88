"""Hypothesis strategies for valid Kubernetes manifests in their canonical JSON form.

"Canonical" means what `Resource.to_dict()` returns: empty and default fields omitted,
namespaces filled in, times in whole seconds UTC. Loading such a manifest and dumping it
again must give it back unchanged.
"""

from __future__ import annotations

import base64
import datetime
from typing import Any

from hypothesis import strategies as st

__all__ = [
    "dns_label",
    "dns_subdomain",
    "endpoint_slices",
    "hosts",
    "ingress_classes",
    "ingresses",
    "manifests",
    "object_meta",
    "paths",
    "secrets",
    "services",
]

Manifest = dict[str, Any]

dns_label = st.from_regex(r"[a-z]([-a-z0-9]{0,8}[a-z0-9])?", fullmatch=True)
dns_subdomain = st.lists(dns_label, min_size=1, max_size=3).map(".".join)
hosts = st.one_of(dns_subdomain, dns_subdomain.map(lambda host: f"*.{host}"))
port_names = st.from_regex(r"[a-z][a-z0-9]{0,6}", fullmatch=True)
port_numbers = st.integers(min_value=1, max_value=65535)
path_segments = st.from_regex(r"[A-Za-z0-9_~-]{1,6}", fullmatch=True)
paths = st.builds(
    lambda segments, slash: "/" + "/".join(segments) + ("/" if slash and segments else ""),
    st.lists(path_segments, max_size=4),
    st.booleans(),
)
timestamps = st.datetimes(
    min_value=datetime.datetime(2000, 1, 1), max_value=datetime.datetime(2099, 12, 31)
).map(lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%SZ"))
label_keys = st.one_of(
    st.from_regex(r"[A-Za-z0-9]([-A-Za-z0-9_.]{0,6}[A-Za-z0-9])?", fullmatch=True),
    st.builds(
        lambda prefix, name: f"{prefix}/{name}",
        dns_subdomain,
        st.from_regex(r"[a-z0-9]{1,6}", fullmatch=True),
    ),
)
label_values = st.from_regex(r"([A-Za-z0-9]([-A-Za-z0-9_.]{0,6}[A-Za-z0-9])?)?", fullmatch=True)


def _drop_empty(mapping: dict[str, Any]) -> dict[str, Any]:
    """Omit what `to_dict()` omits: None, "" and empty collections."""
    return {k: v for k, v in mapping.items() if v not in (None, "", [], {})}


def object_meta(*, namespaced: bool = True, name: st.SearchStrategy[str] = dns_subdomain) -> Any:
    """Strategy for `metadata`."""
    return st.builds(
        lambda name, namespace, labels, annotations, created, uid, version, generation: _drop_empty(
            {
                "name": name,
                "namespace": namespace if namespaced else None,
                "labels": labels,
                "annotations": annotations,
                "creationTimestamp": created,
                "uid": uid,
                "resourceVersion": version,
                "generation": generation,
            }
        ),
        name,
        dns_label,
        st.dictionaries(label_keys, label_values, max_size=3),
        st.dictionaries(label_keys, st.text(max_size=10), max_size=2),
        st.none() | timestamps,
        st.none() | st.uuids().map(str),
        st.none() | st.integers(1, 10**6).map(str),
        st.none() | st.integers(0, 100),
    )


service_ports = st.one_of(
    port_names.map(lambda name: {"name": name}),
    port_numbers.map(lambda number: {"number": number}),
)
service_backends = st.builds(
    lambda name, port: {"service": {"name": name, "port": port}}, dns_label, service_ports
)
resource_backends = st.builds(
    lambda group, kind, name: {
        "resource": _drop_empty({"apiGroup": group, "kind": kind, "name": name})
    },
    st.none() | dns_subdomain,
    st.sampled_from(["StorageBucket", "ConfigMap", "Site"]),
    dns_subdomain,
)
backends = st.one_of(service_backends, service_backends, resource_backends)


def _http_path(path_type: str, path: str, backend: dict[str, Any]) -> dict[str, Any]:
    return {"path": path, "pathType": path_type, "backend": backend}


http_paths = st.builds(
    _http_path, st.sampled_from(["Exact", "Prefix", "ImplementationSpecific"]), paths, backends
)
rules = st.builds(
    lambda host, http: _drop_empty({"host": host, "http": {"paths": http} if http else None}),
    st.none() | hosts,
    st.lists(http_paths, min_size=1, max_size=3) | st.none(),
)
tls = st.builds(
    lambda tls_hosts, secret: _drop_empty({"hosts": tls_hosts, "secretName": secret}),
    st.lists(hosts, max_size=2),
    st.none() | dns_subdomain,
)
lb_ingress = st.builds(
    lambda ip, hostname, ports: _drop_empty({"ip": ip, "hostname": hostname, "ports": ports}),
    st.none() | st.ip_addresses().map(str),
    st.none() | dns_subdomain,
    st.lists(
        st.builds(
            lambda port, proto: {"port": port, "protocol": proto},
            port_numbers,
            st.sampled_from(["TCP", "UDP"]),
        ),
        max_size=2,
    ),
)


def _ingress(meta: Any, spec: dict[str, Any], status: list[Any]) -> Manifest:
    manifest: Manifest = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": meta,
        "spec": _drop_empty(spec),
    }
    if status:
        manifest["status"] = {"loadBalancer": {"ingress": status}}
    return manifest


def _ingress_spec(
    class_name: str | None, default: Any, tls_items: list[Any], rule_items: list[Any]
) -> dict[str, Any]:
    if not rule_items and default is None:
        rule_items = [{"host": "example.com"}]
    return {
        "ingressClassName": class_name,
        "defaultBackend": default,
        "tls": tls_items,
        "rules": rule_items,
    }


ingresses = st.builds(
    _ingress,
    object_meta(),
    st.builds(
        _ingress_spec,
        st.none() | dns_subdomain,
        st.none() | backends,
        st.lists(tls, max_size=2),
        st.lists(rules, max_size=4),
    ),
    st.lists(lb_ingress, max_size=2),
)

ingress_classes = st.builds(
    lambda meta, controller, params: {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "IngressClass",
        "metadata": meta,
        "spec": _drop_empty({"controller": controller, "parameters": params}),
    },
    object_meta(namespaced=False),
    st.builds(lambda domain, path: f"{domain}/{path}", dns_subdomain, dns_label),
    st.none()
    | st.builds(
        lambda group, kind, name, namespace: _drop_empty(
            {
                "apiGroup": group,
                "kind": kind,
                "name": name,
                "scope": "Namespace" if namespace else "Cluster",
                "namespace": namespace,
            }
        ),
        st.none() | dns_subdomain,
        st.sampled_from(["IngressParameters", "Config"]),
        dns_subdomain,
        st.none() | dns_label,
    ),
)


def _service_ports(numbers: list[int], names: list[str], targets: list[Any]) -> list[Any]:
    ports = []
    for index, number in enumerate(numbers):
        port: dict[str, Any] = {"port": number, "protocol": "TCP"}
        if len(numbers) > 1:
            port["name"] = f"{names[index % len(names)]}{index}"
        target = targets[index % len(targets)]
        if target is not None:
            port["targetPort"] = target
        ports.append(port)
    return ports


services = st.builds(
    lambda meta, ports, selector, publish, distribution: {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": meta,
        "spec": _drop_empty(
            {
                "ports": ports,
                "selector": selector,
                "publishNotReadyAddresses": publish or None,
                "trafficDistribution": distribution,
            }
        ),
    },
    object_meta(name=dns_label),
    st.builds(
        _service_ports,
        st.lists(port_numbers, min_size=1, max_size=3, unique=True),
        st.lists(port_names, min_size=1, max_size=3),
        st.lists(st.none() | port_numbers | port_names, min_size=1, max_size=3),
    ),
    st.dictionaries(label_keys, label_values, max_size=2),
    st.booleans(),
    st.none() | st.sampled_from(["PreferClose", "PreferSameZone"]),
)

_conditions = st.builds(
    lambda ready, serving, terminating: _drop_empty(
        {"ready": ready, "serving": serving, "terminating": terminating}
    ),
    st.none() | st.booleans(),
    st.none() | st.booleans(),
    st.none() | st.booleans(),
)


def _endpoint(address: str, conditions: Any, zone: str | None, hints: list[str]) -> Any:
    return _drop_empty(
        {
            "addresses": [address],
            "conditions": conditions,
            "zone": zone,
            "hints": {"forZones": [{"name": z} for z in hints]} if hints else None,
        }
    )


endpoint_slices = st.sampled_from(["IPv4", "IPv6"]).flatmap(
    lambda family: st.builds(
        lambda meta, endpoints, ports: _drop_empty(
            {
                "apiVersion": "discovery.k8s.io/v1",
                "kind": "EndpointSlice",
                "metadata": meta,
                "addressType": family,
                "endpoints": endpoints,
                "ports": ports,
            }
        ),
        object_meta(),
        st.lists(
            st.builds(
                _endpoint,
                # Go counts IPv4-mapped IPv6 addresses as IPv4 (ip.To4() != nil), and the
                # apiserver refuses special-purpose addresses (ValidateNonSpecialIP).
                st.ip_addresses(v=4 if family == "IPv4" else 6)
                .filter(lambda ip: getattr(ip, "ipv4_mapped", None) is None)
                .filter(
                    lambda ip: (
                        not (
                            ip.is_loopback
                            or ip.is_unspecified
                            or ip.is_link_local
                            or ip.is_multicast
                        )
                    )
                )
                .map(str),
                _conditions,
                st.none() | dns_label,
                st.lists(dns_label, max_size=2),
            ),
            max_size=4,
        ),
        st.lists(
            st.builds(
                lambda name, port: _drop_empty({"name": name, "port": port, "protocol": "TCP"}),
                port_names,
                port_numbers,
            ),
            max_size=2,
            unique_by=lambda port: port.get("name"),
        ),
    )
)

secrets = st.builds(
    lambda meta, cert, key: {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": meta,
        "type": "kubernetes.io/tls",
        "data": {
            "tls.crt": base64.b64encode(cert).decode(),
            "tls.key": base64.b64encode(key).decode(),
        },
    },
    object_meta(),
    st.binary(max_size=64),
    st.binary(max_size=64),
)

manifests = st.one_of(ingresses, ingress_classes, services, endpoint_slices, secrets)
