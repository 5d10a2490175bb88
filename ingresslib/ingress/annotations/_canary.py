"""`canary`: a second Ingress for the same host and path that takes part of its traffic.

ingress-nginx does not route a canary Ingress's paths itself (createServers: "Ingress ...
is marked as Canary, ignoring"); `mergeAlternativeBackends` makes its backend the
alternative of the main location with the same host, path and path type (a canary path
without one is dropped: "unable to find real backend for alternative backend"), and
balancer.lua's `route_to_alternative_balancer` decides per request, in this order:

- `canary-by-header`: with `canary-by-header-value`, the canary iff the header equals it;
  else with `canary-by-header-pattern`, iff the pattern matches (`ngx.re.match`,
  unanchored); else "always" -> canary, "never" -> main; any other value falls through;
- `canary-by-cookie`: "always" -> canary, "never" -> main, else fall through;
- `canary-weight`: the canary with probability weight / total, where the total is
  `canary-weight-total` when above 100, else 100.

Only the first canary of a location counts ("TODO: support traffic shaping for n > 1
alternative backends"). Here the weighted choice is the executor's: the step gives both
backend sets with weights `total - weight` and `weight`.

One difference: ingress-nginx attaches the alternative to the main location's upstream
(its Service), so another host's path to the same Service is shaped too; ingresslib
shapes the matching host and path only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import attrs

from ingresslib.ingress.annotations._values import (
    BASIC_CHARS,
    NGINX_PREFIX,
    VALID_REGEX,
    AnnotationReader,
    Ignored,
    Invalid,
    nginx_annotations,
    validate_regex,
)
from ingresslib.plugins._annotations import (
    NOTHING,
    PHASE_SERVER_REWRITE,
    AnnotationContext,
    AnnotationProblem,
    Contribution,
)
from ingresslib.resources._networking import Ingress
from ingresslib.rules._model import Rule
from ingresslib.rules._policies import cookie_value
from ingresslib.rules._steps import Answer, Step, StepState
from ingresslib.rules._weighted import WeightedBackend

__all__ = ["Canary", "CanaryPlugin", "CanaryPolicy"]


@attrs.frozen
class CanaryPolicy:
    """The traffic-shaping policy of a canary Ingress (its `canary-*` annotations).

    Attributes:
        header: `canary-by-header` ("" for none).
        header_value: `canary-by-header-value`.
        header_pattern: `canary-by-header-pattern`.
        cookie: `canary-by-cookie` ("" for none).
        weight: `canary-weight`.
        weight_total: `canary-weight-total`.
    """

    header: str = ""
    header_value: str = ""
    header_pattern: str = ""
    cookie: str = ""
    weight: int = 0
    weight_total: int = 100


class _Marker(Step):
    """Carried by a canary Ingress's own rules, which `host_rules` removes."""

    __slots__ = ()

    def run(self, state: StepState) -> Answer | None:  # pragma: no cover - never routed
        del state
        return Answer(503, reason="a canary path without its main path")


@attrs.frozen
class _CanaryOf(_Marker):
    policy: CanaryPolicy


def _pattern(pattern: str) -> Any:
    try:
        import re2  # type: ignore[import-untyped]  # noqa: PLC0415 -- the optional re2 extra
    except ImportError:
        return re.compile(pattern)
    return re2.compile(pattern)


@attrs.frozen
class Canary(Step):
    """`route_to_alternative_balancer`: the canary's backends, the main's, or both weighted.

    Attributes:
        policy: the canary Ingress's policy.
        backends: the canary Ingress's backends for this path.
    """

    policy: CanaryPolicy
    backends: tuple[WeightedBackend, ...]
    _compiled: Any = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        pattern = self.policy.header_pattern
        object.__setattr__(self, "_compiled", _pattern(pattern) if pattern else None)

    def run(self, state: StepState) -> Answer | None:
        """Choose the backends of this request."""
        policy = self.policy
        if policy.header:
            value = state.header(policy.header.lower())
            if value is not None:
                if policy.header_value:
                    if value == policy.header_value:
                        return self._canary(state)
                elif self._compiled is not None:
                    if self._compiled.search(value) is not None:
                        return self._canary(state)
                elif value == "always":
                    return self._canary(state)
                elif value == "never":
                    return None
        if policy.cookie:
            cookie = cookie_value(state.header("cookie"), policy.cookie)
            if cookie == "always":
                return self._canary(state)
            if cookie == "never":
                return None
        if policy.weight <= 0:
            return None
        total = max(policy.weight_total, 100)
        if policy.weight >= total:
            return self._canary(state)
        # `math.random(weightTotal) <= weight`: P(canary) = weight / total, drawn by the
        # executor's weighted choice between the main and the canary backends.
        main = _scaled(state.backends, total - policy.weight)
        state.backends = (*main, *_scaled(self.backends, policy.weight))
        return None

    def _canary(self, state: StepState) -> Answer | None:
        state.backends = self.backends
        return None


def _scaled(backends: Sequence[WeightedBackend], share: int) -> tuple[WeightedBackend, ...]:
    """The backends with their weights summing (about) to `share`, ratios kept."""
    total = sum(b.weight for b in backends) or 1
    return tuple(
        attrs.evolve(b, weight=max(b.weight * share // total, 1) if b.weight else 0)
        for b in backends
    )


@attrs.frozen
class CanaryPlugin:
    """`canary` and the `canary-*` annotations (host-wide: `host_rules` merges them)."""

    name: str = "nginx.ingress.kubernetes.io/canary"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = nginx_annotations(
        "canary",
        "canary-by-header",
        "canary-by-header-value",
        "canary-by-header-pattern",
        "canary-by-cookie",
        "canary-weight",
        "canary-weight-total",
    )
    # Before the other host-wide plugins: the canary paths leave the host's rules first.
    phase: int = PHASE_SERVER_REWRITE
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """Mark a canary Ingress's rules with its policy."""
        del context
        reader = AnnotationReader(ingress)
        problems: list[AnnotationProblem] = []

        def read(name: str, kind: str, default: Any) -> Any:
            chars = validate_regex(BASIC_CHARS, remove_space=True)
            value: Any
            try:
                if kind == "bool":
                    value = reader.boolean(name)
                elif kind == "int":
                    value = reader.integer(name)
                elif kind == "pattern":
                    value = reader.string(name, validate_regex(VALID_REGEX))
                else:
                    value = reader.string(name, chars)
            except (Invalid, Ignored) as error:
                if isinstance(error, Invalid):
                    # canary/main.go: "%s is invalid, defaulting to ..."
                    problems.append(
                        reader.warning(error.annotation, f"{error.reason}; using {default!r}")
                    )
                return default
            return default if value is None else value

        enabled = read("canary", "bool", False)
        policy = CanaryPolicy(
            header=read("canary-by-header", "str", ""),
            header_value=read("canary-by-header-value", "str", ""),
            header_pattern=read("canary-by-header-pattern", "pattern", ""),
            cookie=read("canary-by-cookie", "str", ""),
            weight=read("canary-weight", "int", 0),
            weight_total=read("canary-weight-total", "int", 100),
        )
        if not enabled:
            if policy != CanaryPolicy(weight_total=policy.weight_total):
                # canary/main.go: "configured but not enabled" (Extract skips it).
                used = next(
                    name
                    for name in sorted(self.annotations)
                    if name in ingress.metadata.annotations and name != NGINX_PREFIX + "canary"
                )
                problems.append(
                    reader.warning(used, "canary-* annotations configured but not enabled: ignored")
                )
            return Contribution(problems=tuple(problems)) if problems else NOTHING
        if policy.header_pattern:
            try:
                _pattern(policy.header_pattern)
            except Exception as error:  # noqa: BLE001 -- re and re2 raise their own types
                problems.append(
                    reader.warning("canary-by-header-pattern", f"invalid pattern: {error}; ignored")
                )
                policy = attrs.evolve(policy, header_pattern="")
        return Contribution(filters=(_CanaryOf(policy),), problems=tuple(problems))

    def host_rules(self, host: str, rules: Sequence[Rule]) -> Sequence[Rule]:
        """The host's rules without the canary paths, the main paths shaped by them."""
        del host
        if not any(_canary_of(rule) is not None for rule in rules):
            return rules
        mains: list[Rule] = []
        canaries: list[tuple[Rule, CanaryPolicy]] = []
        for rule in rules:
            policy = _canary_of(rule)
            if policy is None:
                mains.append(rule)
            else:
                canaries.append((rule, policy))
        shaped: dict[int, Canary] = {}
        for canary, policy in canaries:
            key = _path_key(canary)
            for index, main in enumerate(mains):
                if _path_key(main) == key:
                    # The first canary of a location is the one that counts.
                    shaped.setdefault(index, Canary(policy, canary.backends))
                    break
        return [
            attrs.evolve(rule, filters=(*rule.filters, shaped[index])) if index in shaped else rule
            for index, rule in enumerate(mains)
        ]


def _canary_of(rule: Rule) -> CanaryPolicy | None:
    for step in rule.filters:
        if isinstance(step, _CanaryOf):
            return step.policy
    return None


def _path_key(rule: Rule) -> tuple[tuple[str, str | None], ...]:
    """`loc.Path == path.Path && *loc.PathType == *path.PathType`."""
    return tuple((match.path.value, match.path.path_type) for match in rule.matches)
