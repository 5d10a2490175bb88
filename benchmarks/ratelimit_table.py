"""Rate-limit decisions per second: ingresslib side by side with `limits` and `pyrate-limiter`.

Run it as a script (`python benchmarks/ratelimit_table.py`, about 80 seconds; `--quick` for 3
timing rounds instead of 7) to print the Markdown tables of docs/benchmarks.md. It starts a
private redis-server (Debian's, on a free loopback port, in a temporary directory) for the
Redis rows, or uses `--redis-url`. The pytest-benchmark suite
(`benchmarks/test_bench_ratelimit.py`) imports the same workload and adapters.

The workload: 1,000 client keys, a limit of 100 requests per second per key, and a fixed mix
of 4,096 requests whose keys are drawn uniformly (seeded). Every limiter answers the same
requests in the same order; the table gives the best round's nanoseconds per decision and
decisions per second, and what share of the requests each admitted (a sanity check: a
limiter that admits everything or nothing is not doing the same work). Rounds are
interleaved across rows, so that noise on a shared machine hits every row alike.

- memory: `MemoryLimiter.allow` (a bool, as `limits`' `hit` and pyrate-limiter's
  `try_acquire` return) for each algorithm, and `MemoryLimiter.hit` (a full `Decision`);
  `limits` 5 with its `MemoryStorage` (fixed window, moving window, sliding window
  counter); pyrate-limiter 4 with one bucket per key (its in-memory sliding log, and its
  token bucket state), non-blocking.
- Redis, sequential (the issue's measure): one asyncio connection, requests awaited one
  after another: `AsyncRedisLimiter` (one EVALSHA per decision) and `limits`' async
  `RedisStorage` on redis-py (`implementation="redispy"`), with two floors: a bare PING on
  AsyncRedisLimiter's connection and one with redis-py's asyncio client (no decision can be
  faster than its round trip). This process is pinned to one CPU and the rows run twice:
  with the server on the same CPU, and on another one (Linux; unpinned elsewhere).
- Redis, concurrent: 16 and 64 tasks share one limiter and decide the same mix between
  them (wall time per decision). `AsyncRedisLimiter` pipelines them on its one connection;
  `limits` gets a redis-py pool of one connection (`BlockingConnectionPool(max_connections=1)`:
  its tasks take turns), and for context its default pool (a connection per task in flight).
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import os
import platform
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import timeit
import uuid
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, cast

from ingresslib.ratelimit import (
    AsyncRedisLimiter,
    FixedWindow,
    LimitReq,
    MemoryLimiter,
    SlidingWindow,
    TokenBucket,
)

if TYPE_CHECKING:
    from limits.aio.storage.redis.redispy import RedispyBridge

KEYS = 1_000
MIX_SIZE = 4_096
RATE = 100  # per second per key
ROUNDS = 7

PING_OURS = "floor: bare PING on AsyncRedisLimiter's connection"
PING_REDIS_PY = "floor: bare PING, redis-py asyncio client (limits' client)"

Decide = Callable[[str], Any]
AsyncDecide = Callable[[str], Awaitable[Any]]


def workload(size: int = MIX_SIZE, keys: int = KEYS) -> list[str]:
    """The request mix: client addresses drawn uniformly from `keys`, seeded."""
    rng = random.Random(20_260_101)
    names = [f"10.{i >> 16}.{(i >> 8) & 255}.{i & 255}" for i in range(keys)]
    return [rng.choice(names) for _ in range(size)]


# --- memory adapters: each returns decide(key) -> truthy when admitted --------------------


def _ours(algorithm: Any, method: str = "allow") -> Callable[[], Decide]:
    def make() -> Decide:
        limiter = MemoryLimiter(algorithm, max_keys=100_000)
        if method == "allow":
            return limiter.allow
        return lambda key: limiter.hit(key).allowed

    return make


def _limits(strategy: str) -> Callable[[], Decide]:
    def make() -> Decide:
        from limits import parse, storage, strategies

        limiter = strategies.STRATEGIES[strategy](storage.MemoryStorage())
        item = parse(f"{RATE}/second")
        hit = limiter.hit
        return lambda key: hit(item, key)

    return make


def _pyrate(kind: str) -> Callable[[], Decide]:
    def make() -> Decide:
        import pyrate_limiter as pl

        rates = [pl.Rate(RATE, pl.Duration.SECOND)]

        # pl.BucketFactory is Any when pyrate-limiter is not installed (`make typecheck`),
        # a typed class when it is (`make bench`): hence `unused-ignore` too.
        class PerKey(pl.BucketFactory):  # type: ignore[misc, unused-ignore]
            """One bucket per key (pyrate-limiter's documented pattern), no leak thread."""

            def __init__(self) -> None:
                self.clock = pl.MonotonicClock()
                self.buckets: dict[str, Any] = {}

            def wrap_item(self, name: str, weight: int = 1) -> Any:
                return pl.RateItem(name, self.clock.now(), weight=weight)

            def get(self, item: Any) -> Any:
                bucket = self.buckets.get(item.name)
                if bucket is None:
                    if kind == "sliding-log":
                        bucket = pl.InMemoryBucket(rates)
                    else:
                        bucket = pl.StateBucket(rates, algorithm=pl.TokenBucket())
                    self.buckets[item.name] = bucket
                return bucket

        limiter = pl.Limiter(PerKey())
        acquire = limiter.try_acquire
        return lambda key: acquire(key, blocking=False)

    return make


#: name -> (distribution needed or None, factory). Order = table rows.
MEMORY_ROWS: dict[str, tuple[str | None, Callable[[], Decide]]] = {
    "ingresslib TokenBucket (GCRA), allow": (None, _ours(TokenBucket(RATE, burst=RATE))),
    "ingresslib LimitReq nodelay, allow": (
        None,
        _ours(LimitReq(RATE, burst=RATE - 1, nodelay=True)),
    ),
    "ingresslib FixedWindow, allow": (None, _ours(FixedWindow(RATE, 1.0))),
    "ingresslib SlidingWindow, allow": (None, _ours(SlidingWindow(RATE, 1.0))),
    "ingresslib TokenBucket, hit (Decision)": (None, _ours(TokenBucket(RATE, burst=RATE), "hit")),
    "limits fixed window": ("limits", _limits("fixed-window")),
    "limits moving window": ("limits", _limits("moving-window")),
    "limits sliding window counter": ("limits", _limits("sliding-window-counter")),
    "pyrate-limiter sliding log": ("pyrate-limiter", _pyrate("sliding-log")),
    "pyrate-limiter token bucket": ("pyrate-limiter", _pyrate("token-bucket")),
}


def available(distribution: str | None) -> bool:
    if distribution is None:
        return True
    try:
        importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def run_mix(decide: Decide, mix: Sequence[str]) -> int:
    """Decide every request of the mix; return how many were admitted."""
    admitted = 0
    for key in mix:
        if decide(key):
            admitted += 1
    return admitted


def time_memory(
    rows: dict[str, Callable[[], Decide]], mix: Sequence[str], rounds: int, per_round: int = 10
) -> dict[str, tuple[float, float]]:
    """Row -> (best ns per decision, admitted share).

    Rounds are interleaved (each round times every row once), so that a burst of noise on a
    shared machine hits every row alike rather than one row.
    """
    deciders = {name: make() for name, make in rows.items()}
    for decide in deciders.values():
        run_mix(decide, mix)  # warm: every key seen once
    best = dict.fromkeys(deciders, float("inf"))
    admitted = dict.fromkeys(deciders, 0)
    for _ in range(rounds):
        for name, decide in deciders.items():
            start = timeit.default_timer()
            for _ in range(per_round):
                admitted[name] += run_mix(decide, mix)
            best[name] = min(best[name], timeit.default_timer() - start)
    total = rounds * per_round * len(mix)
    return {
        name: (best[name] / (per_round * len(mix)) * 1e9, admitted[name] / total)
        for name in deciders
    }


# --- Redis ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def private_redis(cpu: int | None = None) -> Iterator[str]:
    """A redis-server on a free loopback port in a temporary directory, stopped on exit.

    `cpu`: pin the server to that CPU (Linux), to measure with the client on the same CPU or
    on another one.
    """
    executable = shutil.which("redis-server")
    if executable is None:
        raise RuntimeError("redis-server is not installed (apt-get install redis-server)")
    with tempfile.TemporaryDirectory() as directory:
        port = _free_port()
        process = subprocess.Popen(
            [executable, "--save", "", "--appendonly", "no", "--port", str(port),
             "--bind", "127.0.0.1", "--dir", directory],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        if cpu is not None:
            os.sched_setaffinity(process.pid, {cpu})
        try:
            deadline = time.monotonic() + 10
            while True:
                try:
                    with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
                        sock.sendall(b"PING\r\n")
                        if sock.recv(64).startswith(b"+PONG"):
                            break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.02)
            yield f"redis://127.0.0.1:{port}/0"
        finally:
            process.terminate()
            process.wait(timeout=10)


def _ours_redis(algorithm: Any) -> Callable[[str], Awaitable[tuple[AsyncDecide, Any]]]:
    async def make(url: str) -> tuple[AsyncDecide, Any]:
        limiter = AsyncRedisLimiter(
            algorithm, url, on_failure="closed", timeout=1.0, prefix=f"bench:{uuid.uuid4().hex}:"
        )
        return limiter.allow, limiter.aclose

    return make


def _limits_redis(
    strategy: str, *, one_connection: bool = False
) -> Callable[[str], Awaitable[tuple[AsyncDecide, Any]]]:
    async def make(url: str) -> tuple[AsyncDecide, Any]:
        import redis.asyncio
        from limits import parse
        from limits.aio import storage, strategies

        options: dict[str, Any] = {}
        if one_connection:
            # redis-py's default pool raises "Too many connections" past max_connections;
            # the blocking pool makes the callers wait for the one connection instead.
            options["connection_pool"] = redis.asyncio.BlockingConnectionPool.from_url(
                url, max_connections=1
            )
        store = storage.RedisStorage(
            "async+" + url,
            implementation="redispy",
            key_prefix=f"bench{uuid.uuid4().hex}",
            **options,
        )
        # limits.aio.strategies.STRATEGIES is not annotated: mypy infers the abstract base
        # class for its values, which are the concrete limiters.
        factory: Callable[[Any], strategies.RateLimiter] = strategies.STRATEGIES[strategy]
        limiter = factory(store)
        item = parse(f"{RATE}/second")
        hit = limiter.hit

        async def close() -> None:
            # implementation="redispy": the bridge is redis-py's, which holds the client.
            await cast("RedispyBridge", store.bridge).storage.aclose()
            if one_connection:
                await options["connection_pool"].aclose()

        return (lambda key: hit(item, key)), close

    return make


PING = b"*1\r\n$4\r\nPING\r\n"


def _ping_ours() -> Callable[[str], Awaitable[tuple[AsyncDecide, Any]]]:
    """A bare PING on AsyncRedisLimiter's own connection: its round-trip floor."""

    async def make(url: str) -> tuple[AsyncDecide, Any]:
        limiter = AsyncRedisLimiter(TokenBucket(1), url, on_failure="closed", timeout=1.0)
        channel = limiter._channel  # the store's connection code, without script or decision
        loop = asyncio.get_running_loop()

        async def ping(key: str) -> bytes:
            return await channel.call(PING, loop.time() + 1.0)

        return ping, limiter.aclose

    return make


def _ping_redis_py() -> Callable[[str], Awaitable[tuple[AsyncDecide, Any]]]:
    """A bare PING with redis-py's asyncio client, the client `limits` runs on."""

    async def make(url: str) -> tuple[AsyncDecide, Any]:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(url)
        return (lambda key: client.ping()), client.aclose

    return make


REDIS_ROWS: dict[str, tuple[str | None, Callable[[str], Awaitable[tuple[AsyncDecide, Any]]]]] = {
    "ingresslib AsyncRedisLimiter TokenBucket": (None, _ours_redis(TokenBucket(RATE, burst=RATE))),
    "ingresslib AsyncRedisLimiter LimitReq nodelay": (
        None,
        _ours_redis(LimitReq(RATE, burst=RATE - 1, nodelay=True)),
    ),
    "ingresslib AsyncRedisLimiter FixedWindow": (None, _ours_redis(FixedWindow(RATE, 1.0))),
    "ingresslib AsyncRedisLimiter SlidingWindow": (None, _ours_redis(SlidingWindow(RATE, 1.0))),
    "limits async Redis fixed window": ("limits", _limits_redis("fixed-window")),
    "limits async Redis moving window": ("limits", _limits_redis("moving-window")),
    "limits async Redis sliding window counter": (
        "limits",
        _limits_redis("sliding-window-counter"),
    ),
    # The floors: a decision cannot be faster than a bare round trip on its connection.
    PING_OURS: (None, _ping_ours()),
    PING_REDIS_PY: (None, _ping_redis_py()),
}


async def _time_redis_async(
    rows: dict[str, Callable[[str], Awaitable[tuple[AsyncDecide, Any]]]],
    url: str,
    mix: Sequence[str],
    rounds: int,
) -> dict[str, tuple[float, float]]:
    made = {name: await make(url) for name, make in rows.items()}
    try:
        for decide, _ in made.values():
            for key in mix[:256]:  # warm: connection, scripts
                await decide(key)
        best = dict.fromkeys(made, float("inf"))
        admitted = dict.fromkeys(made, 0)
        for _ in range(rounds):
            for name, (decide, _) in made.items():
                start = timeit.default_timer()
                for key in mix:
                    if await decide(key):
                        admitted[name] += 1
                best[name] = min(best[name], timeit.default_timer() - start)
    finally:
        for _, close in made.values():
            await close()
    return {
        name: (best[name] / len(mix) * 1e9, admitted[name] / (rounds * len(mix))) for name in made
    }


def time_redis(
    rows: dict[str, Callable[[str], Awaitable[tuple[AsyncDecide, Any]]]],
    url: str,
    mix: Sequence[str],
    rounds: int,
) -> dict[str, tuple[float, float]]:
    """Row -> (best ns per decision, admitted share): one connection per row, each request
    awaited before the next, rounds interleaved across rows (see `time_memory`)."""
    return asyncio.run(_time_redis_async(rows, url, mix, rounds))


#: The concurrent rows: N tasks share one limiter. Ours pipelines on its one connection;
#: `limits` gets a pool of one connection (its tasks take turns on it) and, for context, its
#: default pool (one connection per task in flight).
CONCURRENT_ROWS: dict[
    str, tuple[str | None, Callable[[str], Awaitable[tuple[AsyncDecide, Any]]]]
] = {
    "ingresslib AsyncRedisLimiter TokenBucket": (None, _ours_redis(TokenBucket(RATE, burst=RATE))),
    "ingresslib AsyncRedisLimiter LimitReq nodelay": (
        None,
        _ours_redis(LimitReq(RATE, burst=RATE - 1, nodelay=True)),
    ),
    "ingresslib AsyncRedisLimiter FixedWindow": (None, _ours_redis(FixedWindow(RATE, 1.0))),
    "ingresslib AsyncRedisLimiter SlidingWindow": (None, _ours_redis(SlidingWindow(RATE, 1.0))),
    "limits fixed window, 1 connection": (
        "limits",
        _limits_redis("fixed-window", one_connection=True),
    ),
    "limits moving window, 1 connection": (
        "limits",
        _limits_redis("moving-window", one_connection=True),
    ),
    "limits sliding window counter, 1 connection": (
        "limits",
        _limits_redis("sliding-window-counter", one_connection=True),
    ),
    "limits fixed window, default pool": ("limits", _limits_redis("fixed-window")),
    "limits sliding window counter, default pool": (
        "limits",
        _limits_redis("sliding-window-counter"),
    ),
}
CONCURRENCY = (16, 64)


async def decide_all(decide: AsyncDecide, mix: Sequence[str], tasks: int) -> int:
    """Decide the mix with `tasks` tasks at once (task i takes every tasks-th request)."""

    async def worker(part: Sequence[str]) -> int:
        admitted = 0
        for key in part:
            if await decide(key):
                admitted += 1
        return admitted

    return sum(await asyncio.gather(*(worker(mix[i::tasks]) for i in range(tasks))))


async def _time_concurrent_async(
    rows: dict[str, Callable[[str], Awaitable[tuple[AsyncDecide, Any]]]],
    url: str,
    mix: Sequence[str],
    rounds: int,
    tasks: int,
) -> dict[str, tuple[float, float]]:
    made = {name: await make(url) for name, make in rows.items()}
    try:
        for decide, _ in made.values():
            await decide_all(decide, mix[:256], tasks)  # warm: connections, scripts
        best = dict.fromkeys(made, float("inf"))
        admitted = dict.fromkeys(made, 0)
        for _ in range(rounds):
            for name, (decide, _) in made.items():
                start = timeit.default_timer()
                admitted[name] += await decide_all(decide, mix, tasks)
                best[name] = min(best[name], timeit.default_timer() - start)
    finally:
        for _, close in made.values():
            await close()
    return {
        name: (best[name] / len(mix) * 1e9, admitted[name] / (rounds * len(mix))) for name in made
    }


def time_concurrent(
    rows: dict[str, Callable[[str], Awaitable[tuple[AsyncDecide, Any]]]],
    url: str,
    mix: Sequence[str],
    rounds: int,
    tasks: int,
) -> dict[str, tuple[float, float]]:
    """Row -> (best wall ns per decision, admitted share) with `tasks` tasks sharing one
    limiter (so decisions per second = 1e9 / ns), rounds interleaved across rows."""
    return asyncio.run(_time_concurrent_async(rows, url, mix, rounds, tasks))


# --- the tables -----------------------------------------------------------------------------


def _row(name: str, ns: float, share: float, reference: float | None) -> str:
    ratio = f"{reference / ns:.1f}x" if reference else ""
    return f"| {name} | {ns:,.0f} | {1e9 / ns:,.0f} | {share:.0%} | {ratio} |"


def format_rows(results: dict[str, tuple[float, float]], reference: str) -> str:
    base = results.get(reference, (None, 0.0))[0]
    lines = [
        f"| limiter | ns / decision | decisions / s | admitted | vs {reference} |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [_row(name, ns, share, base) for name, (ns, share) in results.items()]
    return "\n".join(lines)


def _ratios(
    pairs: Sequence[tuple[str, str]],
    results: dict[str, tuple[float, float]],
    goal: float,
    bar: float,
) -> list[str]:
    lines = []
    for ours, theirs in pairs:
        if ours in results and theirs in results:
            ratio = results[theirs][0] / results[ours][0]
            verdict = "goal met" if ratio >= goal else ("bar met" if ratio >= bar else "below bar")
            lines.append(
                f"| {ours} vs {theirs} | {ratio:.2f}x | {goal:g}x | {bar:g}x | {verdict} |"
            )
    return lines


HEADER = ["| comparison | ratio | goal | bar | verdict |", "|---|---:|---:|---:|---|"]
REDIS_PAIRS = [
    ("ingresslib AsyncRedisLimiter TokenBucket", "limits async Redis fixed window"),
    ("ingresslib AsyncRedisLimiter TokenBucket", "limits async Redis moving window"),
    ("ingresslib AsyncRedisLimiter FixedWindow", "limits async Redis fixed window"),
    ("ingresslib AsyncRedisLimiter SlidingWindow", "limits async Redis sliding window counter"),
]


def goals(memory: dict[str, tuple[float, float]], redis: dict[str, tuple[float, float]]) -> str:
    """The issue's goals: >= 10x limits in memory (bar 5x), >= 2x over Redis (bar 1.5x)."""
    lines = list(HEADER)
    lines += _ratios(
        [
            ("ingresslib TokenBucket (GCRA), allow", "limits fixed window"),
            ("ingresslib TokenBucket (GCRA), allow", "limits moving window"),
            ("ingresslib FixedWindow, allow", "limits fixed window"),
            ("ingresslib SlidingWindow, allow", "limits sliding window counter"),
            # Not like for like (a full Decision against a bool), shown for what `hit` costs.
            ("ingresslib TokenBucket, hit (Decision)", "limits fixed window"),
        ],
        memory,
        10,
        5,
    )
    lines += _ratios(REDIS_PAIRS, redis, 2, 1.5)
    # The ceiling: the ratio a decision costing no more than a bare PING would reach.
    lines += _ratios(
        [
            (PING_OURS, "limits async Redis fixed window"),
            (PING_OURS, "limits async Redis sliding window counter"),
        ],
        redis,
        2,
        1.5,
    )
    return "\n".join(lines)


def concurrent_goals(results: dict[str, tuple[float, float]]) -> str:
    """The same comparisons with tasks sharing one connection (not the issue's measure)."""
    pairs = [
        ("ingresslib AsyncRedisLimiter TokenBucket", "limits fixed window, 1 connection"),
        ("ingresslib AsyncRedisLimiter TokenBucket", "limits moving window, 1 connection"),
        ("ingresslib AsyncRedisLimiter FixedWindow", "limits fixed window, 1 connection"),
        (
            "ingresslib AsyncRedisLimiter SlidingWindow",
            "limits sliding window counter, 1 connection",
        ),
        ("ingresslib AsyncRedisLimiter FixedWindow", "limits fixed window, default pool"),
        (
            "ingresslib AsyncRedisLimiter SlidingWindow",
            "limits sliding window counter, default pool",
        ),
    ]
    return "\n".join([*HEADER, *_ratios(pairs, results, 2, 1.5)])


def _version(distribution: str) -> str:
    try:
        return f"{distribution} {importlib.metadata.version(distribution)}"
    except importlib.metadata.PackageNotFoundError:
        return f"{distribution} (not installed)"


def machine() -> str:
    versions = ", ".join(
        _version(name) for name in ("ingresslib", "limits", "pyrate-limiter", "redis")
    )
    server = subprocess.run(
        ["redis-server", "--version"], capture_output=True, text=True, check=False
    ).stdout.split(" sha=")[0] if shutil.which("redis-server") else "no redis-server"  # fmt: skip
    return (
        f"CPython {platform.python_version()} on {platform.system()} {platform.release()}, "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f}; {versions}; {server}"
    )


def main(argv: Sequence[str] = ()) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 timing rounds instead of 7")
    parser.add_argument("--redis-url", help="use this Redis instead of starting one")
    parser.add_argument("--no-redis", action="store_true", help="skip the Redis rows")
    parser.add_argument(
        "--sequential-only", action="store_true", help="skip the concurrent Redis rows"
    )
    args = parser.parse_args(list(argv))
    rounds = 3 if args.quick else ROUNDS
    mix = workload()

    print(machine(), file=sys.stderr)
    memory = time_memory(
        {name: make for name, (dist, make) in MEMORY_ROWS.items() if available(dist)}, mix, rounds
    )
    # Redis: with the server on the client's CPU, and on another one. On this kind of virtual
    # machine a wakeup across CPUs costs tens of microseconds per round trip, which is most of
    # a decision: both placements are shown.
    placements: dict[str, tuple[dict[str, tuple[float, float]], dict[int, Any]]] = {}
    if not args.no_redis:
        rows = {name: make for name, (dist, make) in REDIS_ROWS.items() if available(dist)}
        together = {name: make for name, (dist, make) in CONCURRENT_ROWS.items() if available(dist)}

        def measure(url: str) -> tuple[dict[str, tuple[float, float]], dict[int, Any]]:
            sequential = time_redis(rows, url, mix[:1_024], rounds * 3)
            concurrent = {}
            if not args.sequential_only:
                for tasks in CONCURRENCY:
                    concurrent[tasks] = time_concurrent(
                        together, url, mix[:1_024], rounds * 2, tasks
                    )
            return sequential, concurrent

        if args.redis_url is not None:
            placements["given server"] = measure(args.redis_url)
        elif hasattr(os, "sched_setaffinity") and len(os.sched_getaffinity(0)) >= 2:
            first, second, *_ = sorted(os.sched_getaffinity(0))
            everywhere = os.sched_getaffinity(0)
            os.sched_setaffinity(0, {first})
            try:
                for label, cpu in (("same CPU", first), ("separate CPUs", second)):
                    with private_redis(cpu) as url:
                        placements[label] = measure(url)
            finally:
                os.sched_setaffinity(0, everywhere)
        else:
            with private_redis() as url:
                placements["unpinned"] = measure(url)

    print(f"Machine: {machine()}\n")
    print(f"In memory ({KEYS:,} keys, {RATE}/s per key, best of {rounds} rounds):\n")
    print(format_rows(memory, "limits fixed window"))
    for label, (sequential, concurrent) in placements.items():
        print(f"\nRedis ({label}), one connection, awaited one by one:\n")
        print(format_rows(sequential, "limits async Redis fixed window"))
        for tasks, results in concurrent.items():
            print(f"\nRedis ({label}), {tasks} tasks sharing one limiter (wall time / decision):\n")
            print(format_rows(results, "limits fixed window, 1 connection"))
    print("\nGoals:\n")
    print(goals(memory, {}))
    for label, (sequential, concurrent) in placements.items():
        print(f"\nRedis goals ({label}, sequential: the issue's measure):\n")
        print(goals({}, sequential))
        for tasks, results in concurrent.items():
            print(
                f"\nRedis ({label}), {tasks} tasks on one connection (not the issue's measure):\n"
            )
            print(concurrent_goals(results))
    return 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
