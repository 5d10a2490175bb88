"""`auth-url`: external authentication, and the annotations that go with it.

`auth-method`, `auth-signin`, `auth-signin-redirect-param`, `auth-response-headers`,
`auth-request-redirect`.

authreq/main.go: an `auth-url` that is not a URL with a scheme and a host, an invalid
`auth-method` or `auth-response-headers` is a `LocationDeniedError` (503). The executor
sends the subrequest (`ingresslib.proxy.external_auth`); the ASGI executors, which have no
client of their own before the forwarder, answer 503 (fails closed).
"""

from __future__ import annotations

import re
import urllib.parse

import attrs

from ingresslib.ingress.annotations._values import (
    NGINX_PREFIX,
    AnnotationReader,
    Ignored,
    Invalid,
    nginx_annotations,
)
from ingresslib.plugins._annotations import (
    NOTHING,
    PHASE_ACCESS,
    AnnotationContext,
    Contribution,
)
from ingresslib.resources._networking import Ingress
from ingresslib.rules._policies import ExternalAuth

__all__ = ["ExternalAuthPlugin"]

_METHOD = re.compile(r"^(GET|HEAD|POST|PUT|PATCH|DELETE|CONNECT|OPTIONS|TRACE)$")
_HEADER = re.compile(r"^[a-zA-Z\d\-_]+$")


@attrs.frozen
class ExternalAuthPlugin:
    """The ExternalAuth policy of an Ingress's paths."""

    name: str = "nginx.ingress.kubernetes.io/auth-url"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = nginx_annotations(
        "auth-url",
        "auth-method",
        "auth-signin",
        "auth-signin-redirect-param",
        "auth-response-headers",
        "auth-request-redirect",
    )
    phase: int = PHASE_ACCESS
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """The ExternalAuth policy, or a denied location."""
        del context
        reader = AnnotationReader(ingress)

        denied = reader.deny

        def text(name: str) -> str | None:
            try:
                return reader.string(name)
            except (Invalid, Ignored):
                return None

        try:
            url = reader.string("auth-url")
        except (Invalid, Ignored) as error:
            return denied(error.annotation, error.reason)
        if url is None:
            return NOTHING
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            return denied("auth-url", f"could not parse auth-url annotation: {url!r}")
        method = text("auth-method")
        if method is not None and not _METHOD.match(method):
            return denied("auth-method", "invalid HTTP method")
        headers: list[str] = []
        for item in (text("auth-response-headers") or "").split(","):
            header = item.strip()
            if not header:
                continue
            if not _HEADER.match(header):
                return denied("auth-response-headers", "invalid headers list")
            headers.append(header)
        policy = ExternalAuth(
            url,
            method=method,
            response_headers=tuple(headers),
            signin=text("auth-signin"),
            signin_param=text("auth-signin-redirect-param") or "rd",
            request_redirect=text("auth-request-redirect"),
        )
        return Contribution(filters=(policy,))
