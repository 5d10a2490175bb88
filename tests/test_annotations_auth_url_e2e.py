"""ingress-nginx's external authentication (`auth-url`) end to end: `ingresslib serve`, a
real auth service and an echo upstream (test/e2e/annotations/auth.go, restated).

The auth service answers by the request's `Authorization`: "Bearer good" 200 with
`X-User`, "Bearer forbidden" 403, "Bearer broken" 502, none 401 with a challenge; it
records the subrequests it received.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.annotation_e2e import AnnotatedSite, echo_upstream
from tests.support import free_port

P = "nginx.ingress.kubernetes.io/"


class AuthService(ThreadingHTTPServer):
    """The auth service; `seen` holds the header fields of each subrequest."""

    seen: list[dict[str, str]]


def auth_service() -> AuthService:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _answer(self) -> None:
            server: Any = self.server
            server.seen.append({k.lower(): v for k, v in self.headers.items()})
            token = self.headers.get("Authorization")
            status, extra = 401, [("WWW-Authenticate", 'Bearer realm="test"')]
            if token == "Bearer good":
                status, extra = 200, [("X-User", "alice"), ("X-Other", "not copied")]
            elif token == "Bearer forbidden":
                status, extra = 403, []
            elif token == "Bearer broken":
                status, extra = 502, []
            body = json.dumps({"status": status}).encode()
            self.send_response(status)
            for name, value in extra:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_HEAD = _answer  # noqa: N815 -- http.server's names

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = AuthService(("127.0.0.1", 0), Handler)
    server.seen = []
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def auth() -> Iterator[AuthService]:
    server = auth_service()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, auth: AuthService) -> Iterator[AnnotatedSite]:
    directory: Path = tmp_path_factory.mktemp("authurl")
    site = AnnotatedSite(directory)
    echo = echo_upstream("echo")
    site.service("echo", echo)
    root = [("/", "Prefix", "echo")]
    url = f"http://127.0.0.1:{auth.server_address[1]}/auth"
    site.ingress(
        "auth",
        "auth.test",
        root,
        {P + "auth-url": url, P + "auth-response-headers": "X-User, X-Missing"},
    )
    site.ingress(
        "signin",
        "signin.test",
        root,
        {P + "auth-url": url, P + "auth-signin": "http://$host/auth/start"},
    )
    site.ingress("down", "down.test", root, {P + "auth-url": f"http://127.0.0.1:{free_port()}/"})
    site.ingress("bad", "bad.test", root, {P + "auth-url": "not a url"})
    site.start()
    yield site
    site.stop()
    echo.close()


def test_no_credentials_relay_the_401_and_its_challenge(site: AnnotatedSite) -> None:
    response = site.request("/", host="auth.test")
    assert response.status == 401
    assert response.header("www-authenticate") == 'Bearer realm="test"'


def test_a_2xx_admits_and_copies_the_response_headers(
    site: AnnotatedSite, auth: AuthService
) -> None:
    response = site.request(
        "/some/path?x=1",
        host="auth.test",
        headers=[("Authorization", "Bearer good"), ("X-Missing", "from the client")],
    )
    assert response.status == 200
    assert response.upstream_header("x-user") == "alice"
    assert response.upstream_header("x-other") is None
    # `proxy_set_header X-Missing $authHeader1` with an empty value removes the field.
    assert response.upstream_header("x-missing") is None
    sent = auth.seen[-1]
    assert sent["x-original-url"] == "http://auth.test/some/path?x=1"
    assert sent["x-original-method"] == "GET"
    assert sent["x-sent-from"] == "nginx-ingress-controller"
    assert sent["x-auth-request-redirect"] == "/some/path?x=1"
    assert sent["x-real-ip"] == "127.0.0.1"
    assert sent["authorization"] == "Bearer good"  # the client's fields go along
    assert sent["host"] == f"127.0.0.1:{auth.server_address[1]}"


@pytest.mark.parametrize(("token", "status"), [("Bearer forbidden", 403), ("Bearer broken", 500)])
def test_other_answers(site: AnnotatedSite, token: str, status: int) -> None:
    response = site.request("/", host="auth.test", headers=[("Authorization", token)])
    assert response.status == status


def test_a_401_with_auth_signin_redirects_with_rd(site: AnnotatedSite) -> None:
    response = site.request("/?a=b&c=d", host="signin.test")
    assert response.status == 302
    assert response.header("location") == (
        "http://signin.test/auth/start?rd=http://signin.test%2F%3Fa%3Db%26c%3Dd"
    )


def test_an_unreachable_auth_service_is_500(site: AnnotatedSite) -> None:
    assert site.request("/", host="down.test").status == 500


def test_an_invalid_auth_url_denies_the_location(site: AnnotatedSite) -> None:
    assert site.request("/", host="bad.test").status == 503
