"""Conditions of rules besides the path: method, headers, query parameters."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import unquote

from ingresslib.routing._match import RouteMatch, RouteTableError
from ingresslib.rules._model import Match
from ingresslib.rules._patterns import PatternError, compile_pattern

__all__ = ["GET", "Candidate", "Condition", "RequestView", "compile_conditions", "first"]


class RequestView:
    """What conditional rules read of a request: method, headers, query parameters.

    Header values of a repeated field are joined with ", " (RFC 9110 §5.3: "A recipient MAY
    combine multiple field lines within a field section that have the same field name into
    one field line ... by appending each subsequent field line value to the initial field
    line value in order, separated by a comma"); a repeated query parameter counts by its
    first value (Gateway API: "implementations should match against the first value of the
    param").
    """

    __slots__ = ("_headers", "_query", "_raw_headers", "_raw_query", "method")

    def __init__(
        self, method: str, headers: Sequence[tuple[str, str]] = (), query: str = ""
    ) -> None:
        self.method = method
        self._raw_headers = headers
        self._raw_query = query
        self._headers: dict[str, str] | None = None
        self._query: dict[str, str] | None = None

    def header(self, name: str) -> str | None:
        """The combined value of a header field (`name` lower case), or None."""
        headers = self._headers
        if headers is None:
            headers = {}
            for key, value in self._raw_headers:
                lower = key.lower()
                known = headers.get(lower)
                headers[lower] = value if known is None else f"{known}, {value}"
            self._headers = headers
        return headers.get(name)

    def query_param(self, name: str) -> str | None:
        """The first value of a query parameter, percent-decoded, or None."""
        query = self._query
        if query is None:
            query = {}
            for item in self._raw_query.split("&") if self._raw_query else ():
                key, _, value = item.partition("=")
                query.setdefault(unquote(key), unquote(value))
            self._query = query
        return query.get(name)


#: What `RouteTable.match(host, path)` shows conditional rules: a GET, no headers, no query.
GET = RequestView("GET")

#: A compiled condition.
Condition = Callable[[RequestView], bool]


def _string_test(kind: str, expected: str) -> Callable[[str], bool]:
    if kind == "Exact":
        return expected.__eq__
    try:
        return compile_pattern(expected)
    except PatternError as error:
        raise RouteTableError(str(error)) from None


def _value_holds(
    read: Callable[[RequestView, str], str | None], name: str, test: Callable[[str], bool]
) -> Condition:
    """A header or query condition: the value `read` finds for `name` is there and passes."""

    def holds(request: RequestView) -> bool:
        value = read(request, name)
        return value is not None and test(value)

    return holds


def compile_conditions(match: Match) -> Condition | None:
    """One predicate for every condition of `match` but its path (None: no condition)."""
    if not match.conditional:
        return None
    tests: list[Condition] = []
    if match.method is not None:
        method = match.method
        tests.append(lambda request: request.method == method)
    tests.extend(
        _value_holds(RequestView.header, h.name, _string_test(h.type, h.value))
        for h in match.headers
    )
    tests.extend(
        _value_holds(RequestView.query_param, q.name, _string_test(q.type, q.value))
        for q in match.query
    )
    if len(tests) == 1:
        return tests[0]  # PERF: one condition (the common case) is called directly
    return lambda request: all(test(request) for test in tests)


#: (conditions or None, result), in precedence order.
Candidate = tuple["Condition | None", RouteMatch]


def first(candidates: Sequence[Candidate], request: RequestView) -> RouteMatch | None:
    """The result of the first candidate whose conditions hold for `request`, or None."""
    for condition, result in candidates:
        if condition is None or condition(request):
            return result
    return None
