"""networking.k8s.io/v1: Ingress and IngressClass.

Field names are the Python (snake_case) spelling of the API's JSON names; the converter
maps them. Where Go uses a plain string, an absent field is ``""``; where Go uses a
pointer, an absent field is ``None``.
"""

from __future__ import annotations

from typing import ClassVar

import attrs

from ingresslib.resources._meta import ResourceBase

__all__ = [
    "DEFAULT_CLASS_ANNOTATION",
    "LEGACY_CLASS_ANNOTATION",
    "HTTPIngressPath",
    "HTTPIngressRuleValue",
    "Ingress",
    "IngressBackend",
    "IngressClass",
    "IngressClassParametersReference",
    "IngressClassSpec",
    "IngressLoadBalancerIngress",
    "IngressLoadBalancerStatus",
    "IngressPortStatus",
    "IngressRule",
    "IngressServiceBackend",
    "IngressSpec",
    "IngressStatus",
    "IngressTLS",
    "PathType",
    "ServiceBackendPort",
    "TypedLocalObjectReference",
]

#: "ingressclass.kubernetes.io/is-default-class ... can be used to indicate that an
#: IngressClass should be considered default. When a single IngressClass resource has this
#: annotation set to true, new Ingress resources without a class specified will be assigned
#: this default class." (IngressClass API reference)
DEFAULT_CLASS_ANNOTATION = "ingressclass.kubernetes.io/is-default-class"

#: The annotation that named a class before `spec.ingressClassName` existed.
LEGACY_CLASS_ANNOTATION = "kubernetes.io/ingress.class"


class PathType:
    """The values of `HTTPIngressPath.pathType`."""

    #: "Matches the URL path exactly and with case sensitivity."
    EXACT: ClassVar[str] = "Exact"
    #: "Matches based on a URL path prefix split by '/'. Matching is case sensitive and done
    #: on a path element by element basis."
    PREFIX: ClassVar[str] = "Prefix"
    #: "Interpretation of the Path matching is up to the IngressClass."
    IMPLEMENTATION_SPECIFIC: ClassVar[str] = "ImplementationSpecific"
    #: Every supported value, in the order the API documents them.
    ALL: ClassVar[tuple[str, ...]] = ("Exact", "ImplementationSpecific", "Prefix")


@attrs.frozen
class ServiceBackendPort:
    """`IngressServiceBackend.port`: a port by number or by name, never both."""

    name: str = ""
    number: int = 0


@attrs.frozen
class IngressServiceBackend:
    """A Service as a backend: `backend.service`."""

    name: str = ""
    port: ServiceBackendPort = attrs.field(factory=ServiceBackendPort)


@attrs.frozen
class TypedLocalObjectReference:
    """`backend.resource`: an object in the Ingress's namespace (a bucket, a static site...)."""

    kind: str = ""
    name: str = ""
    api_group: str | None = None


@attrs.frozen
class IngressBackend:
    """Where traffic goes: exactly one of `service` or `resource`."""

    service: IngressServiceBackend | None = None
    resource: TypedLocalObjectReference | None = None

    def describe(self) -> str:
        """Return a short human form: `service:port` or `Kind/name`."""
        if self.service is not None:
            port = self.service.port.name or str(self.service.port.number)
            return f"{self.service.name}:{port}"
        if self.resource is not None:
            group = f"{self.resource.api_group}/" if self.resource.api_group else ""
            return f"{group}{self.resource.kind}/{self.resource.name}"
        return "<no backend>"


@attrs.frozen
class HTTPIngressPath:
    """One path of a rule: `spec.rules[i].http.paths[j]`."""

    path: str = ""
    path_type: str | None = None
    backend: IngressBackend = attrs.field(factory=IngressBackend)


@attrs.frozen
class HTTPIngressRuleValue:
    """`spec.rules[i].http`."""

    paths: tuple[HTTPIngressPath, ...] = ()


@attrs.frozen
class IngressRule:
    """`spec.rules[i]`: a host (or every host) and its HTTP paths."""

    host: str = ""
    http: HTTPIngressRuleValue | None = None


@attrs.frozen
class IngressTLS:
    """`spec.tls[i]`: hosts served with the certificate in `secret_name`."""

    hosts: tuple[str, ...] = ()
    secret_name: str = ""


@attrs.frozen
class IngressSpec:
    """`spec` of an Ingress."""

    ingress_class_name: str | None = None
    default_backend: IngressBackend | None = None
    tls: tuple[IngressTLS, ...] = ()
    rules: tuple[IngressRule, ...] = ()


@attrs.frozen
class IngressPortStatus:
    """`status.loadBalancer.ingress[i].ports[j]`."""

    port: int = 0
    protocol: str = ""
    error: str | None = None


@attrs.frozen
class IngressLoadBalancerIngress:
    """`status.loadBalancer.ingress[i]`: an address the Ingress is reachable at."""

    ip: str = ""
    hostname: str = ""
    ports: tuple[IngressPortStatus, ...] = ()


@attrs.frozen
class IngressLoadBalancerStatus:
    """`status.loadBalancer`."""

    ingress: tuple[IngressLoadBalancerIngress, ...] = ()


@attrs.frozen
class IngressStatus:
    """`status` of an Ingress."""

    load_balancer: IngressLoadBalancerStatus = attrs.field(factory=IngressLoadBalancerStatus)


@attrs.frozen
class Ingress(ResourceBase):
    """A networking.k8s.io/v1 Ingress."""

    api_version: ClassVar[str] = "networking.k8s.io/v1"
    kind: ClassVar[str] = "Ingress"

    spec: IngressSpec = attrs.field(factory=IngressSpec)
    status: IngressStatus = attrs.field(factory=IngressStatus)

    @property
    def class_name(self) -> str | None:
        """The class this Ingress asks for: `spec.ingressClassName`, else the legacy annotation."""
        if self.spec.ingress_class_name is not None:
            return self.spec.ingress_class_name
        return self.metadata.annotations.get(LEGACY_CLASS_ANNOTATION)


@attrs.frozen
class IngressClassParametersReference:
    """`spec.parameters` of an IngressClass."""

    kind: str = ""
    name: str = ""
    api_group: str | None = None
    scope: str | None = None
    namespace: str | None = None


@attrs.frozen
class IngressClassSpec:
    """`spec` of an IngressClass."""

    controller: str = ""
    parameters: IngressClassParametersReference | None = None


@attrs.frozen
class IngressClass(ResourceBase):
    """A networking.k8s.io/v1 IngressClass (cluster-scoped)."""

    api_version: ClassVar[str] = "networking.k8s.io/v1"
    kind: ClassVar[str] = "IngressClass"
    namespaced: ClassVar[bool] = False

    spec: IngressClassSpec = attrs.field(factory=IngressClassSpec)

    @property
    def is_default(self) -> bool:
        """Whether the is-default-class annotation is exactly "true"."""
        return self.metadata.annotations.get(DEFAULT_CLASS_ANNOTATION) == "true"
