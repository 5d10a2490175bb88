"""Endpoints as a gateway uses them: concrete `address:port` targets and sets of them."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import attrs

__all__ = ["Endpoint", "EndpointSet", "Resolution", "Unresolved", "UnresolvedReason"]


@attrs.frozen
class Endpoint:
    """One concrete target of a backend.

    Attributes:
        address: an IPv4 or IPv6 address, or a DNS name (ExternalName, FQDN slices).
        port: the port to connect to (the EndpointSlice port, i.e. the target port).
        zone: the endpoint's zone, if known.
        node_name: the node it runs on, if known.
        hostname: `endpoints[i].hostname`, if set.
        ready: the `ready` condition (nil read as true).
        serving: the `serving` condition (nil read as `ready`).
        terminating: the `terminating` condition (nil read as false).
        weight: a relative weight for weighted balancers (Kubernetes has none: 1).
    """

    address: str
    port: int
    zone: str | None = None
    node_name: str | None = None
    hostname: str | None = None
    ready: bool = True
    serving: bool = True
    terminating: bool = False
    weight: int = 1
    #: `address:port` (`[address]:port` for IPv6): the identity balancers keep state by.
    key: str = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        # PERF: computed once; report() and update() look endpoints up by it.
        key = (
            f"[{self.address}]:{self.port}"
            if ":" in self.address
            else f"{self.address}:{self.port}"
        )
        object.__setattr__(self, "key", key)

    def __str__(self) -> str:
        return self.key


@attrs.frozen
class EndpointSet:
    """The endpoints a backend's traffic may go to, as resolved at one moment.

    Attributes:
        service: `namespace/name` of the Service.
        port: the Service port's name, or its number as a string when it has no name.
        endpoints: the usable endpoints, in a stable order (never empty).
        address_type: "IPv4", "IPv6", "FQDN", or "mixed" for a dual-stack Service.
        fallback: True when no endpoint was ready and serving-but-terminating ones are
            used instead (kube-proxy's rule).
        topology: "zone" or "node" when topology hints narrowed the set, else None.
    """

    service: str
    port: str
    endpoints: tuple[Endpoint, ...]
    address_type: str = "IPv4"
    fallback: bool = False
    topology: Literal["zone", "node"] | None = None

    def __len__(self) -> int:
        return len(self.endpoints)

    def __iter__(self) -> Iterator[Endpoint]:
        return iter(self.endpoints)


#: Why a backend has no endpoint: the gateway answers 503 for each.
UnresolvedReason = Literal[
    "service-not-found",
    "port-not-found",
    "no-endpoint-slices",
    "no-endpoints",
    "not-a-service",
]


@attrs.frozen
class Unresolved:
    """A backend that resolves to no endpoint: a typed outcome, never an exception.

    Attributes:
        reason: the kind of failure.
        message: a sentence for logs and error pages.
    """

    reason: UnresolvedReason
    message: str

    def __bool__(self) -> bool:
        return False


#: What resolving a backend gives.
Resolution = EndpointSet | Unresolved
