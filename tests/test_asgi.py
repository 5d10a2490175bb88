"""IngressMiddleware under a real uvicorn and a real hypercorn on 127.0.0.1, driven by real
httpx/websockets clients."""

from __future__ import annotations

import contextlib
import functools
import socket
import threading
import time
from collections.abc import Callable

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect as ws_connect

import ingresslib
from ingresslib.asgi import MATCH_SCOPE_KEY, ASGIApp, IngressMiddleware, Receive, Scope, Send
from ingresslib.ratelimit import FixedWindow, MemoryLimiter, QuotaPolicy
from ingresslib.testing import ingress, ingress_rule, ingress_tls
from tests.support import ASGI_SERVERS, serve_asgi

# --- manifests -----------------------------------------------------------------------------


def _table(api_service: str = "api") -> ingresslib.RouteTable:
    resources = ingresslib.load_manifests(
        [
            ingress(
                "shop",
                [
                    ingress_rule(
                        "shop.example.com",
                        ("/api", "Prefix", api_service),
                        ("/", "Exact", "web"),
                        ("/legacy", "Prefix", "legacy"),  # no in-process app: 503
                    ),
                    ingress_rule("chat.example.com", ("/ws", "Prefix", "chat")),
                ],
                namespace="shop",
            ),
            ingress(
                "secure",
                [ingress_rule("secure.example.com", ("/", "Prefix", "web"))],
                namespace="shop",
                tls=[ingress_tls("secure-tls", "secure.example.com")],
            ),
        ]
    )
    return ingresslib.RouteTable.build(resources)


# --- in-process apps -------------------------------------------------------------------------


def _text_app(name: str) -> ASGIApp:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        match = scope[MATCH_SCOPE_KEY]  # None for the wrapped app's unrouted requests
        body = f"{name} {scope['path']} {match and match.path}".encode()
        headers = [(b"content-type", b"text/plain"), (b"content-length", b"%d" % len(body))]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


async def _chat_app(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "websocket"
    assert (await receive())["type"] == "websocket.connect"
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": "chat: " + message["text"]})


class _Fallback:
    """The wrapped app: answers unrouted requests and records its lifespan."""

    def __init__(self) -> None:
        self.events: list[str] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                self.events.append(message["type"])
                if message["type"] == "lifespan.startup":
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await _text_app("fallback")(scope, receive, send)


SERVICES = {"shop/api": _text_app("api"), "web": _text_app("web"), "chat": _chat_app}


# --- a real server ---------------------------------------------------------------------------


Serve = Callable[[ASGIApp], contextlib.AbstractContextManager[int]]


@pytest.fixture(params=ASGI_SERVERS)
def serve(request: pytest.FixtureRequest) -> Serve:
    """`with serve(app) as port`: `app` under uvicorn, then hypercorn, on a free loopback port."""
    return functools.partial(serve_asgi, kind=request.param)


def _client(port: int) -> httpx.Client:
    return httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5)


# --- tests -----------------------------------------------------------------------------------


def test_routes_by_host_and_path_to_in_process_apps(serve: Serve) -> None:
    with serve(IngressMiddleware(None, _table(), services=SERVICES)) as port, _client(port) as c:
        shop = {"Host": "shop.example.com"}
        # Prefix /api, element-wise, to the namespaced key "shop/api".
        assert c.get("/api", headers=shop).text == "api /api /api"
        assert c.get("/api/cart/1?x=1", headers=shop).text == "api /api/cart/1 /api"
        # Exact / to the plain key "web"; a port and upper case in Host are ignored.
        assert c.get("/", headers={"Host": "SHOP.example.com:8080"}).text == "web / /"
        # Not /apix (Prefix is element-wise), not /x (Exact /): no route, no app: 404.
        for path in ("/apix", "/x"):
            response = c.get(path, headers=shop)
            assert response.status_code == 404
            assert response.text == "404 Not Found\n"
            assert response.headers["content-length"] == str(len(response.content))
            assert response.headers["content-type"] == "text/plain; charset=utf-8"
        # Another host: no rule claims it.
        assert c.get("/api", headers={"Host": "other.example.com"}).status_code == 404


def test_unrouted_requests_go_to_the_wrapped_app(serve: Serve) -> None:
    fallback = _Fallback()
    middleware = IngressMiddleware(fallback, _table(), services=SERVICES)
    with serve(middleware) as port, _client(port) as c:
        response = c.get("/nowhere", headers={"Host": "other.example.com"})
        assert response.status_code == 200
        assert response.text == "fallback /nowhere None"
        assert c.get("/api", headers={"Host": "shop.example.com"}).text == "api /api /api"


def test_a_backend_without_an_app_is_503(serve: Serve) -> None:
    with serve(IngressMiddleware(None, _table(), services=SERVICES)) as port, _client(port) as c:
        response = c.get("/legacy/page", headers={"Host": "shop.example.com"})
        assert response.status_code == 503
        assert response.text == "503 Service Unavailable\n"
        assert response.headers["content-length"] == str(len(response.content))


def test_a_refused_request_is_429_with_retry_after_and_ratelimit_fields(serve: Serve) -> None:
    middleware = IngressMiddleware(
        None,
        _table(),
        services=SERVICES,
        limiter=MemoryLimiter(FixedWindow(2, 60)),
        ratelimit_policy=QuotaPolicy("per-minute", 2, window=60),
    )
    with serve(middleware) as port, _client(port) as c:
        shop = {"Host": "shop.example.com"}
        assert [c.get("/api", headers=shop).status_code for _ in range(2)] == [200, 200]
        response = c.get("/api", headers=shop)
        assert response.status_code == 429
        assert response.text == "429 Too Many Requests\n"
        assert response.headers["content-length"] == str(len(response.content))
        assert 0 < int(response.headers["retry-after"]) <= 60
        assert response.headers["ratelimit-policy"] == '"per-minute";q=2;w=60'
        assert response.headers["ratelimit"].startswith('"per-minute";r=0;t=')


def test_a_limit_key_of_none_exempts_the_request(serve: Serve) -> None:
    middleware = IngressMiddleware(
        None,
        _table(),
        services=SERVICES,
        limiter=MemoryLimiter(FixedWindow(1, 60)),
        limit_key=lambda scope: None if scope["path"].startswith("/api/health") else "all",
    )
    with serve(middleware) as port, _client(port) as c:
        shop = {"Host": "shop.example.com"}
        assert [c.get("/api/health", headers=shop).status_code for _ in range(3)] == [200] * 3
        assert [c.get("/api", headers=shop).status_code for _ in range(2)] == [200, 429]


def test_plain_http_to_a_tls_host_is_redirected_308_to_https(serve: Serve) -> None:
    with serve(IngressMiddleware(None, _table(), services=SERVICES)) as port, _client(port) as c:
        response = c.get("/a/b%2Fc?q=1&r=2", headers={"Host": "Secure.example.com:80"})
        assert response.status_code == 308
        # Built from the validated, normalised host (issue 11: never a Host the client made up).
        assert response.headers["location"] == "https://secure.example.com/a/b%2Fc?q=1&r=2"
        assert response.headers["content-length"] == str(len(response.content))
        # A host without TLS is served over plain HTTP.
        assert c.get("/", headers={"Host": "shop.example.com"}).status_code == 200
    no_redirect = IngressMiddleware(None, _table(), services=SERVICES, https_redirect=False)
    with serve(no_redirect) as port, _client(port) as c:
        response = c.get("/a", headers={"Host": "secure.example.com"})
        assert response.status_code == 200
        assert response.text == "web /a /"


def test_websocket_is_routed_to_an_in_process_app(serve: Serve) -> None:
    with serve(IngressMiddleware(None, _table(), services=SERVICES)) as port:
        sock = socket.create_connection(("127.0.0.1", port))
        with ws_connect("ws://chat.example.com/ws/room", sock=sock, open_timeout=5) as ws:
            ws.send("hello")
            assert ws.recv(timeout=5) == "chat: hello"
        # No route for the host: the handshake is refused with 403.
        sock = socket.create_connection(("127.0.0.1", port))
        with pytest.raises(InvalidStatus) as refused:
            ws_connect("ws://other.example.com/ws", sock=sock, open_timeout=5)
        assert refused.value.response.status_code == 403


def test_websocket_refusals_use_the_denial_response_extension(serve: Serve) -> None:
    # uvicorn's websockets-sansio protocol logs "ASGI callable returned without completing
    # handshake." after each denial response, although the client receives it intact: an
    # upstream defect (uvicorn PR #3138, open). A log line, not a warning: nothing to filter.
    middleware = IngressMiddleware(
        None, _table(), services=SERVICES, limiter=MemoryLimiter(FixedWindow(1, 60))
    )
    with serve(middleware) as port:
        # ws:// to a TLS host: the same 308 as plain HTTP gets.
        sock = socket.create_connection(("127.0.0.1", port))
        # websockets would follow it, but not with the socket we gave it: it says so and
        # raises from the 308 it received.
        with pytest.raises(ValueError, match="cannot follow redirect") as redirected:
            ws_connect("ws://secure.example.com/ws?a=1", sock=sock, open_timeout=5)
        response = redirected.value.__cause__
        assert isinstance(response, InvalidStatus)
        assert response.response.status_code == 308
        assert response.response.headers["Location"] == "wss://secure.example.com/ws?a=1"
        # Over the limit: 429 with its fields.
        for expected in (None, 429):
            sock = socket.create_connection(("127.0.0.1", port))
            if expected is None:
                with ws_connect("ws://chat.example.com/ws", sock=sock, open_timeout=5) as ws:
                    ws.send("hi")
                    assert ws.recv(timeout=5) == "chat: hi"
                continue
            with pytest.raises(InvalidStatus) as limited:
                ws_connect("ws://chat.example.com/ws", sock=sock, open_timeout=5)
            assert limited.value.response.status_code == 429
            assert limited.value.response.headers["Retry-After"]
            assert limited.value.response.body == b"429 Too Many Requests\n"


def test_lifespan_reaches_the_wrapped_app(serve: Serve) -> None:
    fallback = _Fallback()
    with serve(IngressMiddleware(fallback, _table(), services=SERVICES)):
        assert fallback.events == ["lifespan.startup"]
    assert fallback.events == ["lifespan.startup", "lifespan.shutdown"]
    # Without a wrapped app the middleware completes the lifespan itself (else no start).
    with serve(IngressMiddleware(None, _table())) as port, _client(port) as c:
        assert c.get("/", headers={"Host": "shop.example.com"}).status_code == 503


def test_the_table_is_swapped_while_requests_run(serve: Serve) -> None:
    first, second = _table("api"), _table("web")
    middleware = IngressMiddleware(None, first, services=SERVICES)
    failures: list[str] = []
    seen: set[str] = set()
    stop = threading.Event()

    def hammer(port: int) -> None:
        with _client(port) as c:
            while not stop.is_set():
                response = c.get("/api/x", headers={"Host": "shop.example.com"})
                if response.status_code != 200:
                    failures.append(f"{response.status_code} {response.text}")
                seen.add(response.text)

    with serve(middleware) as port:
        workers = [threading.Thread(target=hammer, args=(port,)) for _ in range(4)]
        for worker in workers:
            worker.start()
        try:
            for i in range(200):
                middleware.table = second if i % 2 == 0 else first
                time.sleep(0.005)
        finally:
            stop.set()
            for worker in workers:
                worker.join(10)
    assert failures == []
    assert seen == {"api /api/x /api", "web /api/x /api"}
