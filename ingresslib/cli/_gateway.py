"""How the commands show Gateway API things: conditions, listeners, rules, decisions.

One line each, so that `check`, `routes` and `explain` say the same thing the same way and
scripts can grep them: a condition is `Type=Status`, followed by `(Reason: message)` when it
is abnormal or its reason says more than its type.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from ingresslib.gatewayapi import ListenerState
from ingresslib.resources import Condition, ParentReference
from ingresslib.routing import Decision
from ingresslib.routing._explain import describe_conditions
from ingresslib.rules import (
    CORS,
    Filter,
    HeaderChanges,
    HTTPSRedirect,
    Match,
    Mirror,
    Redirect,
    RequestHeaders,
    Respond,
    ResponseHeaders,
    Rewrite,
    Rule,
    Timeouts,
    WeightedBackend,
    gateway_covers,
)

__all__ = [
    "abnormal",
    "condition_text",
    "conditions_text",
    "covers",
    "describe_backends",
    "describe_decision",
    "describe_filters",
    "describe_match",
    "invalid_shares",
    "listener_text",
    "parent_text",
]

# Conditions whose True is the abnormal state ("Conflicted: True" means the listener
# conflicts); every other condition of the Gateway API is abnormal when False.
_NEGATIVE = frozenset({"Conflicted", "PartiallyInvalid"})
# Reasons that say nothing more than the condition's status.
_PLAIN_REASONS = frozenset({"NoConflicts"})


def abnormal(condition: Condition) -> bool:
    """Whether a condition reports a problem (False, or True for Conflicted)."""
    if condition.type in _NEGATIVE:
        return condition.status == "True"
    return condition.status == "False"


def condition_text(condition: Condition) -> str:
    """`Accepted=True`, or `Accepted=False (NotAllowedByListeners: message)`."""
    text = f"{condition.type}={condition.status}"
    if abnormal(condition) or condition.reason not in (condition.type, *_PLAIN_REASONS):
        detail = condition.reason
        if condition.message and condition.message != condition.reason:
            detail = f"{detail}: {condition.message}"
        text = f"{text} ({detail})"
    return text


def conditions_text(conditions: Iterable[Condition]) -> str:
    """The conditions of one object, on one line."""
    return " ".join(condition_text(c) for c in conditions) or "(no conditions)"


def listener_text(state: ListenerState) -> str:
    """`port 80, HTTP, hostname *` (`*`: the listener has no hostname)."""
    listener = state.listener
    return f"port {listener.port}, {listener.protocol}, hostname {state.hostname or '*'}"


def parent_text(ref: ParentReference, route_namespace: str) -> str:
    """A parentRef as `namespace/name`, with ` section=...` and ` port=...` when given."""
    text = f"{ref.namespace or route_namespace}/{ref.name}"
    if ref.kind != "Gateway":
        text = f"{ref.kind} {text}"
    if ref.section_name is not None:
        text = f"{text} section={ref.section_name}"
    if ref.port is not None:
        text = f"{text} port={ref.port}"
    return text


def covers(hostname: str, name: str) -> bool:
    """Whether a Gateway API hostname (normalised; "" for none) covers a request host."""
    return not hostname or gateway_covers(hostname, name)


def describe_match(match: Match) -> str:
    """The conditions of a match besides its path (`-` when it has none)."""
    return " ".join(describe_conditions(match)) or "-"


def _share(share: WeightedBackend, namespace: str, many: bool) -> str:
    backend = share.backend
    text = backend.describe()
    if backend.namespace and backend.namespace != namespace:
        text = f"{backend.namespace}/{text}"
    if many:
        text = f"{text} weight={share.weight}"
    if share.filters:
        text += "".join(f" +{_filter_name(f)}" for f in share.filters)
    if share.invalid is not None:
        text = f"{text} (invalid)"
    return text


def describe_backends(rule: Rule) -> str:
    """Every weighted backend of a rule (`-` when it has none)."""
    many = len(rule.backends) > 1
    namespace = rule.source.namespace
    return ", ".join(_share(s, namespace, many) for s in rule.backends) or "-"


def invalid_shares(rule: Rule) -> list[str]:
    """`backend: why` for each backend of a rule (and mirror) that cannot be served."""
    namespace = rule.source.namespace
    found = [
        f"{_share(s, namespace, False).removesuffix(' (invalid)')}: {s.invalid}"
        for s in rule.backends
        if s.invalid is not None
    ]
    found.extend(
        f"mirror {_backend(f, namespace)}: {f.invalid}"
        for f in rule.filters
        if isinstance(f, Mirror) and f.invalid is not None
    )
    return found


def _backend(mirror: Mirror, namespace: str) -> str:
    backend = mirror.backend
    text = backend.describe()
    if backend.namespace and backend.namespace != namespace:
        text = f"{backend.namespace}/{text}"
    return text


def _filter_name(step: Filter) -> str:
    return {
        RequestHeaders: "RequestHeaderModifier",
        ResponseHeaders: "ResponseHeaderModifier",
        Redirect: "RequestRedirect",
        Rewrite: "URLRewrite",
        Mirror: "RequestMirror",
        CORS: "CORS",
        Timeouts: "timeouts",
        Respond: "respond",
        HTTPSRedirect: "ssl-redirect",
    }.get(type(step), type(step).__name__)


def _changes(changes: HeaderChanges) -> str:
    parts = [f"set {name}={value}" for name, value in changes.set]
    parts.extend(f"add {name}={value}" for name, value in changes.add)
    parts.extend(f"remove {name}" for name in changes.remove)
    return "; ".join(parts)


def _seconds(value: float | None) -> str:
    if value is None:
        return "default"
    if math.isinf(value):
        return "off"
    return f"{value:g}s"


def _describe_filter(step: Filter, namespace: str) -> str:
    name = _filter_name(step)
    if isinstance(step, RequestHeaders | ResponseHeaders):
        return f"{name}({_changes(step.changes)})"
    if isinstance(step, Redirect):
        parts = [str(step.status)]
        parts.extend(
            f"{key}={value}"
            for key, value in (
                ("scheme", step.scheme),
                ("hostname", step.hostname),
                ("port", step.port),
            )
            if value is not None
        )
        if step.path is not None:
            parts.append(f"{step.path.type}={step.path.value}")
        return f"{name}({' '.join(parts)})"
    if isinstance(step, Rewrite):
        parts = [] if step.hostname is None else [f"hostname={step.hostname}"]
        if step.path is not None:
            parts.append(f"{step.path.type}={step.path.value}")
        return f"{name}({' '.join(parts)})"
    if isinstance(step, Mirror):
        numerator, denominator = step.fraction
        share = f"{numerator}%" if denominator == 100 else f"{numerator}/{denominator}"
        invalid = " invalid" if step.invalid is not None else ""
        return f"{name}({_backend(step, namespace)} {share}{invalid})"
    if isinstance(step, CORS):
        return f"{name}(origins={','.join(step.allow_origins) or '-'})"
    if isinstance(step, Timeouts):
        return (
            f"{name}(request={_seconds(step.request)} "
            f"backendRequest={_seconds(step.backend_request)})"
        )
    if isinstance(step, Respond):
        return f"{name}({step.status} {step.reason})".rstrip()
    return name


def describe_filters(rule: Rule) -> str:
    """The filters of a rule, in order (`-` when it has none)."""
    namespace = rule.source.namespace
    return ", ".join(_describe_filter(f, namespace) for f in rule.filters) or "-"


def describe_decision(decision: Decision) -> str:
    """What `decide()` said: forward (to what), redirect (where) or respond (with what)."""
    if decision.action == "redirect":
        return f"redirect {decision.status} to {decision.location}"
    if decision.action == "respond":
        reason = f" ({decision.reason})" if decision.reason else ""
        return f"respond {decision.status}{reason}"
    rule = decision.match.rule if decision.match is not None else None
    namespace = rule.source.namespace if rule is not None else ""
    many = len(decision.backends) > 1
    backends = ", ".join(_share(s, namespace, many) for s in decision.backends)
    parts = [f"forward {decision.path} to {backends}"]
    if decision.authority is not None:
        parts.append(f"Host {decision.authority}")
    if decision.request_headers is not None:
        parts.append(f"request headers {_changes(decision.request_headers)}")
    if decision.response_headers is not None:
        parts.append(f"response headers {_changes(decision.response_headers)}")
    parts.extend(f"mirror to {_backend(m, namespace)}" for m in decision.mirrors)
    if decision.timeouts is not None:
        parts.append(
            f"timeouts request={_seconds(decision.timeouts.request)} "
            f"backendRequest={_seconds(decision.timeouts.backend_request)}"
        )
    invalid = [s for s in decision.backends if s.invalid is not None]
    parts.extend(
        f"the share of {_share(s, namespace, False).removesuffix(' (invalid)')} is answered "
        f"500: {s.invalid}"
        for s in invalid
    )
    return "; ".join(parts)
