"""ingresslib: Kubernetes Ingress semantics for Python.

Load manifests into typed, validated resources::

    import ingresslib

    resources = ingresslib.load_manifests("manifests/")
    for ingress in resources.ingresses:
        print(ingress.ref, [rule.host for rule in ingress.spec.rules])
"""

from ingresslib._version import __version__
from ingresslib.resources import (
    EndpointSlice,
    FrozenMap,
    Ingress,
    IngressBackend,
    IngressClass,
    ManifestError,
    ManifestProblem,
    ObjectMeta,
    PathType,
    Resource,
    ResourceSet,
    Secret,
    Service,
    SkippedDocument,
    UnsupportedKindWarning,
    load_manifests,
)

__all__ = [
    "EndpointSlice",
    "FrozenMap",
    "Ingress",
    "IngressBackend",
    "IngressClass",
    "ManifestError",
    "ManifestProblem",
    "ObjectMeta",
    "PathType",
    "Resource",
    "ResourceSet",
    "Secret",
    "Service",
    "SkippedDocument",
    "UnsupportedKindWarning",
    "__version__",
    "load_manifests",
]
