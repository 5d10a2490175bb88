"""The Redis store: the algorithms run atomically on a shared Redis, one round trip each.

Each decision is one `EVALSHA` of the algorithm's Lua script (`_lua.py`); after a Redis
restart or `SCRIPT FLUSH` the server answers NOSCRIPT and the store sends `EVAL` with the
script's text once, which caches it again. The script reads the server's clock (`TIME`), so
replicas whose own clocks disagree share one clock. Keys expire (a second) after their state
becomes the same as no state. The asyncio store pipelines concurrent decisions on one
connection (`_Channel`).

Every call has a timeout (socket timeouts on the connections the store creates, and for the
asyncio store a deadline around the whole call). When Redis fails or is slow, the chosen
failure policy decides ("open": admit, "closed": refuse) and the store stops asking Redis for
`retry_interval` seconds, then tries again by itself: a request never waits more than the
timeout and never sees an exception from the store.

redis-py is an optional dependency (`pip install "ingresslib[redis]"`): it is imported when a
store is created, never when ingresslib is.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sys
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, Generic, Literal, TypeVar

from ingresslib.ratelimit._algorithms import (
    RateAlgorithm,
    _check_cost,
    _max_delay_us,
    to_decision,
)
from ingresslib.ratelimit._decision import Decision
from ingresslib.ratelimit._lua import SCRIPTS, sha1
from ingresslib.ratelimit._waiting import sleep_for

if TYPE_CHECKING:
    import redis as redis_sync
    import redis.asyncio as redis_async

__all__ = ["AsyncRedisLimiter", "FailurePolicy", "RedisLimiter"]

S = TypeVar("S")
T = TypeVar("T")
FailurePolicy = Literal["open", "closed"]
_log = logging.getLogger("ingresslib.ratelimit")
DEFAULT_PREFIX = "ingresslib:ratelimit:"


class _Failures:
    """The failure policy, and the pause after a failure before Redis is asked again."""

    def __init__(self, on_failure: FailurePolicy, retry_interval: float) -> None:
        if on_failure not in ("open", "closed"):
            raise ValueError(f'on_failure must be "open" or "closed", not {on_failure!r}')
        if retry_interval < 0:
            raise ValueError(f"retry_interval must be >= 0, not {retry_interval}")
        self.on_failure = on_failure
        self.retry_interval = retry_interval
        self.down_until = 0.0
        self.last_error = ""

    def paused(self) -> bool:
        return self.down_until > 0.0 and time.monotonic() < self.down_until

    def failed(self, error: BaseException) -> Decision:
        self.last_error = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        if self.down_until == 0.0:
            _log.warning(
                "rate-limit store unavailable (%s): failing %s, retrying every %.1fs",
                self.last_error,
                self.on_failure,
                self.retry_interval,
            )
        self.down_until = time.monotonic() + self.retry_interval
        return self.decision()

    def succeeded(self) -> None:
        if self.down_until != 0.0:
            _log.warning("rate-limit store available again")
            self.down_until = 0.0

    def decision(self) -> Decision:
        admit = self.on_failure == "open"
        return Decision(
            admit,
            retry_after=0.0 if admit else self.retry_interval,
            reason=f"rate-limit store unavailable, failing {self.on_failure}: {self.last_error}",
            degraded=True,
        )


class _Store(Generic[S]):
    """What the sync and async stores share: the script, the key names, the replies."""

    def __init__(
        self,
        algorithm: RateAlgorithm[S],
        *,
        on_failure: FailurePolicy,
        timeout: float,
        retry_interval: float,
        prefix: str,
        clock: Callable[[], float] | None,
    ) -> None:
        if not timeout > 0:
            raise ValueError(f"timeout must be > 0, not {timeout}")
        self.algorithm = algorithm
        self.timeout = timeout
        self.prefix = f"{prefix}{algorithm.tag}:"
        self._failures = _Failures(on_failure, retry_interval)
        self._script = SCRIPTS[algorithm.tag]
        self._sha = sha1(self._script)
        self._config = algorithm.lua_args()
        self._clock = clock

    @property
    def on_failure(self) -> FailurePolicy:
        """What a decision is while Redis cannot be asked: "open" admits, "closed" refuses."""
        return self._failures.on_failure

    def _args(self, cost: int, max_delay: float | None) -> tuple[str, int, int]:
        """ARGV[1:4]: now, cost, max_delay_us (the configuration follows)."""
        if cost < 1:
            _check_cost(cost)
        max_delay_us = _max_delay_us(max_delay, self.algorithm.default_max_delay_us)
        # "" asks the script for the server's TIME; a clock is for tests replaying a sequence.
        now = "" if self._clock is None else str(round(self._clock() * 1e6))
        return (now, cost, max_delay_us)

    def _decision(self, reply: bytes | str, cost: int) -> Decision:
        # The scripts reply one simple string: "allowed delay retry remaining reset code".
        allowed, delay, retry, remaining, reset, code = map(int, reply.split())
        outcome = (allowed == 1, delay, retry, remaining, reset, code)
        return to_decision(outcome, self.algorithm.reason(code, cost))


def _import_redis() -> Any:  # the module: its objects are typed where they are stored
    try:
        import redis  # noqa: PLC0415  # an optional extra: imported when a store is created
    except ImportError as error:  # pragma: no cover - exercised without the extra only
        raise ImportError(
            'the Redis store needs redis-py: pip install "ingresslib[redis]"'
        ) from error
    return redis


class RedisLimiter(_Store[S]):
    """A rate limiter per key shared through Redis, with redis-py's synchronous client.

    Example::

        limiter = RedisLimiter(
            TokenBucket(100, burst=20), "redis://127.0.0.1:6379/0", on_failure="open"
        )
        decision = limiter.hit(client_ip)

    Attributes:
        algorithm: the rate-limit algorithm, with its configuration.
        timeout: seconds a decision may take before the failure policy applies.
        prefix: what every Redis key of this limiter starts with (the prefix, then the
            algorithm's tag).
    """

    def __init__(
        self,
        algorithm: RateAlgorithm[S],
        client: str | redis_sync.Redis,
        *,
        on_failure: FailurePolicy,
        timeout: float = 0.1,
        retry_interval: float = 1.0,
        prefix: str = DEFAULT_PREFIX,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Create a limiter on a Redis server.

        Args:
            algorithm: e.g. `TokenBucket(100, burst=20)`.
            client: a `redis://` URL (the store then creates a client with `timeout` as its
                socket and connect timeouts and no retries), or your own `redis.Redis` (give
                it a `socket_timeout`: the synchronous client has no other deadline).
            on_failure: "open" admits and "closed" refuses while Redis cannot answer.
            timeout: seconds (> 0).
            retry_interval: after a failure, seconds during which the policy decides without
                asking Redis; then the next decision tries Redis again.
            prefix: the key prefix (one per independent limit, e.g. per route).
            clock: for tests only: a clock in seconds sent with each call instead of the
                server's `TIME` (replicas with such clocks disagree).
        """
        super().__init__(
            algorithm,
            on_failure=on_failure,
            timeout=timeout,
            retry_interval=retry_interval,
            prefix=prefix,
            clock=clock,
        )
        redis = _import_redis()
        self._no_script: type[Exception] = redis.exceptions.NoScriptError
        self._owned = isinstance(client, str)
        self.client: redis_sync.Redis = (
            redis.Redis.from_url(
                client,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=redis.retry.Retry(redis.backoff.NoBackoff(), 0),
            )
            if isinstance(client, str)
            else client
        )

    def hit(self, key: str, cost: int = 1, *, max_delay: float | None = None) -> Decision:
        """Decide one request (see `MemoryLimiter.hit`); never raises for Redis' sake."""
        args = self._args(cost, max_delay)
        failures = self._failures
        if failures.paused():
            return failures.decision()
        name = self.prefix + key
        argv: tuple[str | int, ...] = (*args, *self._config)
        try:
            try:
                reply = self.client.evalsha(self._sha, 1, name, *argv)
            except self._no_script:
                reply = self.client.eval(self._script, 1, name, *argv)
        except Exception as error:  # noqa: BLE001  # whatever the client raises, the policy decides
            return failures.failed(error)
        failures.succeeded()
        return self._decision(reply, cost)

    def allow(self, key: str, cost: int = 1) -> bool:
        """Decide one request: True to admit it."""
        return self.hit(key, cost).allowed

    def close(self) -> None:
        """Close the client if the store created it."""
        if self._owned:
            self.client.close()


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


class _Channel:
    """One connection of redis-py's asyncio client, shared by every decision, pipelined.

    A decision that finds the connection idle sends its command and reads the reply itself
    (one round trip, no task). Decisions that arrive while a reply is awaited queue up, and
    are then sent together in one write, their replies read in order (automatic
    pipelining): concurrent decisions share round trips instead of waiting for each other.
    Any failure drops the connection (the next command opens a new one) and fails the
    commands in flight; callers bound their wait with their own deadline.
    """

    def __init__(self, connection: Any, timeout: float, response_error: type[Exception]) -> None:
        self.connection = connection
        self.timeout = timeout
        self._response_error = response_error
        self._queue: list[tuple[bytes, asyncio.Future[Any]]] = []
        self._busy = False
        self._drainer: asyncio.Task[None] | None = None

    async def call(self, packed: bytes) -> Any:  # a RESP reply: its shape is the caller's
        """Send one packed command and return its reply (error replies are raised)."""
        if self._busy:
            future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
            self._queue.append((packed, future))
            return await future
        self._busy = True
        connection = self.connection
        try:
            await connection.send_packed_command(packed, check_health=False)
            return await connection.read_response()
        except self._response_error:
            raise  # a reply: the connection is still in step
        except BaseException:
            await connection.disconnect(nowait=True)
            raise
        finally:
            if self._queue:
                self._drainer = asyncio.get_running_loop().create_task(self._drain())
            else:
                self._busy = False

    async def _drain(self) -> None:
        connection = self.connection
        try:
            while self._queue:
                batch, self._queue = self._queue, []
                try:
                    await _within(self.timeout, self._exchange(batch))
                except BaseException as error:
                    await connection.disconnect(nowait=True)
                    failure = error if isinstance(error, Exception) else ConnectionError("closed")
                    for _, future in batch:
                        if not future.done():
                            future.set_exception(failure)
                    if not isinstance(error, Exception):
                        raise
        finally:
            self._busy = False
            self._drainer = None

    async def _exchange(self, batch: list[tuple[bytes, asyncio.Future[Any]]]) -> None:
        connection = self.connection
        await connection.send_packed_command(b"".join(packed for packed, _ in batch), False)
        for _, future in batch:
            try:
                reply = await connection.read_response()
            except self._response_error as error:
                if not future.done():
                    future.set_exception(error)
                continue
            if not future.done():
                future.set_result(reply)

    async def close(self) -> None:
        """Stop the pipeline and close the connection."""
        drainer = self._drainer
        if drainer is not None:
            drainer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drainer
        await self.connection.disconnect()


async def _within(seconds: float, awaitable: Awaitable[T]) -> T:
    """Await with a deadline (asyncio.TimeoutError past it)."""
    if sys.version_info >= (3, 11):
        # PERF: asyncio.timeout arms one timer; wait_for (3.10) also creates a task.
        async with asyncio.timeout(seconds):
            return await awaitable
    return await asyncio.wait_for(awaitable, seconds)  # pragma: no cover - Python 3.10


class AsyncRedisLimiter(_Store[S]):
    """A rate limiter per key shared through Redis, with redis-py's asyncio client.

    Decisions go over one connection of their own (opened from the client's settings), and
    concurrent decisions are pipelined on it: see `_Channel`.

    Example::

        limiter = AsyncRedisLimiter(LimitReq(10, burst=20), url, on_failure="closed")
        decision = await limiter.acquire(client_ip, max_wait=1.0)  # sleeps limit_req's delay

    Attributes:
        algorithm: the rate-limit algorithm, with its configuration.
        timeout: seconds a decision may take before the failure policy applies.
        prefix: what every Redis key of this limiter starts with.
        client: the redis-py client whose settings the connection uses.
    """

    def __init__(
        self,
        algorithm: RateAlgorithm[S],
        client: str | redis_async.Redis,
        *,
        on_failure: FailurePolicy,
        timeout: float = 0.1,
        retry_interval: float = 1.0,
        prefix: str = DEFAULT_PREFIX,
        clock: Callable[[], float] | None = None,
    ) -> None:
        """Create a limiter on a Redis server (the arguments of `RedisLimiter`).

        A client of your own gets the same deadline: every decision is bounded by `timeout`.
        """
        super().__init__(
            algorithm,
            on_failure=on_failure,
            timeout=timeout,
            retry_interval=retry_interval,
            prefix=prefix,
            clock=clock,
        )
        redis = _import_redis()
        self._no_script = redis.exceptions.NoScriptError
        self._owned = isinstance(client, str)
        self.client: redis_async.Redis = (
            redis.asyncio.Redis.from_url(
                client,
                socket_timeout=timeout,
                socket_connect_timeout=timeout,
                retry=redis.asyncio.retry.Retry(redis.backoff.NoBackoff(), 0),
            )
            if isinstance(client, str)
            else client
        )
        pool = self.client.connection_pool
        # The deadline is ours (`_within`): redis-py's own socket timeout would wrap every
        # write in asyncio.wait_for, a task per command.
        settings = {**pool.connection_kwargs, "socket_timeout": None}
        settings.setdefault("socket_connect_timeout", timeout)
        self._channel = _Channel(
            pool.connection_class(**settings), timeout, redis.exceptions.ResponseError
        )
        # PERF: the command is packed by hand: "EVALSHA sha 1" and the configuration never
        # change, so only the key, the time, the cost and max_delay are encoded per call.
        self._head = b"*%d\r\n" % (7 + len(self._config)) + b"".join(
            _bulk(part) for part in (b"EVALSHA", self._sha.encode(), b"1")
        )
        self._tail = b"".join(_bulk(b"%d" % value) for value in self._config)
        self._encoding: str = settings.get("encoding", "utf-8")

    async def _call(self, name: str, args: tuple[str, int, int]) -> bytes | str:
        now, cost, max_delay_us = args
        packed = b"".join(
            (
                self._head,
                _bulk(name.encode(self._encoding)),
                _bulk(now.encode()),
                _bulk(b"%d" % cost),
                _bulk(b"%d" % max_delay_us),
                self._tail,
            )
        )
        try:
            reply: bytes | str = await self._channel.call(packed)
        except self._no_script:
            connection = self._channel.connection
            command = connection.pack_command("EVAL", self._script, 1, name, *args, *self._config)
            reply = await self._channel.call(b"".join(command))
        return reply

    async def hit(self, key: str, cost: int = 1, *, max_delay: float | None = None) -> Decision:
        """Decide one request (see `MemoryLimiter.hit`); never raises for Redis' sake."""
        args = self._args(cost, max_delay)
        failures = self._failures
        if failures.paused():
            return failures.decision()
        try:
            reply = await _within(self.timeout, self._call(self.prefix + key, args))
        except Exception as error:  # noqa: BLE001  # whatever the client raises, the policy decides
            return failures.failed(error)
        failures.succeeded()
        return self._decision(reply, cost)

    async def allow(self, key: str, cost: int = 1) -> bool:
        """Decide one request: True to admit it."""
        return (await self.hit(key, cost)).allowed

    async def acquire(self, key: str, cost: int = 1, *, max_wait: float | None = None) -> Decision:
        """Decide one request and sleep its delay (see `MemoryLimiter.acquire`)."""
        return await sleep_for(await self.hit(key, cost, max_delay=max_wait))

    async def aclose(self) -> None:
        """Close the store's connection, and the client if the store created it."""
        await self._channel.close()
        if self._owned:
            await self.client.aclose()
