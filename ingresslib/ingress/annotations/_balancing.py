"""Endpoint choice: affinity (cookie), session-cookie-*, upstream-hash-by, load-balance.

balancer.lua, `get_implementation`: the load-balance algorithm (`round_robin` by
default, or `ewma`), unless the backend has cookie affinity ("sticky_persistent" or
"sticky_balanced" by `affinity-mode`) or an `upstream-hash-by` ("chash": consistent
hashing of the nginx variables it names). The executors pick with the balancers of
`ingresslib.endpoints` (CookieAffinity, RingHash, PeakEwma, RoundRobin), per backend.
"""

from __future__ import annotations

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
    PHASE_CONTENT,
    AnnotationContext,
    AnnotationProblem,
    Contribution,
)
from ingresslib.resources._networking import Ingress
from ingresslib.rules._policies import Balancing, SessionCookie

__all__ = ["BalancingPlugin"]

_NAMES = (
    "affinity",
    "affinity-mode",
    "session-cookie-name",
    "session-cookie-path",
    "session-cookie-domain",
    "session-cookie-max-age",
    "session-cookie-expires",
    "session-cookie-secure",
    "session-cookie-samesite",
    "upstream-hash-by",
    "load-balance",
)


@attrs.frozen
class BalancingPlugin:
    """The Balancing policy of an Ingress's backends."""

    name: str = "nginx.ingress.kubernetes.io/balancing"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = nginx_annotations(*_NAMES)
    phase: int = PHASE_CONTENT
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """Cookie affinity, else consistent hashing, else the load-balance algorithm."""
        del context
        reader = AnnotationReader(ingress)
        problems: list[AnnotationProblem] = []

        def text(name: str) -> str:
            try:
                return reader.string(name) or ""
            except (Invalid, Ignored) as error:
                problems.append(reader.warning(error.annotation, f"{error.reason}; ignored"))
                return ""

        def number(name: str) -> int | None:
            value = text(name)
            if not value:
                return None
            if not value.isdigit():
                problems.append(reader.warning(name, f"{value!r} is not a number; ignored"))
                return None
            return int(value)

        affinity = text("affinity")
        if affinity == "cookie":
            mode = text("affinity-mode") or "balanced"
            if mode not in ("balanced", "persistent"):
                problems.append(reader.warning("affinity-mode", f"{mode!r}: using balanced"))
                mode = "balanced"
            secure_text = text("session-cookie-secure").lower()
            cookie = SessionCookie(
                name=text("session-cookie-name") or "INGRESSCOOKIE",
                path=text("session-cookie-path") or None,
                domain=text("session-cookie-domain"),
                max_age=number("session-cookie-max-age"),
                expires=number("session-cookie-expires"),
                secure=None if not secure_text else secure_text == "true",
                samesite=text("session-cookie-samesite"),
                mode=mode,  # type: ignore[arg-type]  # checked above
            )
            return Contribution(
                filters=(Balancing("cookie", cookie=cookie),), problems=tuple(problems)
            )
        if affinity:
            problems.append(reader.warning("affinity", f"{affinity!r}: only cookie is known"))
        hash_by = text("upstream-hash-by")
        if hash_by:
            return Contribution(
                filters=(Balancing("hash", hash_by=hash_by),), problems=tuple(problems)
            )
        algorithm = text("load-balance")
        if algorithm in ("round_robin", "ewma"):
            return Contribution(filters=(Balancing(algorithm),), problems=tuple(problems))  # type: ignore[arg-type]  # checked
        if algorithm:
            problems.append(
                reader.warning("load-balance", f"{algorithm!r}: round_robin or ewma; ignored")
            )
        return Contribution(problems=tuple(problems)) if problems else NOTHING
