"""A canned response sent over ASGI: an HTTP response, or the refusal of a WebSocket handshake.

Shared by the middleware (404, 308, 429, 400...) and the forwarder (502, 503, 504, an
endpoint's refusal of a handshake).
"""

from __future__ import annotations

from ingresslib.asgi._types import Scope, Send
from ingresslib.proxy import Canned

__all__ = ["refuse"]


async def refuse(
    scope: Scope,
    send: Send,
    response: Canned,
    *,
    deny_websocket: bool = False,
    close_code: int = 1008,
) -> None:
    """Answer the request of `scope` with `response` instead of passing it on.

    Args:
        scope: the ASGI http or websocket scope.
        send: the ASGI send callable.
        response: the status, body and header fields to answer with.
        deny_websocket: refuse a WebSocket handshake by closing it (the server answers 403),
            even when the server offers the Denial Response extension.
        close_code: the close code of a WebSocket handshake refused by closing it.
    """
    status, body, headers = response
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return
    # A WebSocket handshake: answer with the same HTTP response when the server supports the
    # Denial Response extension, else close before accepting (the server answers 403).
    extensions = scope.get("extensions") or {}
    if not deny_websocket and "websocket.http.response" in extensions:
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
    else:
        await send({"type": "websocket.close", "code": close_code})
