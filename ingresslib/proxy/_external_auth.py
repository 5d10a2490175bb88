"""External authentication (`ExternalAuth`, ingress-nginx's `auth-url`), sans-IO.

The subrequest an executor sends and what its answer means; the executor does the IO.

The template (nginx.tmpl, the `location = {{ $authPath }}` block and the protected
location):

    proxy_pass_request_body     off;
    proxy_set_header            Content-Length          "";
    proxy_set_header            X-Forwarded-Proto       "";
    proxy_set_header            X-Request-ID            $req_id;
    {{ if $externalAuth.Method }}
    proxy_method                {{ $externalAuth.Method }};
    proxy_set_header            X-Original-URI          $request_uri;
    proxy_set_header            X-Scheme                $pass_access_scheme;
    {{ end }}
    proxy_set_header            Host                    {{ $externalAuth.Host }};
    proxy_set_header            X-Original-URL          $scheme://$http_host$request_uri;
    proxy_set_header            X-Original-Method       $request_method;
    proxy_set_header            X-Sent-From             "nginx-ingress-controller";
    proxy_set_header            X-Real-IP               $remote_addr;
    proxy_set_header            X-Forwarded-For         $remote_addr;
    proxy_set_header            X-Auth-Request-Redirect $request_uri;  (or the annotation)
    proxy_pass_request_headers  on;

and ngx_http_auth_request_module: "If the subrequest returns a 2xx response code, the
access is allowed. If it returns 401 or 403, the access is denied with the corresponding
error code. Any other response code returned by the subrequest is considered an error"
(500), the 401's `WWW-Authenticate` passed on; `auth_request_set $authHeaderN
$upstream_http_<name>; proxy_set_header <Name> $authHeaderN;` for each
`auth-response-headers` field; with `auth-signin`, `error_page 401 =` a 302 to
`buildAuthSignURL` (the sign-in URL with `rd=$pass_access_scheme://$http_host
$escaped_request_uri` unless it has that parameter already).
"""

from __future__ import annotations

import re
import urllib.parse
import uuid
from collections.abc import Sequence

import attrs

from ingresslib.proxy._responses import Canned, canned
from ingresslib.rules._policies import ExternalAuth

__all__ = ["AuthOutcome", "auth_outcome", "auth_request", "signin_location"]

# The request's fields the subrequest does not carry as sent (set above, or hop-by-hop).
_REPLACED = frozenset(
    {
        "host",
        "content-length",
        "transfer-encoding",
        "x-forwarded-proto",
        "x-forwarded-for",
        "x-real-ip",
        "x-original-url",
        "x-original-method",
        "x-original-uri",
        "x-scheme",
        "x-sent-from",
        "x-auth-request-redirect",
        "x-request-id",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "upgrade",
        "proxy-connection",
        "expect",
    }
)


def auth_request(
    policy: ExternalAuth,
    *,
    method: str,
    scheme: str,
    http_host: str,
    request_uri: str,
    client: str | None,
    headers: Sequence[tuple[str, str]],
) -> tuple[str, str, list[tuple[str, str]]]:
    """(method, URL, header fields) of the subrequest for one request.

    Args:
        policy: the ExternalAuth policy.
        method: the request's method.
        scheme: "http" or "https".
        http_host: the request's Host header as sent.
        request_uri: the request's target as received (path and query).
        client: the client's address.
        headers: the request's header fields.
    """
    url = urllib.parse.urlsplit(policy.url)
    fields = [(name, value) for name, value in headers if name.lower() not in _REPLACED]
    fields.append(("Host", url.netloc))
    fields.append(("X-Request-ID", uuid.uuid4().hex))
    if policy.method:
        fields.append(("X-Original-URI", request_uri))
        fields.append(("X-Scheme", scheme))
    fields.append(("X-Original-URL", f"{scheme}://{http_host}{request_uri}"))
    fields.append(("X-Original-Method", method))
    fields.append(("X-Sent-From", "nginx-ingress-controller"))
    if client:
        fields.append(("X-Real-IP", client))
        fields.append(("X-Forwarded-For", client))
    fields.append(("X-Auth-Request-Redirect", policy.request_redirect or request_uri))
    return policy.method or method, policy.url, fields


@attrs.frozen
class AuthOutcome:
    """What the subrequest's answer means.

    Attributes:
        refusal: the client's answer (401, 403, a sign-in redirect, 500), or None (admitted).
        upstream_headers: the fields to set on the request sent upstream
            (`auth-response-headers`; "" for a field the auth response did not have).
    """

    refusal: Canned | None = None
    upstream_headers: tuple[tuple[str, str], ...] = ()


def auth_outcome(
    policy: ExternalAuth,
    status: int | None,
    headers: Sequence[tuple[str, str]],
    *,
    scheme: str,
    http_host: str,
    request_uri: str,
) -> AuthOutcome:
    """The outcome of a subrequest answered with `status` (None: no answer at all)."""
    if status is not None and 200 <= status < 300:
        found = {name.lower(): value for name, value in reversed(headers)}
        return AuthOutcome(
            upstream_headers=tuple(
                (name, found.get(name.lower(), "")) for name in policy.response_headers
            )
        )
    if status == 401:
        if policy.signin:
            location = signin_location(policy, scheme, http_host, request_uri)
            return AuthOutcome(canned(302).with_headers((b"location", location.encode())))
        challenges = tuple(
            (b"www-authenticate", value.encode("latin-1", "replace"))
            for name, value in headers
            if name.lower() == "www-authenticate"
        )
        return AuthOutcome(canned(401).with_headers(*challenges))
    if status == 403:
        return AuthOutcome(canned(403))
    return AuthOutcome(canned(500))


def signin_location(policy: ExternalAuth, scheme: str, http_host: str, request_uri: str) -> str:
    """`buildAuthSignURL`: the sign-in URL with the request's URL as `rd` (or its param).

    The sign-in URL may name nginx variables (`http://$host/auth/start`): `$host` (the
    Host without its port), `$http_host`, `$scheme`, `$request_uri` are expanded.
    """
    host = http_host.rsplit(":", 1)[0] if not http_host.endswith("]") else http_host
    signin = _VARIABLE.sub(
        lambda found: {
            "http_host": http_host,
            "host": host.lower(),
            "scheme": scheme,
            "request_uri": request_uri,
        }.get(found.group(1), found.group(0)),
        policy.signin or "",
    )
    param = policy.signin_param or "rd"
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(signin).query)
    # set_escape_uri $escaped_request_uri $request_uri (e2e: url.QueryEscape of the URI).
    target = f"{scheme}://{http_host}{urllib.parse.quote_plus(request_uri, safe='')}"
    if not query:
        return f"{signin}?{param}={target}"
    if query.get(param):
        return signin
    return f"{signin}&{param}={target}"


_VARIABLE = re.compile(r"\$(http_host|host|scheme|request_uri)\b")
