"""Header rules shared by the proxies (ASGI forwarder and aiohttp gateway): no IO, no deps."""

from __future__ import annotations

from collections.abc import Iterable
from typing import AnyStr

__all__ = ["HOP_BY_HOP", "REQUEST_ONLY", "connection_tokens"]

#: RFC 9110 §7.6.1 hop-by-hop fields, plus those that only make sense for one connection:
#: never forwarded in either direction. Headers named in `Connection` are removed as well:
#: "a proxy or gateway MUST parse a received Connection header field before a message is
#: forwarded and, for each connection-option in this field, remove any header or trailer
#: field(s) from the message with the same name as the connection-option".
HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-connection",
        "te",
        "transfer-encoding",
        "upgrade",
        "proxy-authorization",
        "proxy-authenticate",
        "trailer",
    }
)

#: Request fields answered or set by the proxy itself, never passed through: the server in
#: front already answered `Expect: 100-continue`; X-Forwarded-Proto/-Host are ours to set.
REQUEST_ONLY = frozenset({"expect", "x-forwarded-proto", "x-forwarded-host"})


def connection_tokens(headers: Iterable[tuple[AnyStr, AnyStr]], connection: AnyStr) -> set[AnyStr]:
    """The lower-cased options named by every `Connection` field among `headers`.

    Args:
        headers: (name, value) pairs, all `str` or all `bytes`.
        connection: "connection" in the same type (`"connection"` or `b"connection"`).
    """
    comma = connection[:0] + (b"," if isinstance(connection, bytes) else ",")
    tokens: set[AnyStr] = set()
    for name, value in headers:
        if name.lower() == connection:
            tokens.update(t.strip().lower() for t in value.split(comma))
    tokens.discard(connection[:0])
    return tokens
