"""ingresslib: Kubernetes Ingress semantics for Python.

Load manifests into typed, validated resources and route requests as Ingress does::

    import ingresslib

    resources = ingresslib.load_manifests("manifests/")
    table = ingresslib.RouteTable.build(resources)
    match = table.match("shop.example.com", "/api/orders")
    if match is not None:
        print(match.backend.describe(), "from", match.ingress)
"""

from ingresslib._version import __version__
from ingresslib.gatewayapi import GatewayNotFoundError, GatewayStatusReport, gateway_status
from ingresslib.resources import (
    EndpointSlice,
    FrozenMap,
    Gateway,
    GatewayClass,
    GRPCRoute,
    HTTPRoute,
    Ingress,
    IngressBackend,
    IngressClass,
    ManifestError,
    ManifestProblem,
    Namespace,
    ObjectMeta,
    PathType,
    ReferenceGrant,
    Resource,
    ResourceSet,
    Secret,
    Service,
    SkippedDocument,
    UnsupportedKindWarning,
    load_manifests,
)
from ingresslib.routing import (
    Decision,
    DecisionPolicy,
    Explanation,
    Request,
    RouteMatch,
    RouteTable,
    RouteTableError,
)
from ingresslib.rules import Backend, WeightedBackend

__all__ = [
    "Backend",
    "Decision",
    "DecisionPolicy",
    "EndpointSlice",
    "Explanation",
    "FrozenMap",
    "GRPCRoute",
    "Gateway",
    "GatewayClass",
    "GatewayNotFoundError",
    "GatewayStatusReport",
    "HTTPRoute",
    "Ingress",
    "IngressBackend",
    "IngressClass",
    "ManifestError",
    "ManifestProblem",
    "Namespace",
    "ObjectMeta",
    "PathType",
    "ReferenceGrant",
    "Request",
    "Resource",
    "ResourceSet",
    "RouteMatch",
    "RouteTable",
    "RouteTableError",
    "Secret",
    "Service",
    "SkippedDocument",
    "UnsupportedKindWarning",
    "WeightedBackend",
    "__version__",
    "gateway_status",
    "load_manifests",
]
