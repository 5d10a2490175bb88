"""Router benchmarks: collects ns per match and prints them as one table at the end.

pytest-benchmark reports seconds per round (one round = the whole request mix); the
summary divides the best round by the lookups in it, the unit of docs/benchmarks.md.
"""

from __future__ import annotations

from typing import Any

import pytest
import router_table

_NS_PER_MATCH: dict[tuple[int, int], dict[str, float]] = {}


@pytest.fixture(scope="session")
def ns_per_match() -> dict[tuple[int, int], dict[str, float]]:
    """(rules, hosts) -> router -> best ns per match, filled by the benchmarks."""
    return _NS_PER_MATCH


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _NS_PER_MATCH:
        return
    ordered = {case: _NS_PER_MATCH[case] for case in router_table.CASES if case in _NS_PER_MATCH}
    terminalreporter.write_sep("-", "ns per match (best round / lookups per round)")
    terminalreporter.write_line(router_table.format_table(ordered))
