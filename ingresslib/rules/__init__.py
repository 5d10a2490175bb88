"""The route IR: rules with provenance, matches, filters and weighted backends.

Front-ends (`ingresslib.ingress`, and Gateway API next) compile their resources into these
rules; `ingresslib.RouteTable` compiles rules into its host index and path tries. Nothing
here knows which API a rule came from. Host normalisation and wildcard coverage, the rules
every layer compares hosts by, live here too.
"""

from ingresslib.rules._backend import Backend
from ingresslib.rules._filters import (
    CORS,
    HeaderChanges,
    Mirror,
    PathModifier,
    Redirect,
    RequestHeaders,
    Respond,
    ResponseHeaders,
    Rewrite,
    Timeouts,
    replace_prefix,
)
from ingresslib.rules._hosts import (
    WildcardLabels,
    gateway_covers,
    host_covers,
    intersect_hostnames,
    is_ip_literal,
    normalize_host,
    wildcard_keys,
    wildcard_parent,
)
from ingresslib.rules._model import (
    Filter,
    HeaderMatch,
    HTTPSRedirect,
    Match,
    PathMatch,
    QueryParamMatch,
    Rule,
    RuleKind,
    RuleSet,
    Scope,
    Source,
    StringMatchType,
    WeightedBackend,
)
from ingresslib.rules._patterns import PatternError, compile_pattern
from ingresslib.rules._policies import (
    Balancing,
    ConnectionLimit,
    ExternalAuth,
    RequestRateLimit,
    SessionCookie,
    UpstreamProtocol,
)
from ingresslib.rules._steps import Answer, HeaderReader, Policy, Step, StepState

__all__ = [
    "CORS",
    "Answer",
    "Backend",
    "Balancing",
    "ConnectionLimit",
    "ExternalAuth",
    "Filter",
    "HTTPSRedirect",
    "HeaderChanges",
    "HeaderMatch",
    "HeaderReader",
    "Match",
    "Mirror",
    "PathMatch",
    "PathModifier",
    "PatternError",
    "Policy",
    "QueryParamMatch",
    "Redirect",
    "RequestHeaders",
    "RequestRateLimit",
    "Respond",
    "ResponseHeaders",
    "Rewrite",
    "Rule",
    "RuleKind",
    "RuleSet",
    "Scope",
    "SessionCookie",
    "Source",
    "Step",
    "StepState",
    "StringMatchType",
    "Timeouts",
    "UpstreamProtocol",
    "WeightedBackend",
    "WildcardLabels",
    "compile_pattern",
    "gateway_covers",
    "host_covers",
    "intersect_hostnames",
    "is_ip_literal",
    "normalize_host",
    "replace_prefix",
    "wildcard_keys",
    "wildcard_parent",
]
