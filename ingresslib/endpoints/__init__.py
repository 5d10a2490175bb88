"""From a backend to a live endpoint: resolution and balancers (pure: no IO)."""

from ingresslib.endpoints._affinity import AffinityMode, CookieAffinity, persistent_cookie_value
from ingresslib.endpoints._balancer import Balancer, BalancerBase, EndpointState, HealthPolicy
from ingresslib.endpoints._hashing import Maglev, RingHash, hash64
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
    "AffinityMode",
    "Balancer",
    "BalancerBase",
    "CookieAffinity",
    "Endpoint",
    "EndpointIndex",
    "EndpointSet",
    "EndpointState",
    "HealthPolicy",
    "LeastRequest",
    "Maglev",
    "PeakEwma",
    "RandomBalancer",
    "Resolution",
    "RingHash",
    "RoundRobin",
    "SmoothWeightedRoundRobin",
    "Unresolved",
    "UnresolvedReason",
    "WeightedRandom",
    "hash64",
    "persistent_cookie_value",
    "resolve_endpoints",
]
