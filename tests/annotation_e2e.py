"""End-to-end harness of the annotation tests: `ingresslib serve` in front of echo upstreams.

`echo_upstream(name)` is a real HTTP server that answers every request with JSON of what
it received (method, target with query, headers, body length, its name), so a test sees
the path, Host and headers ingresslib forwarded. `AnnotatedSite` writes manifests (Ingresses
with annotations, Services and EndpointSlices of the echo upstreams) to a directory and
runs `ingresslib serve` on them; `request()` sends one raw HTTP/1.1 request and returns
status, headers and body.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from ingresslib import testing
from tests.serve_process import ServeProcess, start_serve

__all__ = ["AnnotatedSite", "Echo", "Response", "echo_upstream"]


class Echo(ThreadingHTTPServer):
    """An echo upstream; `port` is where it listens."""

    name: str

    @property
    def port(self) -> int:
        """The port it listens on."""
        return int(self.server_address[1])

    def close(self) -> None:
        """Stop serving and close the listening socket."""
        self.shutdown()
        self.server_close()


def echo_upstream(
    name: str,
    host: str = "127.0.0.1",
    status: int = 200,
    delay: float = 0.0,
    tls: ssl.SSLContext | None = None,
) -> Echo:
    """An HTTP server answering every request with JSON of what it received.

    The JSON: {"upstream": name, "method", "target" (path and query as received),
    "headers": [[name, value]...] in order, "body_length", "tls"}. `delay`: seconds it
    waits before answering (a slow upstream, for connection limits). `tls`: a server
    context to speak HTTPS with.
    """

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _echo(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            if delay:
                time.sleep(delay)
            data = {
                "upstream": name,
                "method": self.command,
                "target": self.path,
                "headers": [[k, v] for k, v in self.headers.items()],
                "body_length": len(body),
                "tls": tls is not None,
            }
            payload = json.dumps(data).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_HEAD = _echo  # noqa: N815 -- http.server's names

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = Echo((host, 0), Handler)
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    server.name = name
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class Response:
    """A response: status, headers (lower-case names, in order), body; `json()` for echoes."""

    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes) -> None:
        self.status = status
        self.headers = headers
        self.body = body

    def header(self, name: str) -> str | None:
        """The first value of a header field, or None."""
        return next((v for k, v in self.headers if k == name.lower()), None)

    def header_values(self, name: str) -> list[str]:
        """Every value of a header field."""
        return [v for k, v in self.headers if k == name.lower()]

    def json(self) -> dict[str, Any]:
        """The echo upstream's JSON."""
        data: dict[str, Any] = json.loads(self.body)
        return data

    def upstream_header(self, name: str) -> str | None:
        """The first value of a header the upstream received, or None."""
        return next((v for k, v in self.json()["headers"] if k.lower() == name.lower()), None)


class AnnotatedSite:
    """Manifests in `directory`, served by `ingresslib serve` once `start()` is called.

    Args:
        directory: where manifests and the log go (a tmp_path).
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.documents: list[dict[str, Any]] = []
        self.process: ServeProcess | None = None

    def service(self, name: str, *upstreams: Echo, namespace: str = "default") -> None:
        """A Service `name` (port 80, named "http") whose endpoints are the upstreams."""
        self.documents.append(testing.service(name, namespace=namespace))
        for position, upstream in enumerate(upstreams):
            self.documents.append(
                testing.endpoint_slice(
                    name,
                    ["127.0.0.1"],
                    name=f"{name}-{position}",
                    namespace=namespace,
                    port=upstream.port,
                )
            )

    def ingress(
        self,
        name: str,
        host: str | None,
        paths: Sequence[tuple[str, str, str]],
        annotations: Mapping[str, str] | None = None,
        *,
        namespace: str = "default",
        tls: Iterable[dict[str, Any]] = (),
        created: str | None = None,
        ingress_class: str | None = None,
    ) -> None:
        """An Ingress with paths (path, pathType, Service) on `host`, and annotations."""
        paths_manifest = [
            testing.ingress_path(path, service, path_type=path_type, port="http")
            for path, path_type, service in paths
        ]
        self.documents.append(
            testing.ingress(
                name,
                [testing.ingress_rule(host, *paths_manifest)],
                namespace=namespace,
                annotations=dict(annotations or {}),
                tls=tls,
                created=created,
                ingress_class=ingress_class,
            )
        )

    def add(self, document: dict[str, Any]) -> None:
        """Any other document (a Secret, a ConfigMap...)."""
        self.documents.append(document)

    def write(self) -> Path:
        """Write the manifests (atomically replacing the file) and return its path."""
        path = self.directory / "manifests.yaml"
        temporary = path.with_suffix(".tmp")
        temporary.write_text(yaml.safe_dump_all(self.documents))
        temporary.replace(path)
        return path

    def start(self, *extra: str) -> ServeProcess:
        """Write the manifests and start `ingresslib serve` on them."""
        self.process = start_serve(self.write(), self.directory / "serve.log", *extra)
        return self.process

    def stop(self) -> None:
        """Stop the server."""
        if self.process is not None:
            self.process.stop()
            self.process = None

    def request(
        self,
        path: str = "/",
        *,
        host: str | None = None,
        method: str = "GET",
        headers: Sequence[tuple[str, str]] = (),
        body: bytes | None = None,
        port: int | None = None,
    ) -> Response:
        """One request to the HTTP listener (a new connection); `host`: the Host header."""
        assert self.process is not None, "start() first"
        connection = http.client.HTTPConnection("127.0.0.1", port or self.process.http, timeout=10)
        try:
            connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            if host is not None:
                connection.putheader("Host", host)
            for name, value in headers:
                connection.putheader(name, value)
            if body is not None:
                connection.putheader("Content-Length", str(len(body)))
            connection.endheaders(body)
            response = connection.getresponse()
            data = response.read()
            return Response(
                response.status, [(k.lower(), v) for k, v in response.getheaders()], data
            )
        finally:
            connection.close()
