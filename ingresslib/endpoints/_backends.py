"""What every proxy keeps per backend: its resolution and its balancer (pure: no IO)."""

from __future__ import annotations

import email.utils
import hashlib
import logging
import random
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

from ingresslib.endpoints._affinity import CookieAffinity
from ingresslib.endpoints._balancer import Balancer
from ingresslib.endpoints._hashing import RingHash
from ingresslib.endpoints._load import PeakEwma
from ingresslib.endpoints._model import Endpoint, EndpointSet, Unresolved
from ingresslib.endpoints._resolve import EndpointIndex
from ingresslib.endpoints._simple import RoundRobin
from ingresslib.proxy import INVALID_BACKEND, Canned, choose_backend, mirror_selected
from ingresslib.resources import IngressBackend
from ingresslib.routing import Decision, RouteMatch, ingress_view
from ingresslib.rules import Mirror, WeightedBackend
from ingresslib.rules._policies import Balancing, SessionCookie, cookie_value
from ingresslib.rules._steps import HeaderReader

log = logging.getLogger("ingresslib.proxy")

__all__ = [
    "ATTEMPTS",
    "BackendCache",
    "BackendKey",
    "BalancerFactory",
    "RequestFacts",
    "attempts",
    "balancing_of",
]

#: Builds the balancer of one backend port from its EndpointSet (e.g. `RoundRobin`).
BalancerFactory = Callable[[EndpointSet], Balancer]
#: (namespace, Service name, port name or number).
BackendKey = tuple[str, str, str]


class RequestFacts(NamedTuple):
    """What a Balancing policy reads of a request (its hash key, its session cookie).

    Attributes:
        view: the request's header fields and query parameters.
        client: the client address.
        uri: the path sent upstream (nginx `$uri`).
        request_uri: the target as received, with its query (`$request_uri`).
        host: the request host.
        secure: whether the request came over https.
        location: the path of the rule that matched (the cookie's default Path).
    """

    view: HeaderReader
    client: str | None
    uri: str
    request_uri: str
    host: str
    secure: bool
    location: str


def balancing_of(decision: Decision) -> Balancing | None:
    """The Balancing policy of a decision, if its rule has one."""
    for policy in decision.policies:
        if type(policy) is Balancing:
            return policy
    return None


def _upstream_name(key: BackendKey) -> str:
    """ingress-nginx's upstream name: `<namespace>-<service>-<port>`."""
    return "-".join(key)


def _set_cookie(cookie: SessionCookie, value: str, key: BackendKey, facts: RequestFacts) -> str:
    """The Set-Cookie value of a new session (lua-resty-cookie's order of attributes)."""
    name = _upstream_name(key)
    backend_key = hashlib.md5(
        hashlib.md5(name.encode()).hexdigest().encode() + name.encode()
    ).hexdigest()
    parts = [f"{cookie.name}={value}|{backend_key}"]
    if cookie.expires is not None:
        parts.append("Expires=" + email.utils.formatdate(time.time() + cookie.expires, usegmt=True))
    if cookie.max_age is not None:
        parts.append(f"Max-Age={cookie.max_age}")
    if cookie.domain:
        parts.append(f"Domain={cookie.domain}")
    parts.append(f"Path={cookie.path or facts.location or '/'}")
    if cookie.secure if cookie.secure is not None else facts.secure:
        parts.append("Secure")
    parts.append("HttpOnly")
    if cookie.samesite:
        parts.append(f"SameSite={cookie.samesite}")
    return "; ".join(parts)


#: Endpoints a proxy tries per request: one, and one retry on another endpoint.
ATTEMPTS = 2


def attempts(
    balancer: Balancer, size: int, limit: int = ATTEMPTS, first: Endpoint | None = None
) -> Iterator[Endpoint]:
    """Up to `limit` endpoints from `balancer`, none of them twice (`size`: the set's size).

    The proxies' retry loop: the caller tries each endpoint it gets and asks for the next
    only when it wants to retry. The balancer's own order decides which endpoint is next;
    `first`, when given (the session's or the hash key's endpoint), is tried first.
    """
    tried: set[str] = set()
    if first is not None:
        tried.add(first.key)
        limit -= 1
        yield first
    for _ in range(limit):
        endpoint = _pick_untried(balancer, tried, size)
        if endpoint is None:
            return
        tried.add(endpoint.key)
        yield endpoint


def _pick_untried(balancer: Balancer, tried: set[str], size: int) -> Endpoint | None:
    # A few picks at most: a balancer may give an endpoint already tried again.
    for _ in range(max(size, 1)):
        endpoint = balancer.pick()
        if endpoint is None or endpoint.key not in tried:
            return endpoint
    return None


class BackendCache:
    """Resolution of routed backends and one balancer per backend port, for a proxy.

    A mixin for the ASGI forwarder and the aiohttp gateway: the class sets `index` (an
    `EndpointIndex`, swappable by assignment), `namespace` (for matches without an
    Ingress) and `balancer_factory`, and calls `_init_backend_cache()`.
    """

    index: EndpointIndex
    namespace: str
    balancer_factory: BalancerFactory

    def _init_backend_cache(self) -> None:
        # (namespace, service, port) -> (the EndpointSet it was built from, its balancer)
        self._balancers: dict[BackendKey, tuple[EndpointSet, Balancer]] = {}
        # PERF: one resolution per backend and index snapshot, not one per request.
        self._resolved_for: EndpointIndex | None = None
        self._resolved: dict[BackendKey, EndpointSet | Unresolved] = {}

    def balancer(self, namespace: str, service: str, port: str) -> Balancer | None:
        """The balancer of one backend port, once a request resolved it (for metrics, tests)."""
        entry = self._balancers.get((namespace, service, port))
        return None if entry is None else entry[1]

    def _pick(
        self, decision: Decision
    ) -> tuple[WeightedBackend | None, BackendKey, EndpointSet | Unresolved] | Canned:
        """The share a forwarded request goes to, resolved; or the 500 it gets.

        `ingresslib.proxy.choose_backend` by weight; a share whose reference does not
        resolve (`WeightedBackend.invalid`), or every weight 0, answers 500.
        """
        shares = decision.backends
        match = decision.match
        if len(shares) <= 1:
            # PERF: the common case (every Ingress rule): no draw.
            share = shares[0] if shares else None
        else:
            share = choose_backend(shares, random.random())
            if share is None:
                return INVALID_BACKEND
        if share is not None and (share.invalid is not None or share.weight <= 0):
            log.warning(
                "%s: backend %s: %s",
                match.source if match is not None else "-",
                share.backend.describe(),
                share.invalid or "weight 0",
            )
            return INVALID_BACKEND
        assert match is not None  # a forward decision has a match
        if share is None or (len(shares) <= 1 and shares is match.backends):
            # The rule's own backend (a Step may have chosen others: a canary's).
            key, resolution = self._resolve(match)
            return share, key, resolution
        key, resolution = self._resolve_share(share)
        return share, key, resolution

    def _mirror_endpoints(self, mirrors: Iterable[Mirror]) -> list[Endpoint]:
        """The endpoints that get a copy of this request: one per mirror drawn.

        HTTPRequestMirrorFilter: "Requests are sent to the specified destination, but
        responses from that destination are ignored"; each mirror's fraction is drawn
        (`ingresslib.proxy.mirror_selected`), its backend resolved and balanced like any
        other's. A mirror without an endpoint sends nothing (logged).
        """
        endpoints = []
        for mirror in mirrors:
            if not mirror_selected(mirror, random.random()):
                continue
            key, resolution = self._resolve_share(WeightedBackend(mirror.backend))
            if not isinstance(resolution, EndpointSet):
                log.warning("mirror %s: %s", mirror.backend.describe(), resolution.reason)
                continue
            endpoint = self._balancer_for(key, resolution).pick()
            if endpoint is not None:
                endpoints.append(endpoint)
        return endpoints

    def _resolve_share(self, share: WeightedBackend) -> tuple[BackendKey, EndpointSet | Unresolved]:
        backend = share.backend
        return self._resolve_backend(ingress_view(backend), backend.namespace or self.namespace)

    def _resolve(self, match: RouteMatch) -> tuple[BackendKey, EndpointSet | Unresolved]:
        # The rule's backend knows its namespace ("" for the controller's default backend).
        shares = match.backends
        namespace = (shares[0].backend.namespace if shares else "") or self.namespace
        return self._resolve_backend(match.backend, namespace)

    def _resolve_backend(
        self, backend: IngressBackend, namespace: str
    ) -> tuple[BackendKey, EndpointSet | Unresolved]:
        service = backend.service
        if service is None:
            return (namespace, "", ""), self.index.resolve(namespace, backend)
        key = (namespace, service.name, service.port.name or str(service.port.number))
        index = self.index
        if index is not self._resolved_for:
            self._resolved_for = index
            self._resolved = {}
        resolution = self._resolved.get(key)
        if resolution is None:
            resolution = self._resolved[key] = index.resolve(namespace, backend)
        return key, resolution

    def _balancer_for(
        self, key: BackendKey, endpoints: EndpointSet, balancing: Balancing | None = None
    ) -> Balancer:
        cache_key: Any = key if balancing is None else (key, balancing)
        entry = self._balancers.get(cache_key)
        if entry is None:
            balancer = self._new_balancer(key, endpoints, balancing)
        else:
            known, balancer = entry
            if known is not endpoints and known != endpoints:
                balancer.update(endpoints)  # keeps the state of endpoints that stay
        self._balancers[cache_key] = (endpoints, balancer)
        return balancer

    def _new_balancer(
        self, key: BackendKey, endpoints: EndpointSet, balancing: Balancing | None
    ) -> Balancer:
        """balancer.lua `get_implementation`: the rule's algorithm, else the proxy's."""
        if balancing is None:
            return self.balancer_factory(endpoints)
        algorithm = balancing.algorithm
        if algorithm == "cookie":
            cookie = balancing.cookie or SessionCookie()
            # sticky_persistent: the salt is the backend's name (util/nodemap.lua).
            return CookieAffinity(endpoints, mode=cookie.mode, salt=_upstream_name(key))
        if algorithm == "hash":
            return RingHash(endpoints)
        if algorithm == "ewma":
            return PeakEwma(endpoints)
        return RoundRobin(endpoints)

    def _first_endpoint(
        self,
        balancer: Balancer,
        balancing: Balancing | None,
        key: BackendKey,
        facts: RequestFacts,
    ) -> tuple[Endpoint | None, str | None]:
        """The endpoint a request's session or hash key gives, and the Set-Cookie to send.

        sticky.lua: the cookie's value up to "|" is the session's key; a new session gets
        `Set-Cookie: <name>=<key>|<backend key>; Path=<path>; HttpOnly` (and Domain,
        Max-Age, Expires, Secure, SameSite as configured).
        """
        if balancing is None:
            return None, None
        if balancing.algorithm == "hash":
            hashed = balancing.hash_key(
                facts.view,
                client=facts.client,
                uri=facts.uri,
                request_uri=facts.request_uri,
                host=facts.host,
            )
            return balancer.pick(hashed), None
        if balancing.algorithm == "cookie" and isinstance(balancer, CookieAffinity):
            cookie = balancing.cookie or SessionCookie()
            sent = cookie_value(facts.view.header("cookie"), cookie.name)
            session = None if sent is None else sent.split("|", 1)[0]
            endpoint, new = balancer.pick_sticky(session or None)
            if new is None:
                return endpoint, None
            return endpoint, _set_cookie(cookie, new, key, facts)
        return None, None
