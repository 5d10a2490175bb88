"""Sans-IO pieces every executor shares: request paths, hosts, responses, access-log escaping.

Pure functions (no IO, no asyncio): `normalize_path` and `split_target` (RFC 3986,
RFC 9112, with nginx's answers where the RFCs leave a choice), `validate_host` (nginx's
`ngx_http_validate_host`), `escape_log_value` (nginx's `escape=default`), and the canned
responses executors answer with. A `BadRequest` is to be answered with 400.
"""

from ingresslib.proxy._hosts import validate_host
from ingresslib.proxy._log import escape_log_value
from ingresslib.proxy._paths import (
    BadRequest,
    EncodedSlashPolicy,
    PathPolicy,
    normalize_path,
    split_target,
)
from ingresslib.proxy._responses import (
    BAD_GATEWAY,
    GATEWAY_TIMEOUT,
    NO_ENDPOINT,
    NOT_FOUND,
    UNAVAILABLE,
    Canned,
    FailureKind,
    LimitAnswer,
    canned,
    decision_response,
    failure_response,
    unresolved,
)

__all__ = [
    "BAD_GATEWAY",
    "GATEWAY_TIMEOUT",
    "NOT_FOUND",
    "NO_ENDPOINT",
    "UNAVAILABLE",
    "BadRequest",
    "Canned",
    "EncodedSlashPolicy",
    "FailureKind",
    "LimitAnswer",
    "PathPolicy",
    "canned",
    "decision_response",
    "escape_log_value",
    "failure_response",
    "normalize_path",
    "split_target",
    "unresolved",
    "validate_host",
]
