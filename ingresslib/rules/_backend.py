"""A backend reference of the route IR: the same for every API."""

from __future__ import annotations

from typing import Any

import attrs

__all__ = ["Backend"]


@attrs.frozen
class Backend:
    """A backend reference, the same for every API.

    Attributes:
        name: the referenced object's name (a Service's name).
        namespace: its namespace ("" for the controller's default backend: the namespace
            the executor is configured with).
        port: the Service port number, or None when the reference names its port.
        port_name: the port's name, when it is referenced by name.
        kind: "Service", or the kind of another referenced resource.
        group: the API group of that kind ("" for the core group).
        origin: the API's own backend object (an `IngressBackend` for Ingress rules).
    """

    name: str
    namespace: str
    port: int | None = None
    port_name: str | None = None
    kind: str = "Service"
    group: str = ""
    origin: Any = attrs.field(default=None, eq=False, repr=False)

    def describe(self) -> str:
        """`name:port` (or `Kind name` for a resource backend), as messages show it."""
        if self.kind != "Service" or self.group:
            return f"{self.kind} {self.name}"
        port = self.port if self.port is not None else self.port_name
        return f"{self.name}:{port}"
