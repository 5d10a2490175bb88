"""Sans-IO pieces every executor shares (ASGI forwarder, aiohttp proxy, `ingresslib serve`).

No IO and no asyncio: `normalize_path` and `split_target` (RFC 3986, RFC 9112, with nginx's
answers where the RFCs leave a choice), `validate_host` (nginx's `ngx_http_validate_host`),
the header rules of a forwarding hop (hop-by-hop fields, X-Forwarded-*, trusted proxies),
the canned responses executors answer with, and `escape_log_value` (nginx's
`escape=default`). A `BadRequest` is to be answered with 400. docs/proxy.md has the rules.
"""

from ingresslib.proxy._external_auth import AuthOutcome, auth_outcome, auth_request
from ingresslib.proxy._headers import (
    FORWARDING_FIELDS,
    HOP_BY_HOP,
    PROTECTED_FROM_CONNECTION,
    REQUEST_ONLY,
    SERVER_OWNED,
    WEBSOCKET_HANDSHAKE,
    TrustedProxies,
    connection_tokens,
    forward_request_headers,
    forward_response_headers,
    is_upgrade,
    is_websocket,
    websocket_close_code,
)
from ingresslib.proxy._hosts import validate_host
from ingresslib.proxy._log import escape_log_value
from ingresslib.proxy._paths import (
    BadRequest,
    EncodedSlashPolicy,
    PathPolicy,
    normalize_path,
    split_target,
)
from ingresslib.proxy._plan import (
    choose_backend,
    edit_headers,
    mirror_selected,
    request_changes,
    response_changes,
    upstream_scheme,
)
from ingresslib.proxy._policies import ADMITTED, Admission, PolicyHandler, PolicyRunner
from ingresslib.proxy._responses import (
    BAD_GATEWAY,
    GATEWAY_TIMEOUT,
    INVALID_BACKEND,
    NO_ENDPOINT,
    NOT_FOUND,
    TOO_MANY,
    UNAVAILABLE,
    Canned,
    FailureKind,
    canned,
    decision_response,
    failure_response,
    unresolved,
)

__all__ = [
    "ADMITTED",
    "BAD_GATEWAY",
    "FORWARDING_FIELDS",
    "GATEWAY_TIMEOUT",
    "HOP_BY_HOP",
    "INVALID_BACKEND",
    "NOT_FOUND",
    "NO_ENDPOINT",
    "PROTECTED_FROM_CONNECTION",
    "REQUEST_ONLY",
    "SERVER_OWNED",
    "TOO_MANY",
    "UNAVAILABLE",
    "WEBSOCKET_HANDSHAKE",
    "Admission",
    "AuthOutcome",
    "BadRequest",
    "Canned",
    "EncodedSlashPolicy",
    "FailureKind",
    "PathPolicy",
    "PolicyHandler",
    "PolicyRunner",
    "TrustedProxies",
    "auth_outcome",
    "auth_request",
    "canned",
    "choose_backend",
    "connection_tokens",
    "decision_response",
    "edit_headers",
    "escape_log_value",
    "failure_response",
    "forward_request_headers",
    "forward_response_headers",
    "is_upgrade",
    "is_websocket",
    "mirror_selected",
    "normalize_path",
    "request_changes",
    "response_changes",
    "split_target",
    "unresolved",
    "upstream_scheme",
    "validate_host",
    "websocket_close_code",
]
