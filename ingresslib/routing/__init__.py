"""The compiled router: RouteTable, RouteMatch, explain."""

from ingresslib.routing._explain import Candidate, Explanation
from ingresslib.routing._hosts import normalize_host
from ingresslib.routing._lint import LintFinding, lint
from ingresslib.routing._table import (
    PATH_MATCHER_ANNOTATION,
    Conflict,
    Route,
    RouteMatch,
    RouteTable,
    RouteTableError,
)

__all__ = [
    "PATH_MATCHER_ANNOTATION",
    "Candidate",
    "Conflict",
    "Explanation",
    "LintFinding",
    "Route",
    "RouteMatch",
    "RouteTable",
    "RouteTableError",
    "lint",
    "normalize_host",
]
