"""The compiled router: RouteTable, decide(), RouteMatch, explain."""

from ingresslib.ingress._frontend import PATH_MATCHER_ANNOTATION
from ingresslib.routing._conditions import RequestView
from ingresslib.routing._decision import DEFAULT_POLICY, Action, Decision, DecisionPolicy, Request
from ingresslib.routing._explain import Candidate, Explanation
from ingresslib.routing._lint import LintFinding, lint
from ingresslib.routing._match import (
    Conflict,
    MatchedBy,
    Route,
    RouteMatch,
    RouteTableError,
    ingress_view,
)
from ingresslib.routing._table import RouteTable, ScopedRouteTable
from ingresslib.rules._hosts import normalize_host

__all__ = [
    "DEFAULT_POLICY",
    "PATH_MATCHER_ANNOTATION",
    "Action",
    "Candidate",
    "Conflict",
    "Decision",
    "DecisionPolicy",
    "Explanation",
    "LintFinding",
    "MatchedBy",
    "Request",
    "RequestView",
    "Route",
    "RouteMatch",
    "RouteTable",
    "RouteTableError",
    "ScopedRouteTable",
    "ingress_view",
    "lint",
    "normalize_host",
]
