"""The route IR: rules with provenance, matches, filters and weighted backends.

Front-ends (`ingresslib.ingress`, and Gateway API next) compile their resources into these
rules; `ingresslib.RouteTable` compiles rules into its host index and path tries. Nothing
here knows which API a rule came from. Host normalisation and wildcard coverage, the rules
every layer compares hosts by, live here too.
"""

from ingresslib.rules._hosts import host_covers, normalize_host, wildcard_parent
from ingresslib.rules._model import (
    Backend,
    Filter,
    HeaderMatch,
    HTTPSRedirect,
    Match,
    PathMatch,
    QueryParamMatch,
    Rule,
    RuleKind,
    RuleSet,
    Source,
    StringMatchType,
    WeightedBackend,
)

__all__ = [
    "Backend",
    "Filter",
    "HTTPSRedirect",
    "HeaderMatch",
    "Match",
    "PathMatch",
    "QueryParamMatch",
    "Rule",
    "RuleKind",
    "RuleSet",
    "Source",
    "StringMatchType",
    "WeightedBackend",
    "host_covers",
    "normalize_host",
    "wildcard_parent",
]
