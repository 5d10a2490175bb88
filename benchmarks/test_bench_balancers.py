"""Every balancer of ingresslib.endpoints: ns per pick at 10 / 100 / 1,000 endpoints.

Run with `make bench` (or `pytest benchmarks --benchmark-only`). One round runs a whole
batch of `balancer_table` (4,096 operations: picks, pick+report for load-aware
balancers, keyed picks for hashing ones, returning sessions for CookieAffinity), so the
per-round overhead is spread over them; the module ends with the Markdown table of
docs/benchmarks.md in ns per operation (best round / operations per round).
`python benchmarks/balancer_table.py` measures the same rows with timeit.
"""

from __future__ import annotations

from typing import Any

import balancer_table
import pytest

#: Rounds per benchmark: a round costs 0.3 to 7 ms, so a benchmark takes well under 1 s.
_ROUNDS = 25

_NS_PER_OP: dict[balancer_table.Row, dict[int, float]] = {}


class _TableSummary:
    """A plugin printing the table at the end of the run (output is captured before)."""

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not _NS_PER_OP:
            return  # --benchmark-skip (the default addopts) or --benchmark-disable
        ordered = {row: _NS_PER_OP[row] for row in balancer_table.ROWS if row in _NS_PER_OP}
        terminalreporter.write_sep("-", "balancers: ns per operation (best round / operations)")
        terminalreporter.write_line(balancer_table.format_table(ordered))


@pytest.fixture(scope="module", autouse=True)
def _print_table(request: pytest.FixtureRequest) -> None:
    """Register `_TableSummary` once (the repo's conftest.py prints the router table)."""
    name = "ingresslib-balancer-table"
    if not request.config.pluginmanager.has_plugin(name):
        request.config.pluginmanager.register(_TableSummary(), name)


@pytest.mark.parametrize("count", balancer_table.SIZES, ids=lambda n: f"{n}endpoints")
@pytest.mark.parametrize("row", balancer_table.ROWS, ids=balancer_table.row_id)
def test_balancer(benchmark: Any, row: balancer_table.Row, count: int) -> None:
    # Built and checked (a returning cookie maps back, a key finds an endpoint) first.
    batch = balancer_table.make_batch(row, count)
    batch.run()  # warm-up, untimed

    benchmark.group = f"{row.label}: {row.op} ({batch.ops:,} per round)"
    benchmark.pedantic(batch.run, setup=batch.release, rounds=_ROUNDS, warmup_rounds=1)
    if benchmark.stats is None:  # --benchmark-disable: the batch ran once, untimed
        return
    best = benchmark.stats.stats.min * 1e9 / batch.ops
    benchmark.extra_info["operations_per_round"] = batch.ops
    benchmark.extra_info["ns_per_operation"] = round(best, 1)
    _NS_PER_OP.setdefault(row, {})[count] = best
