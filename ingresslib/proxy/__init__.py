"""Sans-IO pieces every executor shares: request paths, hosts, access-log escaping.

Pure functions (no IO, no asyncio): `normalize_path` and `split_target` (RFC 3986,
RFC 9112, with nginx's answers where the RFCs leave a choice), `validate_host` (nginx's
`ngx_http_validate_host`), and `escape_log_value` (nginx's `escape=default`). A
`BadRequest` is to be answered with 400.
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

__all__ = [
    "BadRequest",
    "EncodedSlashPolicy",
    "PathPolicy",
    "escape_log_value",
    "normalize_path",
    "split_target",
    "validate_host",
]
