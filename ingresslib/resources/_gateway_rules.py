"""The CEL `x-kubernetes-validations` rules of the Gateway API v1.6.1 standard CRDs, in Python.

Each function implements one rule, registered under the rule's exact CEL text (the key the
CRD gives it); the message comes from the CRD (one rule text may carry several messages, e.g.
the `'*'` rule of the three CORS lists). `self` is the object's JSON value at the rule's node,
already defaulted by the CRD schema, and the rules only run on objects the schema accepted
(the apiserver skips them after a blocking schema error), so required and defaulted fields are
present. A field a rule reads without `has()` and that is absent is CEL's "no such key" error,
raised here as `RuleError` (`KeyError` is turned into one by the caller).

Every rule of the vendored CRDs is here but the transition rule `self == oldSelf` (GatewayClass
`spec.controllerName`, "Value is immutable"), which the apiserver only evaluates on update;
tests/test_gateway_resources.py checks that the two sets match.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ingresslib.resources._crd import RuleError, go_regex

__all__ = ["NOT_ON_CREATE", "RULES"]

Check = Callable[[Any], bool]

#: Every implemented rule: its CEL text -> a function of `self` that tells whether it holds.
RULES: dict[str, Check] = {}

#: Transition rules (they read `oldSelf`): evaluated only on update, never on create.
NOT_ON_CREATE = frozenset({"self == oldSelf"})


def _rule(cel: str) -> Callable[[Check], Check]:
    def register(check: Check) -> Check:
        RULES[cel] = check
        return check

    return register


# --- CEL helpers ------------------------------------------------------------------------

_HOSTNAME = r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
_QUALIFIED_KEY = (
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?"
    r"([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$"
)
_PATH_CHARACTERS = r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$"
_GRPC_SERVICE = r"^(?i)\.?[a-z_][a-z_0-9]*(\.[a-z_][a-z_0-9]*)*$"
_GRPC_METHOD = r"^[A-Za-z_][A-Za-z_0-9]*$"
_EXACT_OR_PREFIX = ("Exact", "PathPrefix")


def _matches(value: str, pattern: str) -> bool:
    """CEL `string.matches(re)`: RE2, true when the pattern matches anywhere in the string."""
    return go_regex(pattern).search(value) is not None


def _exists_one(items: Iterable[Any], predicate: Callable[[Any], bool]) -> bool:
    """CEL `exists_one`: exactly one element satisfies the predicate."""
    return sum(1 for item in items if predicate(item)) == 1


def _count(filters: Iterable[Mapping[str, Any]], type_: str) -> int:
    """`self.filter(f, f.type == type_).size()`."""
    return sum(1 for f in filters if f["type"] == type_)


def _field(value: Mapping[str, Any], key: str) -> Any:
    """`value.key` without `has()`: CEL's "no such key" error when it is absent."""
    if key not in value:
        raise RuleError(f"no such key: {key}")
    return value[key]


def _or(*sides: Callable[[], bool]) -> bool:
    """CEL's `||`: true if any side is true, even when another fails; else the first error."""
    error: RuleError | None = None
    for side in sides:
        try:
            if side():
                return True
        except RuleError as failure:  # noqa: PERF203 -- CEL evaluates every side
            error = error or failure
    if error is not None:
        raise error
    return False


_DURATION_PART = re.compile(r"([0-9]+)(h|ms|m|s)")
_NANOSECONDS = {"h": 3600 * 10**9, "m": 60 * 10**9, "s": 10**9, "ms": 10**6}


def _duration(text: str) -> int:
    """CEL `duration(string)` of a Gateway API Duration (`^([0-9]{1,5}(h|m|s|ms)){1,4}$`), in ns."""
    parts = _DURATION_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise RuleError(f"invalid duration: {text!r}")
    return sum(int(number) * _NANOSECONDS[unit] for number, unit in parts)


def _exists_one_like(items: Iterable[Any], item: Any, same: Callable[[Any, Any], bool]) -> bool:
    """`self.exists_one(b, <same(item, b)>)`: exactly one element is "the same" as `item`."""
    return sum(1 for other in items if same(item, other)) == 1


def _same_value(a1: Mapping[str, Any], a2: Mapping[str, Any]) -> bool:
    return bool(a2["type"] == a1["type"] and "value" in a2 and a2["value"] == a1["value"])


def _unique_values(addresses: list[Mapping[str, Any]], type_: str) -> bool:
    """Every address of `type_` with a value has a value no other address of that type has."""
    return all(
        _exists_one_like(addresses, a1, _same_value)
        for a1 in addresses
        if a1["type"] == type_ and "value" in a1
    )


def _same_listener(l1: Mapping[str, Any], l2: Mapping[str, Any]) -> bool:
    """Port, protocol and hostname equal (an absent hostname equals only an absent one)."""
    if l1["port"] != l2["port"] or l1["protocol"] != l2["protocol"]:
        return False
    if "hostname" in l1 and "hostname" in l2:
        return bool(l1["hostname"] == l2["hostname"])
    return "hostname" not in l1 and "hostname" not in l2


def _unset(ref: Mapping[str, Any], key: str) -> bool:
    """`!has(ref.key) || ref.key == ''`."""
    return bool(ref.get(key, "") == "")


def _same_optional(p1: Mapping[str, Any], p2: Mapping[str, Any], key: str) -> bool:
    """Both unset (absent or ""), or both set and equal."""
    if _unset(p1, key) and _unset(p2, key):
        return True
    return key in p1 and key in p2 and p1[key] == p2[key]


def _same_parent(p1: Mapping[str, Any], p2: Mapping[str, Any]) -> bool:
    """Two parentRefs name the same parent: group, kind, name and namespace."""
    return (
        p1["group"] == p2["group"]
        and p1["kind"] == p2["kind"]
        and p1["name"] == p2["name"]
        and _same_optional(p1, p2, "namespace")
    )


def _no_section(ref: Mapping[str, Any]) -> bool:
    return _unset(ref, "sectionName")


def _same_section(p1: Mapping[str, Any], p2: Mapping[str, Any]) -> bool:
    return _same_optional(p1, p2, "sectionName")


def _with_filter(
    predicate: Callable[[Mapping[str, Any]], bool],
) -> Callable[[Mapping[str, Any]], bool]:
    """`b -> has(b.filters) && b.filters.exists_one(f, predicate(f))`."""

    def has_filter(backend: Mapping[str, Any]) -> bool:
        return "filters" in backend and _exists_one(backend["filters"], predicate)

    return has_filter


def _prefix_modifier(member: str) -> Callable[[Mapping[str, Any]], bool]:
    """A filter whose `<member>` replaces the prefix match.

    `has(f.<member>) && has(f.<member>.path) && f.<member>.path.type == 'ReplacePrefixMatch'
    && has(f.<member>.path.replacePrefixMatch)`
    """

    def modifies(f: Mapping[str, Any]) -> bool:
        path = f.get(member, {}).get("path")
        return (
            path is not None
            and path["type"] == "ReplacePrefixMatch"
            and "replacePrefixMatch" in path
        )

    return modifies


def _one_prefix_match(rule: Mapping[str, Any]) -> bool:
    """Exactly one match, a PathPrefix one.

    `(size(self.matches) != 1 || !has(self.matches[0].path) ||
    self.matches[0].path.type != 'PathPrefix') ? false : true`
    """
    matches = rule["matches"]
    return len(matches) == 1 and "path" in matches[0] and matches[0]["path"]["type"] == "PathPrefix"


# --- the rules, in the order the CRDs list them ------------------------------------------


# Gateway: spec.addresses
# message: "IPAddress values must be unique"
@_rule(
    "self.all(a1, a1.type == 'IPAddress' && has(a1.value) ? self.exists_one(a2, a2.type == "
    "a1.type && has(a2.value) && a2.value == a1.value) : true )"
)
def _rule_1(self: Any) -> bool:
    return _unique_values(self, "IPAddress")


# Gateway: spec.addresses
# message: "Hostname values must be unique"
@_rule(
    "self.all(a1, a1.type == 'Hostname'  && has(a1.value) ? self.exists_one(a2, a2.type == "
    "a1.type && has(a2.value) && a2.value == a1.value) : true )"
)
def _rule_2(self: Any) -> bool:
    return _unique_values(self, "Hostname")


# Gateway: spec.addresses[i]
# message: "Hostname value must be empty or contain only valid characters (matching
#   ^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)"
@_rule(
    "self.type == 'Hostname' ? (!has(self.value) || "
    'self.value.matches(r"""^(\\*\\.)?[a-z0-9]([-a-z0-9]*'
    '[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$""")): '
    "true"
)
def _rule_3(self: Any) -> bool:
    return self["type"] != "Hostname" or "value" not in self or _matches(self["value"], _HOSTNAME)


# Gateway: spec.infrastructure.annotations; spec.infrastructure.labels
# message: "Annotation keys must be in the form of an optional DNS subdomain prefix followed by
#   a required name segment of up to 63 characters."
@_rule(
    "self.all(key, "
    'key.matches(r"""^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9'
    ']*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$"""))'
)
def _rule_4(self: Any) -> bool:
    return all(_matches(key, _QUALIFIED_KEY) for key in self)


# Gateway: spec.infrastructure.annotations; spec.infrastructure.labels
# message: "If specified, the annotation key's prefix must be a DNS subdomain not longer than
#   253 characters in total."
@_rule('self.all(key, key.split("/")[0].size() < 253)')
def _rule_5(self: Any) -> bool:
    return all(len(key.split("/")[0]) < 253 for key in self)


# Gateway: spec.listeners
# message: "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"
@_rule("self.all(l, l.protocol in ['HTTP', 'TCP', 'UDP'] ? !has(l.tls) : true)")
def _rule_6(self: Any) -> bool:
    return all("tls" not in li for li in self if li["protocol"] in ("HTTP", "TCP", "UDP"))


# Gateway: spec.listeners
# message: "tls mode must be Terminate for protocol HTTPS"
@_rule(
    "self.all(l, (l.protocol == 'HTTPS' && has(l.tls)) ? (l.tls.mode == '' || l.tls.mode "
    "== 'Terminate') : true)"
)
def _rule_7(self: Any) -> bool:
    return all(
        li["tls"]["mode"] in ("", "Terminate")
        for li in self
        if li["protocol"] == "HTTPS" and "tls" in li
    )


# Gateway: spec.listeners
# message: "tls mode must be set for protocol TLS"
@_rule(
    "self.all(l, (l.protocol == 'TLS' ? has(l.tls) && has(l.tls.mode) && l.tls.mode != '' : true))"
)
def _rule_8(self: Any) -> bool:
    return all(
        "tls" in li and "mode" in li["tls"] and li["tls"]["mode"] != ""
        for li in self
        if li["protocol"] == "TLS"
    )


# Gateway: spec.listeners
# message: "hostname must not be specified for protocols ['TCP', 'UDP']"
@_rule("self.all(l, l.protocol in ['TCP', 'UDP']  ? (!has(l.hostname) || l.hostname == '') : true)")
def _rule_9(self: Any) -> bool:
    return all(li.get("hostname", "") == "" for li in self if li["protocol"] in ("TCP", "UDP"))


# Gateway: spec.listeners
# message: "Listener name must be unique within the Gateway"
@_rule("self.all(l1, self.exists_one(l2, l1.name == l2.name))")
def _rule_10(self: Any) -> bool:
    return all(_exists_one_like(self, l1, lambda a, b: a["name"] == b["name"]) for l1 in self)


# Gateway: spec.listeners
# message: "Combination of port, protocol and hostname must be unique for each listener"
@_rule(
    "self.all(l1, self.exists_one(l2, l1.port == l2.port && l1.protocol == l2.protocol && "
    "(has(l1.hostname) && has(l2.hostname) ? l1.hostname == l2.hostname : "
    "!has(l1.hostname) && !has(l2.hostname))))"
)
def _rule_11(self: Any) -> bool:
    return all(_exists_one_like(self, l1, _same_listener) for l1 in self)


# Gateway: spec.listeners[i].tls
# message: "certificateRefs or options must be specified when mode is Terminate"
@_rule("self.mode == 'Terminate' ? size(self.certificateRefs) > 0 || size(self.options) > 0 : true")
def _rule_12(self: Any) -> bool:
    if self["mode"] != "Terminate":
        return True
    # CEL's `||` absorbs an error when the other side is true: `no such key` otherwise.
    return _or(
        lambda: len(_field(self, "certificateRefs")) > 0,
        lambda: len(_field(self, "options")) > 0,
    )


# Gateway: spec.tls.frontend.perPort
# message: "Port for TLS configuration must be unique within the Gateway"
@_rule("self.all(t1, self.exists_one(t2, t1.port == t2.port))")
def _rule_13(self: Any) -> bool:
    return all(_exists_one_like(self, t1, lambda a, b: a["port"] == b["port"]) for t1 in self)


# Gateway: status.addresses[i]
# message: "Hostname value must only contain valid characters (matching
#   ^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)"
@_rule(
    "self.type == 'Hostname' ? "
    'self.value.matches(r"""^(\\*\\.)?[a-z0-9]([-a-z0-9]*'
    '[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"""): '
    "true"
)
def _rule_14(self: Any) -> bool:
    return self["type"] != "Hostname" or _matches(self["value"], _HOSTNAME)


# GRPCRoute, HTTPRoute: spec.parentRefs
# message: "sectionName must be specified when parentRefs includes 2 or more references to the
#   same parent"
@_rule(
    "self.all(p1, self.all(p2, p1.group == p2.group && p1.kind == p2.kind && p1.name == "
    "p2.name && (((!has(p1.__namespace__) || p1.__namespace__ == '') && "
    "(!has(p2.__namespace__) || p2.__namespace__ == '')) || (has(p1.__namespace__) && "
    "has(p2.__namespace__) && p1.__namespace__ == p2.__namespace__ )) ? "
    "((!has(p1.sectionName) || p1.sectionName == '') == (!has(p2.sectionName) || "
    "p2.sectionName == '')) : true))"
)
def _rule_15(self: Any) -> bool:
    return all(
        _no_section(p1) == _no_section(p2) for p1 in self for p2 in self if _same_parent(p1, p2)
    )


# GRPCRoute, HTTPRoute: spec.parentRefs
# message: "sectionName must be unique when parentRefs includes 2 or more references to the same
#   parent"
@_rule(
    "self.all(p1, self.exists_one(p2, p1.group == p2.group && p1.kind == p2.kind && "
    "p1.name == p2.name && (((!has(p1.__namespace__) || p1.__namespace__ == '') && "
    "(!has(p2.__namespace__) || p2.__namespace__ == '')) || (has(p1.__namespace__) && "
    "has(p2.__namespace__) && p1.__namespace__ == p2.__namespace__ )) && "
    "(((!has(p1.sectionName) || p1.sectionName == '') && (!has(p2.sectionName) || "
    "p2.sectionName == '')) || (has(p1.sectionName) && has(p2.sectionName) && "
    "p1.sectionName == p2.sectionName))))"
)
def _rule_16(self: Any) -> bool:
    return all(
        _exists_one_like(self, p1, lambda a, b: _same_parent(a, b) and _same_section(a, b))
        for p1 in self
    )


# HTTPRoute: spec.rules
# message: "While 16 rules and 64 matches per rule are allowed, the total number of matches
#   across all rules in a route must be less than 128"
@_rule(
    " + ".join(f"(self.size() > {i} ? self[{i}].matches.size() : 0)" for i in range(16)) + " <= 128"
)
def _rule_17(self: Any) -> bool:
    return sum(len(rule["matches"]) for rule in self[:16]) <= 128


# HTTPRoute: spec.rules[i]
# message: "RequestRedirect filter must not be used together with backendRefs"
@_rule(
    "(has(self.backendRefs) && size(self.backendRefs) > 0) ? (!has(self.filters) || "
    "self.filters.all(f, !has(f.requestRedirect))): true"
)
def _rule_18(self: Any) -> bool:
    if not self.get("backendRefs"):
        return True
    return all("requestRedirect" not in f for f in self.get("filters", ()))


# HTTPRoute: spec.rules[i]
# message: "When using RequestRedirect filter with path.replacePrefixMatch, exactly one
#   PathPrefix match must be specified"
@_rule(
    "(has(self.filters) && self.filters.exists_one(f, has(f.requestRedirect) && "
    "has(f.requestRedirect.path) && f.requestRedirect.path.type == 'ReplacePrefixMatch' && "
    "has(f.requestRedirect.path.replacePrefixMatch))) ? ((size(self.matches) != 1 || "
    "!has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : "
    "true) : true"
)
def _rule_19(self: Any) -> bool:
    modifies = _prefix_modifier("requestRedirect")
    if not ("filters" in self and _exists_one(self["filters"], modifies)):
        return True
    return _one_prefix_match(self)


# HTTPRoute: spec.rules[i]
# message: "When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix
#   match must be specified"
@_rule(
    "(has(self.filters) && self.filters.exists_one(f, has(f.urlRewrite) && "
    "has(f.urlRewrite.path) && f.urlRewrite.path.type == 'ReplacePrefixMatch' && "
    "has(f.urlRewrite.path.replacePrefixMatch))) ? ((size(self.matches) != 1 || "
    "!has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : "
    "true) : true"
)
def _rule_20(self: Any) -> bool:
    modifies = _prefix_modifier("urlRewrite")
    if not ("filters" in self and _exists_one(self["filters"], modifies)):
        return True
    return _one_prefix_match(self)


# HTTPRoute: spec.rules[i]
# message: "Within backendRefs, when using RequestRedirect filter with path.replacePrefixMatch,
#   exactly one PathPrefix match must be specified"
@_rule(
    "(has(self.backendRefs) && self.backendRefs.exists_one(b, (has(b.filters) && "
    "b.filters.exists_one(f, has(f.requestRedirect) && has(f.requestRedirect.path) && "
    "f.requestRedirect.path.type == 'ReplacePrefixMatch' && "
    "has(f.requestRedirect.path.replacePrefixMatch))) )) ? ((size(self.matches) != 1 || "
    "!has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : "
    "true) : true"
)
def _rule_21(self: Any) -> bool:
    modifies = _prefix_modifier("requestRedirect")
    if not ("backendRefs" in self and _exists_one(self["backendRefs"], _with_filter(modifies))):
        return True
    return _one_prefix_match(self)


# HTTPRoute: spec.rules[i]
# message: "Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch,
#   exactly one PathPrefix match must be specified"
@_rule(
    "(has(self.backendRefs) && self.backendRefs.exists_one(b, (has(b.filters) && "
    "b.filters.exists_one(f, has(f.urlRewrite) && has(f.urlRewrite.path) && "
    "f.urlRewrite.path.type == 'ReplacePrefixMatch' && "
    "has(f.urlRewrite.path.replacePrefixMatch))) )) ? ((size(self.matches) != 1 || "
    "!has(self.matches[0].path) || self.matches[0].path.type != 'PathPrefix') ? false : "
    "true) : true"
)
def _rule_22(self: Any) -> bool:
    modifies = _prefix_modifier("urlRewrite")
    if not ("backendRefs" in self and _exists_one(self["backendRefs"], _with_filter(modifies))):
        return True
    return _one_prefix_match(self)


# GRPCRoute, HTTPRoute: spec.rules[i].backendRefs[i];
#   spec.rules[i].backendRefs[i].filters[i].requestMirror.backendRef;
#   spec.rules[i].filters[i].requestMirror.backendRef
# message: "Must have port for Service reference"
@_rule("(size(self.group) == 0 && self.kind == 'Service') ? has(self.port) : true")
def _rule_23(self: Any) -> bool:
    return not (len(self["group"]) == 0 and self["kind"] == "Service") or "port" in self


# HTTPRoute: spec.rules[i].backendRefs[i].filters; spec.rules[i].filters
# message: "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite,
#   but not both"
@_rule("!(self.exists(f, f.type == 'RequestRedirect') && self.exists(f, f.type == 'URLRewrite'))")
def _rule_24(self: Any) -> bool:
    types = {f["type"] for f in self}
    return not ("RequestRedirect" in types and "URLRewrite" in types)


# HTTPRoute: spec.rules[i].backendRefs[i].filters; spec.rules[i].filters
# message: "CORS filter cannot be repeated"
@_rule("self.filter(f, f.type == 'CORS').size() <= 1")
def _rule_25(self: Any) -> bool:
    return _count(self, "CORS") <= 1


# GRPCRoute, HTTPRoute: spec.rules[i].backendRefs[i].filters; spec.rules[i].filters
# message: "RequestHeaderModifier filter cannot be repeated"
@_rule("self.filter(f, f.type == 'RequestHeaderModifier').size() <= 1")
def _rule_26(self: Any) -> bool:
    return _count(self, "RequestHeaderModifier") <= 1


# GRPCRoute, HTTPRoute: spec.rules[i].backendRefs[i].filters; spec.rules[i].filters
# message: "ResponseHeaderModifier filter cannot be repeated"
@_rule("self.filter(f, f.type == 'ResponseHeaderModifier').size() <= 1")
def _rule_27(self: Any) -> bool:
    return _count(self, "ResponseHeaderModifier") <= 1


# HTTPRoute: spec.rules[i].backendRefs[i].filters; spec.rules[i].filters
# message: "RequestRedirect filter cannot be repeated"
@_rule("self.filter(f, f.type == 'RequestRedirect').size() <= 1")
def _rule_28(self: Any) -> bool:
    return _count(self, "RequestRedirect") <= 1


# HTTPRoute: spec.rules[i].backendRefs[i].filters; spec.rules[i].filters
# message: "URLRewrite filter cannot be repeated"
@_rule("self.filter(f, f.type == 'URLRewrite').size() <= 1")
def _rule_29(self: Any) -> bool:
    return _count(self, "URLRewrite") <= 1


# HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.cors must be nil if the filter.type is not CORS"
@_rule("!(has(self.cors) && self.type != 'CORS')")
def _rule_30(self: Any) -> bool:
    return not ("cors" in self and self["type"] != "CORS")


# HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.cors must be specified for CORS filter.type"
@_rule("!(!has(self.cors) && self.type == 'CORS')")
def _rule_31(self: Any) -> bool:
    return not ("cors" not in self and self["type"] == "CORS")


# GRPCRoute, HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.requestHeaderModifier must be nil if the filter.type is not
#   RequestHeaderModifier"
@_rule("!(has(self.requestHeaderModifier) && self.type != 'RequestHeaderModifier')")
def _rule_32(self: Any) -> bool:
    return not ("requestHeaderModifier" in self and self["type"] != "RequestHeaderModifier")


# GRPCRoute, HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.requestHeaderModifier must be specified for RequestHeaderModifier
#   filter.type"
@_rule("!(!has(self.requestHeaderModifier) && self.type == 'RequestHeaderModifier')")
def _rule_33(self: Any) -> bool:
    return not ("requestHeaderModifier" not in self and self["type"] == "RequestHeaderModifier")


# GRPCRoute, HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.responseHeaderModifier must be nil if the filter.type is not
#   ResponseHeaderModifier"
@_rule("!(has(self.responseHeaderModifier) && self.type != 'ResponseHeaderModifier')")
def _rule_34(self: Any) -> bool:
    return not ("responseHeaderModifier" in self and self["type"] != "ResponseHeaderModifier")


# GRPCRoute, HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.responseHeaderModifier must be specified for ResponseHeaderModifier
#   filter.type"
@_rule("!(!has(self.responseHeaderModifier) && self.type == 'ResponseHeaderModifier')")
def _rule_35(self: Any) -> bool:
    return not ("responseHeaderModifier" not in self and self["type"] == "ResponseHeaderModifier")


# GRPCRoute, HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.requestMirror must be nil if the filter.type is not RequestMirror"
@_rule("!(has(self.requestMirror) && self.type != 'RequestMirror')")
def _rule_36(self: Any) -> bool:
    return not ("requestMirror" in self and self["type"] != "RequestMirror")


# GRPCRoute, HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.requestMirror must be specified for RequestMirror filter.type"
@_rule("!(!has(self.requestMirror) && self.type == 'RequestMirror')")
def _rule_37(self: Any) -> bool:
    return not ("requestMirror" not in self and self["type"] == "RequestMirror")


# HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.requestRedirect must be nil if the filter.type is not RequestRedirect"
@_rule("!(has(self.requestRedirect) && self.type != 'RequestRedirect')")
def _rule_38(self: Any) -> bool:
    return not ("requestRedirect" in self and self["type"] != "RequestRedirect")


# HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.requestRedirect must be specified for RequestRedirect filter.type"
@_rule("!(!has(self.requestRedirect) && self.type == 'RequestRedirect')")
def _rule_39(self: Any) -> bool:
    return not ("requestRedirect" not in self and self["type"] == "RequestRedirect")


# HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.urlRewrite must be nil if the filter.type is not URLRewrite"
@_rule("!(has(self.urlRewrite) && self.type != 'URLRewrite')")
def _rule_40(self: Any) -> bool:
    return not ("urlRewrite" in self and self["type"] != "URLRewrite")


# HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.urlRewrite must be specified for URLRewrite filter.type"
@_rule("!(!has(self.urlRewrite) && self.type == 'URLRewrite')")
def _rule_41(self: Any) -> bool:
    return not ("urlRewrite" not in self and self["type"] == "URLRewrite")


# GRPCRoute, HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.extensionRef must be nil if the filter.type is not ExtensionRef"
@_rule("!(has(self.extensionRef) && self.type != 'ExtensionRef')")
def _rule_42(self: Any) -> bool:
    return not ("extensionRef" in self and self["type"] != "ExtensionRef")


# GRPCRoute, HTTPRoute: spec.rules[i].backendRefs[i].filters[i]; spec.rules[i].filters[i]
# message: "filter.extensionRef must be specified for ExtensionRef filter.type"
@_rule("!(!has(self.extensionRef) && self.type == 'ExtensionRef')")
def _rule_43(self: Any) -> bool:
    return not ("extensionRef" not in self and self["type"] == "ExtensionRef")


# HTTPRoute: spec.rules[i].backendRefs[i].filters[i].cors.allowHeaders;
#   spec.rules[i].backendRefs[i].filters[i].cors.allowMethods;
#   spec.rules[i].backendRefs[i].filters[i].cors.allowOrigins;
#   spec.rules[i].filters[i].cors.allowHeaders; spec.rules[i].filters[i].cors.allowMethods;
#   spec.rules[i].filters[i].cors.allowOrigins
# message: "AllowHeaders cannot contain '*' alongside other methods"
@_rule("!('*' in self && self.size() > 1)")
def _rule_44(self: Any) -> bool:
    return not ("*" in self and len(self) > 1)


# GRPCRoute, HTTPRoute: spec.rules[i].backendRefs[i].filters[i].requestMirror;
#   spec.rules[i].filters[i].requestMirror
# message: "Only one of percent or fraction may be specified in HTTPRequestMirrorFilter"
@_rule("!(has(self.percent) && has(self.fraction))")
def _rule_45(self: Any) -> bool:
    return not ("percent" in self and "fraction" in self)


# GRPCRoute, HTTPRoute: spec.rules[i].backendRefs[i].filters[i].requestMirror.fraction;
#   spec.rules[i].filters[i].requestMirror.fraction
# message: "numerator must be less than or equal to denominator"
@_rule("self.numerator <= self.denominator")
def _rule_46(self: Any) -> bool:
    return bool(self["numerator"] <= self["denominator"])


# HTTPRoute: spec.rules[i].backendRefs[i].filters[i].requestRedirect.path;
#   spec.rules[i].backendRefs[i].filters[i].urlRewrite.path;
#   spec.rules[i].filters[i].requestRedirect.path; spec.rules[i].filters[i].urlRewrite.path
# message: "replaceFullPath must be specified when type is set to 'ReplaceFullPath'"
@_rule("self.type == 'ReplaceFullPath' ? has(self.replaceFullPath) : true")
def _rule_47(self: Any) -> bool:
    return self["type"] != "ReplaceFullPath" or "replaceFullPath" in self


# HTTPRoute: spec.rules[i].backendRefs[i].filters[i].requestRedirect.path;
#   spec.rules[i].backendRefs[i].filters[i].urlRewrite.path;
#   spec.rules[i].filters[i].requestRedirect.path; spec.rules[i].filters[i].urlRewrite.path
# message: "type must be 'ReplaceFullPath' when replaceFullPath is set"
@_rule("has(self.replaceFullPath) ? self.type == 'ReplaceFullPath' : true")
def _rule_48(self: Any) -> bool:
    return "replaceFullPath" not in self or self["type"] == "ReplaceFullPath"


# HTTPRoute: spec.rules[i].backendRefs[i].filters[i].requestRedirect.path;
#   spec.rules[i].backendRefs[i].filters[i].urlRewrite.path;
#   spec.rules[i].filters[i].requestRedirect.path; spec.rules[i].filters[i].urlRewrite.path
# message: "replacePrefixMatch must be specified when type is set to 'ReplacePrefixMatch'"
@_rule("self.type == 'ReplacePrefixMatch' ? has(self.replacePrefixMatch) : true")
def _rule_49(self: Any) -> bool:
    return self["type"] != "ReplacePrefixMatch" or "replacePrefixMatch" in self


# HTTPRoute: spec.rules[i].backendRefs[i].filters[i].requestRedirect.path;
#   spec.rules[i].backendRefs[i].filters[i].urlRewrite.path;
#   spec.rules[i].filters[i].requestRedirect.path; spec.rules[i].filters[i].urlRewrite.path
# message: "type must be 'ReplacePrefixMatch' when replacePrefixMatch is set"
@_rule("has(self.replacePrefixMatch) ? self.type == 'ReplacePrefixMatch' : true")
def _rule_50(self: Any) -> bool:
    return "replacePrefixMatch" not in self or self["type"] == "ReplacePrefixMatch"


# HTTPRoute: spec.rules[i].matches[i].path
# message: "value must be an absolute path and start with '/' when type one of ['Exact',
#   'PathPrefix']"
@_rule("(self.type in ['Exact','PathPrefix']) ? self.value.startsWith('/') : true")
def _rule_51(self: Any) -> bool:
    return self["type"] not in _EXACT_OR_PREFIX or self["value"].startswith("/")


# HTTPRoute: spec.rules[i].matches[i].path
# message: "must not contain '//' when type one of ['Exact', 'PathPrefix']"
@_rule("(self.type in ['Exact','PathPrefix']) ? !self.value.contains('//') : true")
def _rule_52(self: Any) -> bool:
    return self["type"] not in _EXACT_OR_PREFIX or "//" not in self["value"]


# HTTPRoute: spec.rules[i].matches[i].path
# message: "must not contain '/./' when type one of ['Exact', 'PathPrefix']"
@_rule("(self.type in ['Exact','PathPrefix']) ? !self.value.contains('/./') : true")
def _rule_53(self: Any) -> bool:
    return self["type"] not in _EXACT_OR_PREFIX or "/./" not in self["value"]


# HTTPRoute: spec.rules[i].matches[i].path
# message: "must not contain '/../' when type one of ['Exact', 'PathPrefix']"
@_rule("(self.type in ['Exact','PathPrefix']) ? !self.value.contains('/../') : true")
def _rule_54(self: Any) -> bool:
    return self["type"] not in _EXACT_OR_PREFIX or "/../" not in self["value"]


# HTTPRoute: spec.rules[i].matches[i].path
# message: "must not contain '%2f' when type one of ['Exact', 'PathPrefix']"
@_rule("(self.type in ['Exact','PathPrefix']) ? !self.value.contains('%2f') : true")
def _rule_55(self: Any) -> bool:
    return self["type"] not in _EXACT_OR_PREFIX or "%2f" not in self["value"]


# HTTPRoute: spec.rules[i].matches[i].path
# message: "must not contain '%2F' when type one of ['Exact', 'PathPrefix']"
@_rule("(self.type in ['Exact','PathPrefix']) ? !self.value.contains('%2F') : true")
def _rule_56(self: Any) -> bool:
    return self["type"] not in _EXACT_OR_PREFIX or "%2F" not in self["value"]


# HTTPRoute: spec.rules[i].matches[i].path
# message: "must not contain '#' when type one of ['Exact', 'PathPrefix']"
@_rule("(self.type in ['Exact','PathPrefix']) ? !self.value.contains('#') : true")
def _rule_57(self: Any) -> bool:
    return self["type"] not in _EXACT_OR_PREFIX or "#" not in self["value"]


# HTTPRoute: spec.rules[i].matches[i].path
# message: "must not end with '/..' when type one of ['Exact', 'PathPrefix']"
@_rule("(self.type in ['Exact','PathPrefix']) ? !self.value.endsWith('/..') : true")
def _rule_58(self: Any) -> bool:
    return self["type"] not in _EXACT_OR_PREFIX or not self["value"].endswith("/..")


# HTTPRoute: spec.rules[i].matches[i].path
# message: "must not end with '/.' when type one of ['Exact', 'PathPrefix']"
@_rule("(self.type in ['Exact','PathPrefix']) ? !self.value.endsWith('/.') : true")
def _rule_59(self: Any) -> bool:
    return self["type"] not in _EXACT_OR_PREFIX or not self["value"].endswith("/.")


# HTTPRoute: spec.rules[i].matches[i].path
# message: "type must be one of ['Exact', 'PathPrefix', 'RegularExpression']"
@_rule("self.type in ['Exact','PathPrefix'] || self.type == 'RegularExpression'")
def _rule_60(self: Any) -> bool:
    return self["type"] in (*_EXACT_OR_PREFIX, "RegularExpression")


# HTTPRoute: spec.rules[i].matches[i].path
# message: "must only contain valid characters (matching
#   ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']"
@_rule(
    "(self.type in ['Exact','PathPrefix']) ? "
    'self.value.matches(r"""^(?:[-A-Za-z0-9/._~!$&\'()*+,;=:@]|[%][0-9a-fA-F]{2})+$""") : '
    "true"
)
def _rule_61(self: Any) -> bool:
    return self["type"] not in _EXACT_OR_PREFIX or _matches(self["value"], _PATH_CHARACTERS)


# HTTPRoute: spec.rules[i].timeouts
# message: "backendRequest timeout cannot be longer than request timeout"
@_rule(
    "!(has(self.request) && has(self.backendRequest) && duration(self.request) != "
    "duration('0s') && duration(self.backendRequest) > duration(self.request))"
)
def _rule_62(self: Any) -> bool:
    if "request" not in self or "backendRequest" not in self:
        return True
    request = _duration(self["request"])
    return not (request != 0 and _duration(self["backendRequest"]) > request)


# GRPCRoute: spec.rules
# message: "While 16 rules and 64 matches per rule are allowed, the total number of matches
#   across all rules in a route must be less than 128"
@_rule(
    " + ".join(
        f"(self.size() > {i} ? (has(self[{i}].matches) ? self[{i}].matches.size() : 0) : 0)"
        for i in range(16)
    )
    + " <= 128"
)
def _rule_63(self: Any) -> bool:
    return sum(len(rule.get("matches", ())) for rule in self[:16]) <= 128


# GRPCRoute: spec.rules[i].matches[i].method
# message: "One or both of 'service' or 'method' must be specified"
@_rule("has(self.type) ? has(self.service) || has(self.method) : true")
def _rule_64(self: Any) -> bool:
    return "type" not in self or "service" in self or "method" in self


# GRPCRoute: spec.rules[i].matches[i].method
# message: "service must only contain valid characters (matching
#   ^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$)"
@_rule(
    "(!has(self.type) || self.type == 'Exact') && has(self.service) ? "
    'self.service.matches(r"""^(?i)\\.?[a-z_][a-z_0-9]*(\\.[a-z_][a-z_0-9]*)*$"""): true'
)
def _rule_65(self: Any) -> bool:
    if self.get("type", "Exact") != "Exact" or "service" not in self:
        return True
    return _matches(self["service"], _GRPC_SERVICE)


# GRPCRoute: spec.rules[i].matches[i].method
# message: "method must only contain valid characters (matching ^[A-Za-z_][A-Za-z_0-9]*$)"
@_rule(
    "(!has(self.type) || self.type == 'Exact') && has(self.method) ? "
    'self.method.matches(r"""^[A-Za-z_][A-Za-z_0-9]*$"""): true'
)
def _rule_66(self: Any) -> bool:
    if self.get("type", "Exact") != "Exact" or "method" not in self:
        return True
    return _matches(self["method"], _GRPC_METHOD)
