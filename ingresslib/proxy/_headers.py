"""Header rules shared by the proxies (ASGI forwarder and aiohttp gateway): no IO.

`forward_request_headers` and `forward_response_headers` are what one forwarding hop sends
on, written once, in bytes (ASGI gives bytes, aiohttp `raw_headers`): every executor calls
them and only converts the result to what its client or server library takes. Around them:
the hop-by-hop fields, the WebSocket handshake fields each hop generates itself, the close
codes a proxy may relay, and `TrustedProxies`: which peers may tell us the client's address
in `X-Forwarded-For` (nginx's realip module with `real_ip_recursive on`). docs/proxy.md has
the rules with their sources.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence
from typing import AnyStr, TypeAlias

import attrs

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

_Network: TypeAlias = "ipaddress.IPv4Network | ipaddress.IPv6Network"
_Address: TypeAlias = "ipaddress.IPv4Address | ipaddress.IPv6Address"

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

#: Request fields the proxy consumes, never passed through: the server in front already
#: answered `Expect: 100-continue`; `Proxy` is the httpoxy vector (a CGI-style backend reads
#: it as `HTTP_PROXY`), which ingress-nginx removes (nginx.tmpl: "mitigate HTTPoxy
#: Vulnerability", `proxy_set_header Proxy "";`).
REQUEST_ONLY = frozenset({"expect", "proxy"})

#: The request fields the proxy sets from the peer and its trust (`forward_request_headers`):
#: the ones ingress-nginx's nginx.tmpl sets with `proxy_set_header`, and `Forwarded` (RFC
#: 7239), which only a trusted peer's passes. From any other peer the client's are dropped:
#: the endpoint never sees what a client claims about itself.
FORWARDING_FIELDS = frozenset(
    {
        "x-real-ip",
        "x-forwarded-for",
        "x-forwarded-host",
        "x-forwarded-port",
        "x-forwarded-proto",
        "x-forwarded-scheme",
        "x-scheme",
        "forwarded",
    }
)

#: The fields a `Connection` option never removes, in either direction. RFC 9110 §7.6.1 has
#: a proxy remove the fields its `Connection` names; nginx does not read the options at all
#: (its proxy module copies every request field but those `proxy_set_header` redefines, and
#: ingress-nginx sets `Connection $connection_upgrade`). We keep removing them, except:
#: `Host` (else the endpoint's address would be sent in its place), `Content-Length` (the
#: message's framing; `Transfer-Encoding` is hop-by-hop anyway and each hop frames its own
#: message) and the forwarding fields we set, which only the peer's trust decides.
PROTECTED_FROM_CONNECTION = frozenset({"host", "content-length"} | FORWARDING_FIELDS)

#: Response fields the server in front writes itself, when it owns them (ASGI servers). nginx,
#: proxy_hide_header: "By default, nginx does not pass the header fields "Date", "Server",
#: "X-Pad", and "X-Accel-..." from the response of a proxied server to a client."
SERVER_OWNED = frozenset({"date", "server"})

#: The WebSocket handshake fields (RFC 6455 §4.1, §4.2.2) that belong to one connection: each
#: hop's client library generates its own key, version and extension offer, and its server
#: its own accept and extension answer. `Sec-WebSocket-Protocol` is relayed, but through the
#: libraries' subprotocol arguments, not as a header.
WEBSOCKET_HANDSHAKE = frozenset(
    {
        "sec-websocket-key",
        "sec-websocket-version",
        "sec-websocket-extensions",
        "sec-websocket-accept",
        "sec-websocket-protocol",
    }
)


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


def is_upgrade(connection: Iterable[str], upgrade: str | None) -> bool:
    """Whether a request asks to switch protocols (RFC 9110 §7.8).

    "A sender of Upgrade MUST also send an "Upgrade" connection option in the Connection
    header field": an `Upgrade` field that `Connection` does not name is not a request to
    upgrade (it is hop-by-hop, and dropped like any other).

    Args:
        connection: the lower-cased options of every `Connection` field.
        upgrade: the `Upgrade` field's value, or None.
    """
    return bool(upgrade) and "upgrade" in connection


def is_websocket(upgrade: str | None) -> bool:
    """Whether an `Upgrade` value names the WebSocket protocol.

    RFC 6455 §4.2.1: an "Upgrade" header field "containing the value "websocket", treated
    as an ASCII case-insensitive value".
    """
    if not upgrade:
        return False
    return any(token.strip().lower() == "websocket" for token in upgrade.split(","))


# The codes an endpoint may put in a Close frame (RFC 6455 §7.4.1 and §7.4.2: 1005, 1006 and
# 1015 "MUST NOT be set as a status code in a Close control frame by an endpoint"), and the
# 3000-4999 range of libraries, frameworks and applications.
_SENDABLE_CLOSE_CODES = frozenset({1000, 1001, 1002, 1003, *range(1007, 1015)})


def websocket_close_code(code: int | None, *, fallback: int) -> int:
    """The close code to relay to the other side for a `code` received (None: none known).

    A code that may be sent is relayed as it is; 1005 ("no status code was actually
    present") becomes 1000; anything else, 1006 (the peer vanished without a Close frame)
    among them, becomes `fallback` (1011 towards a client whose upstream failed, 1001
    towards an upstream whose client went away).
    """
    if code is not None and (code in _SENDABLE_CLOSE_CODES or 3000 <= code < 5000):
        return code
    if code == 1005:
        return 1000
    return fallback


@attrs.frozen
class TrustedProxies:
    """The peers trusted to tell the client's address in `X-Forwarded-For`.

    The semantics of nginx's realip module with `real_ip_header X-Forwarded-For` and
    `real_ip_recursive on`, which ingress-nginx configures from its ConfigMap
    (`use-forwarded-headers`, `proxy-real-ip-cidr`). `set_real_ip_from` "defines trusted
    addresses that are known to send correct replacement addresses"; and "if recursive search
    is enabled, the original client address that matches one of the trusted addresses is
    replaced by the last non-trusted address sent in the request header field".

    Unlike ingress-nginx, whose `proxy-real-ip-cidr` defaults to `0.0.0.0/0`, the default
    here trusts nobody: `X-Forwarded-For` is never believed unless configured.

    Example::

        proxies = TrustedProxies.parse(["10.0.0.0/8", "fd00::/8"])
        proxies.client_address("10.0.0.7", ["203.0.113.9, 10.0.0.5"])  # "203.0.113.9"
        proxies.client_address("198.51.100.1", ["203.0.113.9"])  # "198.51.100.1"

    Attributes:
        networks: the trusted networks.
    """

    networks: tuple[_Network, ...] = ()

    @classmethod
    def parse(cls, cidrs: Iterable[str] | TrustedProxies) -> TrustedProxies:
        """Parse CIDRs (`"10.0.0.0/8"`, `"fd00::/8"`) or plain addresses (one host).

        As nginx does for `set_real_ip_from 192.168.1.1/24`, host bits are ignored
        (`192.168.1.0/24` is meant).

        Raises:
            ValueError: an entry is not an address or network.
        """
        if isinstance(cidrs, TrustedProxies):
            return cidrs
        if isinstance(cidrs, str):
            raise TypeError("trusted_proxies is a list of CIDRs, not one string")
        return cls(tuple(_parse_network(cidr) for cidr in cidrs))

    def __bool__(self) -> bool:
        return bool(self.networks)

    def trusts(self, address: str | None) -> bool:
        """Whether `address` (an IP address, as a peer or in X-Forwarded-For) is trusted."""
        if not self.networks or not address:
            return False
        parsed = _parse_address(address)
        return parsed is not None and self._contains(parsed)

    def _contains(self, address: _Address) -> bool:
        # An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d: the IPv4 networks
        # cover it too.
        mapped = getattr(address, "ipv4_mapped", None)
        for network in self.networks:
            if address in network or (mapped is not None and mapped in network):
                return True
        return False

    def client_address(self, peer: str | None, x_forwarded_for: Iterable[str]) -> str | None:
        """The client's address: the peer's, or from X-Forwarded-For when the peer is trusted.

        Walking X-Forwarded-For from right to left, from a trusted peer: the first address
        not trusted is the client's; when every one is trusted, the left-most; an entry that
        is not an address (or `address:port`) stops the walk at the last trusted address
        (as nginx's `ngx_http_get_forwarded_addr` does).

        Args:
            peer: the address of the TCP peer (None: unknown).
            x_forwarded_for: the values of every X-Forwarded-For field, in order.

        Returns:
            The address: the peer's as given, or one from X-Forwarded-For, normalised
            (`str(ipaddress.ip_address(...))`); None when the peer is unknown.
        """
        if peer is None or not self.trusts(peer):
            return peer
        current = peer
        for entry in reversed(_forwarded_entries(x_forwarded_for)):
            address = _parse_address(entry, with_port=True)
            if address is None:
                return current
            current = str(address)
            if not self._contains(address):
                return current
        return current


def _parse_network(cidr: str) -> _Network:
    try:
        return ipaddress.ip_network(cidr.strip(), strict=False)
    except ValueError:
        raise ValueError(f"not a trusted proxy address or CIDR: {cidr!r}") from None


def _forwarded_entries(values: Iterable[str]) -> list[str]:
    # Several fields are one list (RFC 9110 §5.3); empty elements are skipped.
    return [entry.strip() for value in values for entry in value.split(",") if entry.strip()]


def _parse_address(value: str, *, with_port: bool = False) -> _Address | None:
    """An IP address; with `with_port`, also `a.b.c.d:port` and `[v6]:port` (RFC 3986)."""
    text = value.strip()
    if with_port:
        if text.startswith("["):
            end = text.find("]")
            if end < 0 or (text[end + 1 :] and not _is_port(text[end + 1 :])):
                return None
            text = text[1:end]
        elif text.count(":") == 1:
            text, _, port = text.partition(":")
            if not port.isdigit():
                return None
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _is_port(suffix: str) -> bool:
    return suffix.startswith(":") and suffix[1:].isdigit()


# --- what one hop forwards ---------------------------------------------------------------------

_HOP_BY_HOP = frozenset(name.encode("ascii") for name in HOP_BY_HOP)
_REQUEST_ONLY = frozenset(name.encode("ascii") for name in REQUEST_ONLY)
_FORWARDING = frozenset(name.encode("ascii") for name in FORWARDING_FIELDS)
_PROTECTED = frozenset(name.encode("ascii") for name in PROTECTED_FROM_CONNECTION)
_SERVER_OWNED = frozenset(name.encode("ascii") for name in SERVER_OWNED)
# The scheme X-Forwarded-Proto names: a WebSocket handshake came over http or https.
_SCHEMES = {"ws": b"http", "wss": b"https", "http": b"http", "https": b"https"}


def forward_request_headers(
    headers: Sequence[tuple[bytes, bytes]],
    *,
    peer: str | None,
    scheme: str,
    trusted: TrustedProxies,
    fallback_host: bytes,
    host: bytes | None = None,
    port: int | None = None,
) -> list[tuple[bytes, bytes]]:
    """The request fields sent upstream, from those received: bytes in, bytes out.

    In order:

    - **Hop-by-hop fields go**, with every field a `Connection` option names (RFC 9110
      §7.6.1: "a proxy or gateway MUST parse a received Connection header field before a
      message is forwarded and, for each connection-option in this field, remove any header
      or trailer field(s) from the message with the same name as the connection-option"),
      except `PROTECTED_FROM_CONNECTION`: `Connection: close, Host` does not make the
      endpoint's address the Host; `Expect` and `Proxy` go too (`REQUEST_ONLY`).
    - **One Host**: the first received (the one the request was routed by; a second is
      dropped: RFC 9112 §3.2 has a server answer it 400, as nginx and both servers here do),
      replaced in place by `host` when given (the authority of an absolute-form target, RFC
      9112 §3.2.2), else `fallback_host` first when none came (HTTP/1.0).
    - **Every other field passes unchanged**, in order, names and values byte for byte.
    - **The forwarding fields are ours** (`FORWARDING_FIELDS`), as ingress-nginx's nginx.tmpl
      sets them with `proxy_set_header`, in its order, at the end: `X-Real-IP $remote_addr`
      (the client address: nginx's realip module), `X-Forwarded-For`, `X-Forwarded-Host
      $best_http_host`, `X-Forwarded-Port $pass_port`, `X-Forwarded-Proto`,
      `X-Forwarded-Scheme` and `X-Scheme $pass_access_scheme`. From a peer that `trusted`
      does not trust (ingress-nginx's default, `use-forwarded-headers: "false"`: "NGINX
      ignores incoming X-Forwarded-* headers, filling them with the request information it
      sees"), the client's are dropped, `Forwarded` among them: X-Forwarded-For is the peer
      alone, X-Real-IP the peer, X-Forwarded-Host the Host sent, X-Forwarded-Port `port`,
      X-Forwarded-Proto `scheme`. From a trusted peer (`use-forwarded-headers: "true"`,
      "NGINX passes the incoming X-Forwarded-* headers to upstreams", with
      `compute-full-forwarded-for: "true"`, "append the remote address to the
      X-Forwarded-For header instead of replacing it"): X-Forwarded-For is the incoming list
      with the peer appended, X-Real-IP the client address it names
      (`TrustedProxies.client_address`), and the incoming `Forwarded`, X-Forwarded-Host,
      -Port and -Proto are kept (ours when absent). X-Forwarded-Scheme and X-Scheme always
      repeat the X-Forwarded-Proto sent, as `$pass_access_scheme` does.

    Args:
        headers: the (name, value) fields received, in order (ASGI `scope["headers"]`,
            aiohttp `request.raw_headers`).
        peer: the TCP peer's address (None: unknown; then no X-Forwarded-For or X-Real-IP).
        scheme: how the request arrived: "http", "https", "ws" or "wss".
        trusted: the peers whose forwarding fields are believed.
        fallback_host: the Host when none was received (the endpoint's `address:port`).
        host: the Host to send instead of the one received.
        port: the port the request arrived on, for X-Forwarded-Port (None: unknown, none
            sent).

    Returns:
        The fields to send: received names keep their case; ours are spelled as nginx.tmpl
        spells them (`X-Forwarded-For`).
    """
    drop = _HOP_BY_HOP | _REQUEST_ONLY | (connection_tokens(headers, b"connection") - _PROTECTED)
    believed = trusted.trusts(peer)
    sent: list[tuple[bytes, bytes]] = []
    incoming: dict[bytes, list[bytes]] = {}  # a trusted peer's forwarding fields
    host_at: int | None = None
    for name, value in headers:
        lower = name.lower()
        if lower in _FORWARDING:
            if believed and lower == b"forwarded":
                sent.append((name, value))
            elif believed and value.strip():
                incoming.setdefault(lower, []).append(value.strip())
        elif lower in drop:
            continue
        elif lower == b"host":
            if host_at is None:
                host_at = len(sent)
                sent.append((name, value if host is None else host))
        else:
            sent.append((name, value))
    if host_at is None:
        sent.insert(0, (b"Host", fallback_host if host is None else host))
        host_at = 0
    sent_host = sent[host_at][1]

    forwarded_for = incoming.get(b"x-forwarded-for", [])
    client = peer
    if believed:
        client = trusted.client_address(peer, [v.decode("latin-1") for v in forwarded_for])
    if client:
        sent.append((b"X-Real-IP", client.encode("latin-1")))
    chain = [*forwarded_for, *([peer.encode("latin-1")] if peer else [])]
    if chain:
        sent.append((b"X-Forwarded-For", b", ".join(chain)))
    hosts = incoming.get(b"x-forwarded-host", [sent_host])
    sent.extend((b"X-Forwarded-Host", value) for value in hosts)
    ports = incoming.get(b"x-forwarded-port", [b"%d" % port] if port is not None else [])
    sent.extend((b"X-Forwarded-Port", value) for value in ports)
    lowered = scheme.lower()
    protos = incoming.get(b"x-forwarded-proto", [_SCHEMES.get(lowered, lowered.encode("latin-1"))])
    sent.extend((b"X-Forwarded-Proto", value) for value in protos)
    sent.append((b"X-Forwarded-Scheme", protos[0]))
    sent.append((b"X-Scheme", protos[0]))
    return sent


def forward_response_headers(
    headers: Iterable[tuple[bytes, bytes]], *, server_owned: bool
) -> list[tuple[bytes, bytes]]:
    """The response fields sent to the client, from the endpoint's: bytes in, bytes out.

    Hop-by-hop fields go, with those the response's `Connection` names (RFC 9110 §7.6.1),
    except `Content-Length` (the framing of the body relayed: the server in front frames it
    with that length, or chunked when there is none). Every other field passes unchanged,
    names and values byte for byte, in order.

    `server_owned` says whether the server in front writes its own `Date` and `Server` in any
    case. ASGI servers do (uvicorn and hypercorn add both to every response, whatever the
    app sent): the endpoint's are then dropped, else each would be sent twice (RFC 9110
    §5.3: "A sender MUST NOT generate multiple field lines with the same name in a message
    ... unless that field's definition allows multiple field line values to be recombined
    as a comma-separated list"; Date's does not), as nginx's `proxy_hide_header` default
    drops them. aiohttp adds them only when the response has none: with
    `server_owned=False` the endpoint's pass, once each (aiohttp supplies a Date when the
    endpoint sent none, as RFC 9110 §6.6.1 asks of "a recipient with a clock that receives
    a response message without a Date header field").

    Args:
        headers: the endpoint's (name, value) fields, in order.
        server_owned: the server in front writes Date and Server itself.
    """
    fields = list(headers)
    drop = _HOP_BY_HOP | (connection_tokens(fields, b"connection") - _PROTECTED)
    if server_owned:
        drop |= _SERVER_OWNED
    return [(name, value) for name, value in fields if name.lower() not in drop]
