"""core/v1: Service, Secret and Namespace."""

from __future__ import annotations

from typing import ClassVar

import attrs

from ingresslib.resources._frozenmap import FrozenMap
from ingresslib.resources._meta import ResourceBase

__all__ = [
    "NAMESPACE_NAME_LABEL",
    "TLS_CERT_KEY",
    "TLS_PRIVATE_KEY_KEY",
    "TLS_SECRET_TYPE",
    "IntOrString",
    "Namespace",
    "NamespaceSpec",
    "NamespaceStatus",
    "Secret",
    "Service",
    "ServiceLoadBalancerIngress",
    "ServiceLoadBalancerStatus",
    "ServicePort",
    "ServiceSpec",
    "ServiceStatus",
]

#: "IntOrString is a type that can hold an int32 or a string." (targetPort)
IntOrString = int | str

#: The Secret type for TLS material: "Required fields: Secret.Data["tls.key"] - TLS private
#: key. Secret.Data["tls.crt"] - TLS certificate."
TLS_SECRET_TYPE = "kubernetes.io/tls"
TLS_CERT_KEY = "tls.crt"
TLS_PRIVATE_KEY_KEY = "tls.key"

#: "kubernetes.io/metadata.name": the label the apiserver sets on every Namespace to its name
#: ("The Kubernetes control plane sets an immutable label kubernetes.io/metadata.name on all
#: namespaces"), so that a label selector can name namespaces.
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"


def _empty_str_map() -> FrozenMap[str, str]:
    return FrozenMap()


def _empty_bytes_map() -> FrozenMap[str, bytes]:
    return FrozenMap()


@attrs.frozen
class ServicePort:
    """`spec.ports[i]` of a Service."""

    name: str = ""
    protocol: str = ""
    port: int = 0
    target_port: IntOrString | None = None
    node_port: int = 0
    app_protocol: str | None = None


@attrs.frozen
class ServiceSpec:
    """`spec` of a Service (the fields a gateway needs)."""

    type: str = ""
    ports: tuple[ServicePort, ...] = ()
    selector: FrozenMap[str, str] = attrs.field(factory=_empty_str_map)
    cluster_ip: str = ""
    cluster_ips: tuple[str, ...] = ()
    external_name: str = ""
    publish_not_ready_addresses: bool = False
    session_affinity: str = ""
    internal_traffic_policy: str | None = None
    traffic_distribution: str | None = None
    ip_families: tuple[str, ...] = ()
    external_ips: tuple[str, ...] = ()


@attrs.frozen
class ServiceLoadBalancerIngress:
    """`status.loadBalancer.ingress[i]` of a Service: an address its load balancer has."""

    ip: str = ""
    hostname: str = ""


@attrs.frozen
class ServiceLoadBalancerStatus:
    """`status.loadBalancer` of a Service."""

    ingress: tuple[ServiceLoadBalancerIngress, ...] = ()


@attrs.frozen
class ServiceStatus:
    """`status` of a Service (the load balancer's addresses, for Ingress status)."""

    load_balancer: ServiceLoadBalancerStatus = attrs.field(factory=ServiceLoadBalancerStatus)


@attrs.frozen
class Service(ResourceBase):
    """A core/v1 Service."""

    api_version: ClassVar[str] = "v1"
    kind: ClassVar[str] = "Service"

    spec: ServiceSpec = attrs.field(factory=ServiceSpec)
    status: ServiceStatus = attrs.field(factory=ServiceStatus)

    @property
    def effective_type(self) -> str:
        """`spec.type` with the apiserver's default ("ClusterIP") applied."""
        return self.spec.type or "ClusterIP"

    def port_by_name(self, name: str) -> ServicePort | None:
        """Return the port called `name`, if any."""
        return next((p for p in self.spec.ports if p.name == name), None)

    def port_by_number(self, number: int) -> ServicePort | None:
        """Return the port whose `port` is `number`, if any."""
        return next((p for p in self.spec.ports if p.port == number), None)


@attrs.frozen
class Secret(ResourceBase):
    """A core/v1 Secret, `data` decoded from base64 (`stringData` merged in, as the apiserver does).

    TLS Secrets (`type: kubernetes.io/tls`) carry PEM bytes under `tls.crt` and `tls.key`.
    """

    api_version: ClassVar[str] = "v1"
    kind: ClassVar[str] = "Secret"

    type: str = ""
    data: FrozenMap[str, bytes] = attrs.field(factory=_empty_bytes_map)
    immutable: bool | None = None

    @property
    def effective_type(self) -> str:
        """`type` with the apiserver's default ("Opaque") applied."""
        return self.type or "Opaque"

    @property
    def is_tls(self) -> bool:
        """Whether this is a `kubernetes.io/tls` Secret."""
        return self.type == TLS_SECRET_TYPE

    @property
    def certificate_pem(self) -> bytes | None:
        """The PEM certificate chain under `tls.crt`, if present."""
        return self.data.get(TLS_CERT_KEY)

    @property
    def private_key_pem(self) -> bytes | None:
        """The PEM private key under `tls.key`, if present."""
        return self.data.get(TLS_PRIVATE_KEY_KEY)


@attrs.frozen
class NamespaceSpec:
    """`spec` of a Namespace.

    Attributes:
        finalizers: "Finalizers is an opaque list of values that must be empty to permanently
            remove object from storage."
    """

    finalizers: tuple[str, ...] = ()


@attrs.frozen
class NamespaceStatus:
    """`status` of a Namespace.

    Attributes:
        phase: "Phase is the current lifecycle phase of the namespace." ("Active" or
            "Terminating"; the apiserver defaults it to "Active")
    """

    phase: str = "Active"


@attrs.frozen
class Namespace(ResourceBase):
    """A core/v1 Namespace (cluster-scoped): its labels decide Gateway API `allowedRoutes`.

    The loader sets the `kubernetes.io/metadata.name` label to the name, as the apiserver does
    (`NAMESPACE_NAME_LABEL`).
    """

    api_version: ClassVar[str] = "v1"
    kind: ClassVar[str] = "Namespace"
    namespaced: ClassVar[bool] = False

    spec: NamespaceSpec = attrs.field(factory=NamespaceSpec)
    status: NamespaceStatus = attrs.field(factory=NamespaceStatus)

    @property
    def labels(self) -> FrozenMap[str, str]:
        """`metadata.labels`."""
        return self.metadata.labels
