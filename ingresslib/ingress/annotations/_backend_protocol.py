"""`backend-protocol`: HTTP (the default), HTTPS, AUTO_HTTP to the endpoints.

backendprotocol/main.go: the value (the template upper-cases it, `buildProxyPass`):
`HTTPS` -> `proxy_pass https://`, `AUTO_HTTP` -> `$scheme://`, `GRPC`/`GRPCS` ->
`grpc_pass`, `FCGI` -> `fastcgi_pass`; anything else, or a validation error, is HTTP.
gRPC and FastCGI backends are not implemented here: their paths answer 503 (forwarding
them as HTTP/1.1 could only fail), with an error in `check`.
"""

from __future__ import annotations

import attrs

from ingresslib.ingress.annotations._values import (
    NGINX_PREFIX,
    AnnotationReader,
    Ignored,
    Invalid,
)
from ingresslib.plugins._annotations import (
    NOTHING,
    PHASE_CONTENT,
    AnnotationContext,
    Contribution,
)
from ingresslib.resources._networking import Ingress
from ingresslib.rules._policies import UpstreamProtocol

__all__ = ["BackendProtocolPlugin"]


@attrs.frozen
class BackendProtocolPlugin:
    """The UpstreamProtocol policy of an Ingress's backends."""

    name: str = "nginx.ingress.kubernetes.io/backend-protocol"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = frozenset({NGINX_PREFIX + "backend-protocol"})
    phase: int = PHASE_CONTENT
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """HTTPS or AUTO_HTTP as a policy; gRPC and FastCGI denied; HTTP nothing."""
        del context
        reader = AnnotationReader(ingress)
        try:
            value = (reader.string("backend-protocol") or "HTTP").upper()
        except (Invalid, Ignored) as error:
            return Contribution(
                problems=(reader.warning(error.annotation, f"{error.reason}; using HTTP"),)
            )
        if value == "HTTPS":
            return Contribution(filters=(UpstreamProtocol("https"),))
        if value == "AUTO_HTTP":
            return Contribution(filters=(UpstreamProtocol("auto"),))
        if value in ("GRPC", "GRPCS", "FCGI"):
            return reader.deny("backend-protocol", f"backend-protocol {value} is not implemented")
        if value != "HTTP":
            return Contribution(
                problems=(reader.warning("backend-protocol", f"{value!r}: using HTTP"),)
            )
        return NOTHING
