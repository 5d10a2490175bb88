"""discovery.k8s.io/v1: EndpointSlice."""

from __future__ import annotations

from typing import ClassVar

import attrs

from ingresslib.resources._meta import ResourceBase

__all__ = [
    "SERVICE_NAME_LABEL",
    "Endpoint",
    "EndpointConditions",
    "EndpointHints",
    "EndpointPort",
    "EndpointSlice",
    "ForNode",
    "ForZone",
]

#: "kubernetes.io/service-name ... indicates the name of the service that this
#: EndpointSlice belongs to."
SERVICE_NAME_LABEL = "kubernetes.io/service-name"


@attrs.frozen
class EndpointConditions:
    """`endpoints[i].conditions`. ``None`` means the field is absent, which is not ``False``.

    Attributes:
        ready: "indicates that this endpoint is ready to receive traffic, according to
            whatever system is managing the endpoint. A nil value should be interpreted as
            "true"."
        serving: "indicates that this endpoint is able to receive traffic, according to
            whatever system is managing the endpoint. For endpoints backed by pods, the
            EndpointSlice controller will mark the endpoint as serving if the pod's Ready
            condition is True. A nil value should be interpreted as "true"."
        terminating: "indicates that this endpoint is terminating. A nil value should be
            interpreted as "false"."
    """

    ready: bool | None = None
    serving: bool | None = None
    terminating: bool | None = None

    @property
    def is_ready(self) -> bool:
        """`ready`, nil read as true."""
        return self.ready is not False

    @property
    def is_serving(self) -> bool:
        """`serving`, nil read as true."""
        return self.serving is not False

    @property
    def is_terminating(self) -> bool:
        """`terminating`, nil read as false."""
        return self.terminating is True


@attrs.frozen
class ForZone:
    """`hints.forZones[i]`."""

    name: str = ""


@attrs.frozen
class ForNode:
    """`hints.forNodes[i]`."""

    name: str = ""


@attrs.frozen
class EndpointHints:
    """`endpoints[i].hints`: topology-aware routing hints."""

    for_zones: tuple[ForZone, ...] = ()
    for_nodes: tuple[ForNode, ...] = ()


@attrs.frozen
class Endpoint:
    """`endpoints[i]` of an EndpointSlice."""

    addresses: tuple[str, ...] = ()
    conditions: EndpointConditions = attrs.field(factory=EndpointConditions)
    hostname: str | None = None
    node_name: str | None = None
    zone: str | None = None
    hints: EndpointHints | None = None


@attrs.frozen
class EndpointPort:
    """`ports[i]` of an EndpointSlice. Absent `name` means the Service port had no name ("")."""

    name: str | None = None
    port: int | None = None
    protocol: str | None = None
    app_protocol: str | None = None


@attrs.frozen
class EndpointSlice(ResourceBase):
    """A discovery.k8s.io/v1 EndpointSlice."""

    api_version: ClassVar[str] = "discovery.k8s.io/v1"
    kind: ClassVar[str] = "EndpointSlice"

    address_type: str = ""
    endpoints: tuple[Endpoint, ...] = ()
    ports: tuple[EndpointPort, ...] = ()

    @property
    def service_name(self) -> str | None:
        """The Service this slice belongs to (the `kubernetes.io/service-name` label)."""
        return self.metadata.labels.get(SERVICE_NAME_LABEL)
