"""Gateway API -> route IR: attachment, hostname intersection, filters, precedence.

The second front-end of the route IR (the first is `ingresslib.ingress`). `attach()`
decides which routes attach to which listeners of a Gateway and which references resolve
(one computation for routing and for status); `GatewayFrontEnd` compiles the attached
routes into one `ingresslib.rules.Scope` per listener, which
`ingresslib.RouteTable.build(resources, gateway="ns/name")` serves.
"""

from ingresslib.gatewayapi._attachment import (
    NAMESPACE_NAME_LABEL,
    SUPPORTED_PROTOCOLS,
    AttachedListener,
    BackendResolution,
    GatewayAttachment,
    ListenerState,
    ParentAttachment,
    Route,
    attach,
    reference_permitted,
    resolve_backend,
)
from ingresslib.gatewayapi._frontend import (
    FULL_REGEX_MATCHER,
    GatewayFrontEnd,
    GatewayNotFoundError,
    parse_duration,
    rule_problems,
    select_gateway,
)
from ingresslib.gatewayapi._status import GatewayStatusReport, ParentKey, gateway_status

__all__ = [
    "FULL_REGEX_MATCHER",
    "NAMESPACE_NAME_LABEL",
    "SUPPORTED_PROTOCOLS",
    "AttachedListener",
    "BackendResolution",
    "GatewayAttachment",
    "GatewayFrontEnd",
    "GatewayNotFoundError",
    "GatewayStatusReport",
    "ListenerState",
    "ParentAttachment",
    "ParentKey",
    "Route",
    "attach",
    "gateway_status",
    "parse_duration",
    "reference_permitted",
    "resolve_backend",
    "rule_problems",
    "select_gateway",
]
