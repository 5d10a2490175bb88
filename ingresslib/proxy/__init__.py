"""Sans-IO pieces every executor shares (ASGI forwarder, aiohttp Gateway, `ingresslib serve`).

No IO and no asyncio: the header rules of a forwarding hop (`_headers`), and, as the package
grows, the path normalisation, forwarding plan and canned responses of docs/proxy.md.
"""

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

__all__ = [
    "FORWARDING_FIELDS",
    "HOP_BY_HOP",
    "PROTECTED_FROM_CONNECTION",
    "REQUEST_ONLY",
    "SERVER_OWNED",
    "WEBSOCKET_HANDSHAKE",
    "TrustedProxies",
    "connection_tokens",
    "forward_request_headers",
    "forward_response_headers",
    "is_upgrade",
    "is_websocket",
    "websocket_close_code",
]
