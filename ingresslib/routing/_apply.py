"""Step 5 of `decide()`: a rule's filters, applied in order, into the Decision.

Pure functions of the match, the request and the rule's filters (`ingresslib.rules`):
they compute what an executor does — the Location of a redirect, the path and Host sent
upstream, the header edits, the mirrors, the CORS answer, the timeouts — so that no
executor interprets a filter by itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ingresslib.routing._decision import Decision, DecisionPolicy, Request
from ingresslib.rules._construct import direct_constructor
from ingresslib.rules._filters import (
    CORS,
    HeaderChanges,
    Mirror,
    Redirect,
    RequestHeaders,
    Respond,
    ResponseHeaders,
    Rewrite,
    Timeouts,
)
from ingresslib.rules._hosts import host_covers
from ingresslib.rules._model import HTTPSRedirect
from ingresslib.rules._steps import Answer, Policy, Step, StepState

if TYPE_CHECKING:
    from ingresslib.routing._conditions import RequestView
    from ingresslib.routing._match import RouteMatch
    from ingresslib.rules._model import Filter

__all__ = ["apply_filters", "cors_headers", "origin_allowed", "redirect_location"]

_WELL_KNOWN_PORTS = {"http": 80, "https": 443}
# PERF: a forward Decision per request with request-specific filters (CORS, source
# ranges...): attrs' keyword __init__ costs more than the filters.
_new_decision = direct_constructor(Decision)


def apply_filters(  # noqa: PLR0915 -- one loop over the filter kinds, in the spec's order
    match: RouteMatch,
    filters: Sequence[Filter],
    request: Request,
    view: RequestView,
    *,
    name: str,
    path: str,
    query: str,
    policy: DecisionPolicy,
    reusable: bool,
) -> Decision:
    """The Decision of a request routed to a rule with filters.

    Args:
        match: the routing result.
        filters: the rule's filters, in order.
        request: the request.
        view: its method, headers and query as conditions read them.
        name: the validated, normalised request host ("" when none was sent).
        path: the normalised request path.
        query: the raw query string.
        policy: the executor's decision policy.
        reusable: whether the decision so far depends only on scheme, port, Host, path.
    """
    upstream_path = path
    authority: str | None = None
    request_changes: HeaderChanges | None = None
    response_changes: HeaderChanges | None = None
    mirrors: list[Mirror] = []
    timeouts: Timeouts | None = None
    redirect: Redirect | None = None
    backends = match.backends
    policies: list[Policy] = []
    state: StepState | None = None
    for step in filters:
        if isinstance(step, Step):
            # PERF: first: the rules with annotations carry mostly steps.
            if state is None:
                state = StepState(
                    method=request.method,
                    scheme=request.scheme,
                    host=name,
                    port=request.port,
                    path=path,
                    query=query,
                    client=request.client,
                    sni=request.sni,
                    view=view,
                    matched=match.path,
                    upstream_path=upstream_path,
                    authority=authority,
                    backends=backends,
                    request_changes=request_changes,
                    response_changes=response_changes,
                    reusable=reusable,
                )
            else:
                # PERF: one StepState per request; the filters between steps may have
                # changed what it carries.
                state.upstream_path, state.authority = upstream_path, authority
                state.backends, state.reusable = backends, reusable
                state.request_changes, state.response_changes = request_changes, response_changes
            answer = step.run(state)
            upstream_path, authority = state.upstream_path, state.authority
            backends = state.backends
            request_changes, response_changes = state.request_changes, state.response_changes
            reusable = state.reusable
            if answer is not None:
                return _answered(answer, match, name=name, path=path, state=state)
        elif isinstance(step, Policy):
            policies.append(step)
        elif isinstance(step, HTTPSRedirect):
            if (
                policy.https_redirect
                and request.scheme == "http"
                and name
                and (step.force or any(host_covers(tls_host, name) for tls_host in step.hosts))
            ):
                # ingress-nginx (lua_ingress.lua): `uri = string_format("https://%s%s",
                # redirect_host(), request_uri)`, with the HTTPS port when it is not 443.
                # The host is the validated, normalised one: never a Host value the
                # client made up.
                port = "" if policy.https_port == 443 else f":{policy.https_port}"
                target = f"{path}?{query}" if query else path
                if not step.preserve_trailing_slash and target.endswith("/"):
                    # "if string.byte(request_uri, -1, -1) == string.byte('/') then
                    # request_uri = string.sub(request_uri, 1, -2)": "/" itself too.
                    target = target[:-1]
                return Decision(
                    "redirect",
                    step.status,
                    location=f"https://{name}{port}{target}",
                    match=match,
                    path=path,
                    host=name,
                    # The Location carries the query: such a redirect is this request's.
                    reusable=reusable and not query,
                )
        elif isinstance(step, Redirect):
            # Answered once every filter is seen: "All filters are expected to be
            # compatible with each other except for the URLRewrite and RequestRedirect
            # filters", so response header edits and CORS listed after it still apply to
            # the redirect, and a filter that cannot be applied still answers 500.
            if redirect is None:
                redirect = step
        elif isinstance(step, Rewrite):
            if step.hostname is not None:
                authority = step.hostname
            if step.path is not None:
                upstream_path = step.path.apply(path, match.path)
        elif isinstance(step, RequestHeaders):
            request_changes = (
                step.changes if request_changes is None else request_changes.then(step.changes)
            )
        elif isinstance(step, ResponseHeaders):
            response_changes = (
                step.changes if response_changes is None else response_changes.then(step.changes)
            )
        elif isinstance(step, Mirror):
            mirrors.append(step)
        elif isinstance(step, Timeouts):
            timeouts = step
        elif isinstance(step, CORS):
            origin = view.header("origin")
            if origin is None:
                continue
            reusable = False
            preflight = (
                request.method == "OPTIONS"
                and view.header("access-control-request-method") is not None
            )
            extra = cors_headers(step, view, origin, preflight=preflight)
            if preflight:
                # "The status code of a successful response to a "preflight" request is
                # always an OK status (i.e., 204 or 200)"; a refused origin gets it too,
                # "but doesn't set the relevant cross-origin response headers".
                return Decision(
                    "respond",
                    200,
                    match=match,
                    path=path,
                    host=name,
                    response_headers=HeaderChanges(set=extra),
                    reusable=False,
                )
            if extra:
                cors = HeaderChanges(set=extra)
                response_changes = cors if response_changes is None else response_changes.then(cors)
        elif isinstance(step, Respond):
            return Decision(
                "respond",
                step.status,
                match=match,
                path=path,
                host=name,
                reason=step.reason,
                reusable=reusable,
            )
    if redirect is not None:
        return Decision(
            "redirect",
            redirect.status,
            location=redirect_location(redirect, match, request, name=name, path=path, query=query),
            match=match,
            path=path,
            host=name,
            response_headers=response_changes,
            reusable=reusable and not query,
        )
    if not backends:
        return Decision(
            "respond",
            500,
            match=match,
            path=path,
            host=name,
            response_headers=response_changes,
            reusable=reusable,
        )
    # PERF: every field given, in field order (ingresslib.rules._construct).
    return _new_decision(
        "forward",
        None,
        None,
        backends,
        match,
        upstream_path,
        name,
        authority,
        None,
        reusable,
        request_changes,
        response_changes,
        tuple(mirrors) if mirrors else (),
        timeouts,
        tuple(policies) if policies else (),
    )


def _answered(
    answer: Answer, match: RouteMatch, *, name: str, path: str, state: StepState
) -> Decision:
    """The Decision of a `Step` that answered the request itself.

    A 3xx with a Location is a redirect; anything else a canned response. The answer's
    own header fields are set after the response header edits of the filters before it.
    """
    headers = state.response_changes
    if answer.headers:
        own = HeaderChanges(set=answer.headers)
        headers = own if headers is None else headers.then(own)
    redirect = answer.location is not None and 300 <= answer.status < 400
    return Decision(
        "redirect" if redirect else "respond",
        answer.status,
        location=answer.location if redirect else None,
        match=match,
        path=path,
        host=name,
        reason=answer.reason or None,
        response_headers=headers,
        reusable=state.reusable,
    )


def redirect_location(
    step: Redirect, match: RouteMatch, request: Request, *, name: str, path: str, query: str
) -> str:
    """The Location of a `Redirect` (`HTTPRequestRedirectFilter`), as an absolute URL.

    "Scheme ... When empty, the scheme of the request is used." "Hostname ... When
    empty, the hostname in the `Host` header of the request is used." "Path ... When
    empty, the request path is used as-is." Port: "If redirect scheme is not-empty, the
    redirect port MUST be the well-known port associated with the redirect scheme ... If
    redirect scheme is empty, the redirect port MUST be the Gateway Listener port", and
    "Implementations SHOULD NOT add the port number in the 'Location' header" for http
    on 80 and https on 443.
    """
    scheme = step.scheme or request.scheme
    host = step.hostname or name
    listener_port = request.port or _WELL_KNOWN_PORTS.get(request.scheme, 80)
    if step.port is not None:
        port = step.port
    elif step.scheme:
        port = _WELL_KNOWN_PORTS.get(step.scheme, listener_port)
    else:
        port = listener_port
    authority = host if _WELL_KNOWN_PORTS.get(scheme) == port else f"{host}:{port}"
    if ":" in host and not host.startswith("["):
        authority = f"[{host}]" if _WELL_KNOWN_PORTS.get(scheme) == port else f"[{host}]:{port}"
    target = path if step.path is None else step.path.apply(path, match.path)
    location = f"{scheme}://{authority}{target}"
    return f"{location}?{query}" if query else location


def origin_allowed(allowed: Sequence[str], origin: str) -> bool:
    """Whether `origin` is one of the CORS `allowOrigins`.

    "The `Origin` consists of a scheme and a host, with an optional port ... if not
    included, port `80` is assumed for `http` scheme origins, and port `443` is assumed
    for `https` origins." "`*` is a greedy match to the _left_, including any number of
    DNS labels to the left of its position." "A wildcard by itself matches all hosts."
    """
    parsed = _origin(origin)
    if parsed is None:
        return "*" in allowed
    scheme, host, port = parsed
    for pattern in allowed:
        if pattern == "*":
            return True
        expected = _origin(pattern)
        if expected is None or expected[0] != scheme or expected[2] != port:
            continue
        wanted = expected[1]
        if wanted == "*":
            return True
        if wanted.startswith("*"):
            if host.endswith(wanted[1:]) and len(host) > len(wanted) - 1:
                return True
        elif wanted == host:
            return True
    return False


def _origin(value: str) -> tuple[str, str, int] | None:
    """(scheme, host, port) of an origin `<scheme>://<host>(:<port>)`, or None.

    "If not included, port `80` is assumed for `http` scheme origins, and port `443` is
    assumed for `https` origins." An IPv6 literal keeps its brackets (`http://[::1]:8080`).
    """
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in _WELL_KNOWN_PORTS or not rest or "/" in rest:
        return None
    scheme = scheme.lower()
    # The port follows the last ":" after the host, which for an IPv6 literal is after
    # its closing bracket ("[::1]:80" is the address "[::1]" on port 80).
    colon = rest.rfind(":")
    if colon < rest.rfind("]"):
        colon = -1
    if colon < 0:
        return scheme, rest.lower(), _WELL_KNOWN_PORTS[scheme]
    host, port_text = rest[:colon], rest[colon + 1 :]
    if not port_text.isdigit():
        return None
    return scheme, host.lower(), int(port_text)


def cors_headers(
    cors: CORS, view: RequestView, origin: str, *, preflight: bool
) -> tuple[tuple[str, str], ...]:
    """The CORS response headers for a request from an `origin` (empty: not allowed).

    "If the request `Origin` matches one of the configured allowed origins, the gateway
    sets the response header `Access-Control-Allow-Origin` to the same value as the
    `Origin` header provided by the client." With credentials, a `*` is never returned:
    the request's method and headers are echoed instead.
    """
    if not origin_allowed(cors.allow_origins, origin):
        return ()
    headers: list[tuple[str, str]] = [("access-control-allow-origin", origin)]
    if cors.allow_credentials:
        # "the gateway will include the `Access-Control-Allow-Credentials` response
        # header with value true (case-sensitive)".
        headers.append(("access-control-allow-credentials", "true"))
    if preflight:
        requested_method = view.header("access-control-request-method")
        if cors.allow_methods and requested_method is not None:
            # "If the `Access-Control-Request-Method` header is not present in the
            # request, the gateway must omit the `Access-Control-Allow-Methods`".
            if "*" in cors.allow_methods:
                methods = requested_method if cors.allow_credentials else "*"
            else:
                methods = ", ".join(cors.allow_methods)
            headers.append(("access-control-allow-methods", methods))
        requested_headers = view.header("access-control-request-headers")
        if cors.allow_headers and requested_headers is not None:
            if "*" in cors.allow_headers:
                allowed = requested_headers if cors.allow_credentials else "*"
            else:
                allowed = ", ".join(cors.allow_headers)
            headers.append(("access-control-allow-headers", allowed))
        # "MaxAge indicates the duration (in seconds) for the client to cache the results
        # of a "preflight" request."
        headers.append(("access-control-max-age", str(cors.max_age)))
    if cors.expose_headers:
        exposed = cors.expose_headers
        if "*" in exposed and cors.allow_credentials:
            # "the gateway cannot use the `*` in the `Access-Control-Expose-Headers`".
            exposed = tuple(h for h in exposed if h != "*")
        if exposed:
            headers.append(("access-control-expose-headers", ", ".join(exposed)))
    return tuple(headers)
