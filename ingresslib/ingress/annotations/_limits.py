r"""Limits: limit-rps, limit-rpm, limit-connections, limit-allowlist and proxy-body-size.

ratelimit/main.go and `buildRateLimit` (template.go): per Ingress, a zone named
`<namespace>_<name>_<uid>` with the suffixes `_rps`, `_rpm`, `_conn`, keyed by the client
address (`$binary_remote_addr`, or "" for an allowlisted client: not counted); in every
location of the Ingress `limit_req zone=<zone>_rps burst=<rps * multiplier> nodelay;`,
the same for rpm, and `limit_conn <zone>_conn <n>;`. The multiplier defaults to 5; a
refused request gets `limit-req-status-code` / `limit-conn-status-code` (503). A value
that is not an integer refuses the Ingress (`ValidateInt` is a validation error); an
allowlist that does not parse makes the parser fail with a plain error, which `Extract`
skips: no limit at all.

`proxy-body-size`: `client_max_body_size` (when `isValidByteSize`: `^\d+[kKmMgG]?$`),
which nginx checks against Content-Length as soon as the location is found, before the
rewrite phase ("client intended to send too large body": 413); 0 turns the check off.
"""

from __future__ import annotations

import re

import attrs

from ingresslib.ingress.annotations._values import (
    NGINX_PREFIX,
    AnnotationReader,
    Ignored,
    Invalid,
    nginx_annotations,
    parse_cidrs,
)
from ingresslib.plugins._annotations import (
    NOTHING,
    PHASE_CONTENT,
    PHASE_PREACCESS,
    PHASE_SERVER_REWRITE,
    AnnotationContext,
    AnnotationProblem,
    Contribution,
)
from ingresslib.ratelimit._algorithms import LimitReq
from ingresslib.resources._networking import Ingress
from ingresslib.rules._filters import Timeouts
from ingresslib.rules._policies import ConnectionLimit, Network, RequestRateLimit
from ingresslib.rules._steps import Answer, Policy, Step, StepState

__all__ = [
    "BodySize",
    "BodySizePlugin",
    "LimitsPlugin",
    "ProxyTimeoutsPlugin",
    "parse_nginx_size",
]

_DEFAULT_BURST_MULTIPLIER = 5
_OFFSET = re.compile(r"^\d+[kKmMgG]?$")
_UNITS = {"k": 1024, "m": 1024**2, "g": 1024**3}


@attrs.frozen
class LimitsPlugin:
    """The request-rate and connection limits of an Ingress, per client address."""

    name: str = "nginx.ingress.kubernetes.io/ratelimit"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = nginx_annotations(
        "limit-rps",
        "limit-rpm",
        "limit-connections",
        "limit-burst-multiplier",
        "limit-allowlist",
        "limit-whitelist",
    )
    phase: int = PHASE_PREACCESS
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """RequestRateLimit and ConnectionLimit policies for the Ingress's paths."""
        del context
        reader = AnnotationReader(ingress)
        problems: list[AnnotationProblem] = []
        try:
            rpm = reader.integer("limit-rpm") or 0
            rps = reader.integer("limit-rps") or 0
            connections = reader.integer("limit-connections") or 0
            found = reader.find("limit-allowlist", None, "limit-whitelist")
        except Invalid as error:
            return reader.refuse(error.annotation, error.reason)
        except Ignored:
            return NOTHING
        try:
            multiplier = reader.integer("limit-burst-multiplier")
        except (Invalid, Ignored) as error:
            problems.append(reader.warning(error.annotation, f"{error.reason}; using 5"))
            multiplier = None
        if multiplier is None:
            multiplier = _DEFAULT_BURST_MULTIPLIER
        allowlist: tuple[Network, ...] = ()
        if found is not None and found[1].strip():
            try:
                allowlist = parse_cidrs(found[1])
            except ValueError as error:
                problem = reader.warning(found[0], f"{error}: no limit applies (as ingress-nginx)")
                return Contribution(problems=(problem,))
        if rpm <= 0 and rps <= 0 and connections <= 0:
            return Contribution(problems=tuple(problems)) if problems else NOTHING
        meta = ingress.metadata
        zone = f"{meta.namespace}_{meta.name}_{meta.uid}"
        # limit_req (preaccess) runs before limit_conn; rps is written before rpm.
        policies: list[Policy] = []
        if rps > 0:
            policies.append(
                RequestRateLimit(
                    f"{zone}_rps",
                    LimitReq(rps, per="s", burst=max(rps * multiplier, 0), nodelay=True),
                    allowlist,
                )
            )
        if rpm > 0:
            policies.append(
                RequestRateLimit(
                    f"{zone}_rpm",
                    LimitReq(rpm, per="m", burst=max(rpm * multiplier, 0), nodelay=True),
                    allowlist,
                )
            )
        if connections > 0:
            policies.append(ConnectionLimit(f"{zone}_conn", connections, allowlist))
        return Contribution(filters=tuple(policies), problems=tuple(problems))


def parse_nginx_size(value: str) -> int | None:
    """The bytes of an nginx size with an optional k/m/g suffix, or None if invalid."""
    text = value.strip()
    if not _OFFSET.match(text):
        return None
    unit = _UNITS.get(text[-1].lower())
    return int(text[:-1]) * unit if unit else int(text)


@attrs.frozen
class BodySize(Step):
    """`client_max_body_size <limit>`: 413 for a declared body that exceeds it.

    Attributes:
        limit: the largest body accepted, in bytes.
    """

    limit: int

    def run(self, state: StepState) -> Answer | None:
        """413 when the Content-Length exceeds the limit."""
        declared = state.header("content-length")
        if declared is None or not declared.isdigit():
            return None
        if int(declared) > self.limit:
            return Answer(413, reason="client intended to send too large body")
        return None


@attrs.frozen
class BodySizePlugin:
    """`proxy-body-size`."""

    name: str = "nginx.ingress.kubernetes.io/proxy-body-size"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = frozenset({NGINX_PREFIX + "proxy-body-size"})
    phase: int = PHASE_SERVER_REWRITE
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """The BodySize step."""
        del context
        reader = AnnotationReader(ingress)
        value = ingress.metadata.annotations.get(reader.full("proxy-body-size"), "")
        size = parse_nginx_size(value)
        if size is None:
            return Contribution(
                problems=(
                    reader.warning("proxy-body-size", f"{value!r} is not an nginx size: ignored"),
                )
            )
        if size == 0:
            return NOTHING  # "Setting size to 0 disables checking of client request body size."
        return Contribution(filters=(BodySize(size),))


@attrs.frozen
class ProxyTimeoutsPlugin:
    """`proxy-connect-timeout`, `proxy-send-timeout`, `proxy-read-timeout` (seconds).

    proxy/main.go: each is `GetIntAnnotation`, and any error gives the controller's default
    (here: the executor's own); the template writes `proxy_connect_timeout <n>s;`...
    """

    name: str = "nginx.ingress.kubernetes.io/proxy-timeouts"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = nginx_annotations(
        "proxy-connect-timeout", "proxy-send-timeout", "proxy-read-timeout"
    )
    phase: int = PHASE_CONTENT
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """A Timeouts filter with the connect, send and read timeouts set."""
        del context
        reader = AnnotationReader(ingress)
        problems: list[AnnotationProblem] = []
        values: dict[str, float | None] = {}
        for name, field in (
            ("proxy-connect-timeout", "connect"),
            ("proxy-send-timeout", "send"),
            ("proxy-read-timeout", "read"),
        ):
            try:
                seconds = reader.integer(name)
            except (Invalid, Ignored) as error:
                problems.append(
                    reader.warning(error.annotation, f"{error.reason}; the default applies")
                )
                seconds = None
            values[field] = None if seconds is None or seconds <= 0 else float(seconds)
        if all(value is None for value in values.values()):
            return Contribution(problems=tuple(problems)) if problems else NOTHING
        return Contribution(filters=(Timeouts(**values),), problems=tuple(problems))
