"""From a backend to a live endpoint: resolution and balancers (pure: no IO)."""

from ingresslib.endpoints._balancer import Balancer, BalancerBase, EndpointState, HealthPolicy
from ingresslib.endpoints._load import LeastRequest, PeakEwma
from ingresslib.endpoints._model import (
    Endpoint,
    EndpointSet,
    Resolution,
    Unresolved,
    UnresolvedReason,
)
from ingresslib.endpoints._resolve import EndpointIndex, resolve_endpoints
from ingresslib.endpoints._simple import (
    RandomBalancer,
    RoundRobin,
    SmoothWeightedRoundRobin,
    WeightedRandom,
)

__all__ = [
    "Balancer",
    "BalancerBase",
    "Endpoint",
    "EndpointIndex",
    "EndpointSet",
    "EndpointState",
    "HealthPolicy",
    "LeastRequest",
    "PeakEwma",
    "RandomBalancer",
    "Resolution",
    "RoundRobin",
    "SmoothWeightedRoundRobin",
    "Unresolved",
    "UnresolvedReason",
    "WeightedRandom",
    "resolve_endpoints",
]
