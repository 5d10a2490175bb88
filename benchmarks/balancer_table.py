"""ns per pick of every balancer in ingresslib.endpoints, at 10 / 100 / 1,000 endpoints.

Run it as a script (`python benchmarks/balancer_table.py`, a few seconds; `--quick` for 3
timing rounds instead of 7) to print the Markdown table of docs/benchmarks.md. The
pytest-benchmark suite (`benchmarks/test_bench_balancers.py`) imports the workloads and
batch loops from this module, so both measure the same thing.

What one operation is, per row:

- `pick`: `balancer.pick()` (hashing balancers: `pick(key)`, with keys from a fixed mix
  of 4,096 distinct client addresses, so the hash is computed on every pick);
- `pick+report`: `report(pick(), latency=0.012)`, the whole life of a request in a
  load-aware balancer (its active count goes up and down, the latency feeds EWMA);
- `returning`: `CookieAffinity.pick_sticky(cookie)` with the cookie of an existing
  session (4,096 sessions), the hot path of affinity; `new session`:
  `pick_sticky(None)` (no goal: once per session).

Endpoints are `10.0.x.y:8080`; weighted rows give them weights 1, 2, 3, 1, 2, 3, ...
Passive health is on (the default) and nothing fails, so no clock is read. A batch loops
over the whole mix; the table gives the best batch / operations in it, and the cost of
the loop itself (the harness) is measured and shown apart: it is included in each cell.
"""

from __future__ import annotations

import functools
import gc
import os
import platform
import random
import sys
import timeit
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import ingresslib
from ingresslib.endpoints import Endpoint

#: Endpoint counts: the table's columns.
SIZES: tuple[int, ...] = (10, 100, 1_000)
#: Operations per timed batch.
MIX_SIZE = 4_096
#: The latency every `report` carries (seconds).
LATENCY = 0.012

GOAL_ROUND_ROBIN = 300.0
GOAL_LOAD_AWARE = 800.0
GOAL_HASH = 500.0


@dataclass(frozen=True)
class Row:
    """One line of the table.

    Attributes:
        label: the balancer as the table names it.
        op: "pick", "pick+report", "returning" or "new session".
        balancer: the name of the class in ingresslib.endpoints.
        options: keyword arguments of the class.
        weighted: endpoints get weights 1, 2, 3, ... instead of all 1.
        goal: the goal in ns per operation (None: informative only).
        goal_name: which goal of docs/benchmarks.md it is.
    """

    label: str
    op: str
    balancer: str
    options: tuple[tuple[str, Any], ...] = ()
    weighted: bool = False
    goal: float | None = None
    goal_name: str = ""


ROWS: tuple[Row, ...] = (
    Row("RoundRobin", "pick", "RoundRobin", goal=GOAL_ROUND_ROBIN, goal_name="round robin"),
    Row(
        "SmoothWeightedRoundRobin (weights 1,2,3)",
        "pick",
        "SmoothWeightedRoundRobin",
        weighted=True,
        goal=GOAL_ROUND_ROBIN,
        goal_name="round robin",
    ),
    Row("RandomBalancer", "pick", "RandomBalancer"),
    Row("WeightedRandom (weights 1,2,3)", "pick", "WeightedRandom", weighted=True),
    # The goals are per pick; pick+report rows show what a whole request costs.
    Row("LeastRequest (P2C)", "pick", "LeastRequest", goal=GOAL_LOAD_AWARE, goal_name="P2C/EWMA"),
    Row("LeastRequest (P2C)", "pick+report", "LeastRequest"),
    Row(
        "LeastRequest (weights 1,2,3: EDF)",
        "pick",
        "LeastRequest",
        weighted=True,
        goal=GOAL_LOAD_AWARE,
        goal_name="P2C/EWMA",
    ),
    Row("LeastRequest (weights 1,2,3: EDF)", "pick+report", "LeastRequest", weighted=True),
    Row("PeakEwma", "pick", "PeakEwma", goal=GOAL_LOAD_AWARE, goal_name="P2C/EWMA"),
    Row("PeakEwma", "pick+report", "PeakEwma"),
    Row("RingHash", "pick", "RingHash", goal=GOAL_HASH, goal_name="hash"),
    Row("Maglev", "pick", "Maglev", goal=GOAL_HASH, goal_name="hash"),
    Row(
        "CookieAffinity balanced",
        "returning",
        "CookieAffinity",
        goal=GOAL_HASH,
        goal_name="hash",
    ),
    Row(
        "CookieAffinity persistent",
        "returning",
        "CookieAffinity",
        options=(("mode", "persistent"),),
        goal=GOAL_HASH,
        goal_name="hash",
    ),
    Row("CookieAffinity balanced", "new session", "CookieAffinity"),
    Row(
        "CookieAffinity persistent",
        "new session",
        "CookieAffinity",
        options=(("mode", "persistent"),),
    ),
)


def row_id(row: Row) -> str:
    """A short id for pytest parametrization."""
    mode = dict(row.options).get("mode", "")
    weighted = "-weighted" if row.weighted else ""
    return f"{row.balancer}{('-' + mode) if mode else ''}{weighted}-{row.op.replace(' ', '-')}"


# --- the workload ------------------------------------------------------------------------


def endpoints(count: int, *, weighted: bool = False) -> list[Endpoint]:
    return [
        Endpoint(f"10.0.{i // 256}.{i % 256}", 8080, weight=(i % 3) + 1 if weighted else 1)
        for i in range(count)
    ]


@functools.cache
def keys(size: int = MIX_SIZE) -> tuple[str, ...]:
    """Distinct client addresses in a fixed shuffled order: the hash keys."""
    rng = random.Random(4242)
    values = [f"198.51.{i // 256}.{i % 256}" for i in range(size)]
    rng.shuffle(values)
    return tuple(values)


def make_balancer(row: Row, count: int) -> Any:
    """A balancer of `row`'s class over `count` endpoints, with a seeded random source."""
    import ingresslib.endpoints as public

    cls = getattr(public, row.balancer, None)
    if cls is None:  # not (yet) exported from ingresslib.endpoints: its defining module
        from ingresslib.endpoints import _affinity, _hashing

        cls = getattr(_hashing, row.balancer, None) or getattr(_affinity, row.balancer)
    eps = endpoints(count, weighted=row.weighted)
    return cls(eps, rng=random.Random(count), **dict(row.options))


# --- the batch loops: one call runs the whole mix ----------------------------------------


def run_picks(pick: Callable[[], Any], size: int) -> None:
    for _ in range(size):
        pick()


def run_pick_report(pick: Callable[[], Any], report: Callable[..., None], size: int) -> None:
    for _ in range(size):
        report(pick(), latency=LATENCY)


def run_keyed(pick: Callable[[Any], Any], batch: Sequence[Any]) -> None:
    for key in batch:
        pick(key)


def _noop(*args: Any, **kwargs: Any) -> None:
    return None


@dataclass(frozen=True)
class Batch:
    """A ready-to-time batch: `run()` performs `ops` operations."""

    run: Callable[[], None]
    ops: int
    release: Callable[[], None] | None = None


def make_batch(row: Row, count: int, size: int = MIX_SIZE) -> Batch:
    """The batch of `row` at `count` endpoints, checked to do what it says."""
    balancer = make_balancer(row, count)
    if row.op == "pick":
        if row.balancer in ("RingHash", "Maglev"):
            batch = keys(size)
            assert all(balancer.pick(k) is not None for k in batch[:100])
            return Batch(functools.partial(run_keyed, balancer.pick, batch), len(batch))
        assert balancer.pick() is not None
        release = None
        if balancer.tracks_active:
            # pick() alone leaves requests active: release them between batches so
            # every batch starts from the same (idle) state.
            def release() -> None:
                for state in map(balancer.state, balancer.endpoints):
                    state.active = 0

        return Batch(functools.partial(run_picks, balancer.pick, size), size, release)
    if row.op == "pick+report":
        return Batch(functools.partial(run_pick_report, balancer.pick, balancer.report, size), size)
    if row.op == "returning":
        sessions = [balancer.pick_sticky(None) for _ in range(size)]
        cookies = [cookie for _, cookie in sessions]
        assert all(balancer.pick_sticky(c) == (e, None) for e, c in sessions[:100])
        return Batch(functools.partial(run_keyed, balancer.pick_sticky, cookies), len(cookies))
    if row.op == "new session":
        return Batch(functools.partial(run_keyed, balancer.pick_sticky, [None] * size), size)
    raise ValueError(f"unknown operation {row.op!r}")


# --- timing ------------------------------------------------------------------------------


def best_ns(batch: Batch, repeats: int, number: int) -> float:
    """The best of `repeats` timings of `number` batches, in ns per operation."""
    best = float("inf")
    for _ in range(repeats):
        if batch.release is not None:
            batch.release()
        seconds = timeit.timeit(batch.run, number=number)
        best = min(best, seconds / number)
    return best * 1e9 / batch.ops


def time_matrix(
    repeats: int, progress: Callable[[str], None] = lambda _: None
) -> dict[Row, dict[int, float]]:
    results: dict[Row, dict[int, float]] = {}
    gc.collect()
    for row in ROWS:
        for count in SIZES:
            batch = make_batch(row, count)
            batch.run()  # warm up
            results.setdefault(row, {})[count] = best_ns(batch, repeats, number=5)
        progress(f"{row.label} {row.op}: done")
    return results


def harness_ns(repeats: int) -> dict[str, float]:
    """The cost of each batch loop with a no-op call, in ns per operation."""
    batches = {
        "pick() loop": Batch(functools.partial(run_picks, _noop, MIX_SIZE), MIX_SIZE),
        "report(pick()) loop": Batch(
            functools.partial(run_pick_report, _noop, _noop, MIX_SIZE), MIX_SIZE
        ),
        "pick(key) loop": Batch(functools.partial(run_keyed, _noop, keys()), MIX_SIZE),
    }
    return {name: best_ns(batch, repeats, number=5) for name, batch in batches.items()}


# --- the table ---------------------------------------------------------------------------


def _verdict(row: Row, cells: dict[int, float]) -> str:
    if row.goal is None:
        return "(no goal)"
    worst = max(cells.values())
    return "yes" if worst <= row.goal else f"**no** (worst {worst:,.0f})"


def format_table(results: dict[Row, dict[int, float]]) -> str:
    """The Markdown table: ns per operation per endpoint count, the goal, and if it is met."""
    header = ["balancer", "operation", *(f"{n:,} endpoints" for n in SIZES), "goal", "met"]
    lines = ["| " + " | ".join(header) + " |", "|---|---|" + "---:|" * len(SIZES) + "---|---|"]
    for row, cells in results.items():
        goal = f"≤ {row.goal:,.0f} ({row.goal_name})" if row.goal is not None else "-"
        values = [f"{cells[n]:,.0f}" if n in cells else "n/a" for n in SIZES]
        cols = [f"`{row.label}`", row.op, *values, goal, _verdict(row, cells)]
        lines.append("| " + " | ".join(cols) + " |")
    return "\n".join(lines)


def machine() -> str:
    cpu = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            cpu = next(
                (
                    line.split(":", 1)[1].strip()
                    for line in cpuinfo
                    if line.startswith("model name")
                ),
                cpu,
            )
    except OSError:
        pass
    load = f", load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    return (
        f"Python {platform.python_version()} ({platform.python_implementation()}), "
        f"{os.cpu_count()} CPUs, {cpu}{load}; ingresslib {ingresslib.__version__}"
    )


def main(argv: Sequence[str] = ()) -> int:
    quick = "--quick" in argv
    repeats = 3 if quick else 7

    def progress(message: str) -> None:
        print(f"  ... {message}", file=sys.stderr, flush=True)

    print(f"Machine: {machine()}\n")
    results = time_matrix(repeats, progress)
    print(f"## ns per operation ({MIX_SIZE:,} operations per batch, best of {repeats} rounds)\n")
    print(format_table(results))
    print("\nHarness (the batch loop with a no-op call, included in every cell above):")
    for name, ns in harness_ns(repeats).items():
        print(f"- {name}: {ns:.0f} ns")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
