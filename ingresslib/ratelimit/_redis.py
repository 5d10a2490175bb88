"""The Redis store: the algorithms run atomically on a shared Redis, one round trip each.

Each decision is one `EVALSHA` of the algorithm's Lua script (`_lua.py`); after a Redis
restart or `SCRIPT FLUSH` the server answers NOSCRIPT and the store sends `EVAL` with the
script's text once, which caches it again. The script reads the server's clock (`TIME`), so
replicas whose own clocks disagree share one clock. Keys expire (a second) after their state
becomes the same as no state. The asyncio store pipelines concurrent decisions on one
connection (`_Channel`) that redis-py opens and the store then reads itself (`_Link`).

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
import collections
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


class _Link(asyncio.Protocol):
    """One open connection: commands out, the scripts' one-line replies in, in order.

    Why not redis-py's per-command path: its `send_packed_command` / `read_response` go
    through a StreamReader and a general RESP parser, and a deadline per call costs an
    `asyncio.timeout` (~4 µs); together about 10 µs of a 35 µs decision on one CPU. This store
    sends only `EVALSHA` / `EVAL` of its own scripts, whose replies are one simple string
    (`+...`) or an error (`-...`): one line each, so the protocol code here is a `split` on
    CRLF. redis-py still opens the connection (URL, TLS, unix socket, AUTH, SELECT, HELLO):
    `_Channel._open` then takes its transport over.
    """

    def __init__(
        self, loop: asyncio.AbstractEventLoop, transport: asyncio.Transport, writer: object
    ) -> None:
        self.loop = loop
        self.transport = transport
        # The StreamWriter redis-py opened the transport with: it closes the transport when it
        # is garbage-collected, so it lives as long as the link.
        self._writer = writer
        self.closed = False
        # Commands in flight, oldest first: the future their reply resolves, their deadline.
        self.waiters: collections.deque[tuple[asyncio.Future[bytes], float]] = collections.deque()
        self._pending: list[bytes] | None = None  # written together at the next iteration
        self._partial = b""
        self._timer: asyncio.TimerHandle | None = None

    def send(self, packed: bytes, deadline: float) -> asyncio.Future[bytes]:
        """Send one packed command; the future gets its reply line (error replies too)."""
        if self.closed:
            raise ConnectionError("the connection to Redis is closed")
        future = self.loop.create_future()
        waiters = self.waiters
        waiters.append((future, deadline))
        if self._pending is not None:
            self._pending.append(packed)
        elif len(waiters) == 1:
            # PERF: an idle connection writes at once: a decision alone is one round trip.
            self.transport.write(packed)
        else:
            # PERF: commands issued while others are in flight (concurrent decisions) are
            # written together at the next loop iteration: one send() for all of them.
            self._pending = [packed]
            self.loop.call_soon(self._flush)
        if self._timer is None:
            # PERF: one timer per connection, armed for the oldest command and re-armed
            # only when it fires, instead of an asyncio.timeout per decision (~4 µs).
            self._timer = self.loop.call_at(deadline, self._check_deadline)
        return future

    def _flush(self) -> None:
        pending, self._pending = self._pending, None
        if pending and not self.closed:
            self.transport.write(b"".join(pending))

    def _check_deadline(self) -> None:
        self._timer = None
        if self.closed or not self.waiters:
            return
        deadline = self.waiters[0][1]
        if deadline - self.loop.time() > 0.001:  # the oldest command is younger: wait for it
            self._timer = self.loop.call_at(deadline, self._check_deadline)
            return
        # Redis did not answer in time: drop the connection (the next call opens a new one).
        self.close(asyncio.TimeoutError("Redis did not answer within the timeout"))

    def data_received(self, data: bytes) -> None:
        if self._partial:
            data = self._partial + data
        *lines, self._partial = data.split(b"\r\n")
        waiters = self.waiters
        for line in lines:
            if not waiters or line[:1] not in (b"+", b"-"):
                # A reply nobody asked for or of another type: the connection is out of step.
                self.close(ConnectionError(f"unexpected reply from Redis: {line[:80]!r}"))
                return
            future = waiters.popleft()[0]
            if not future.done():  # a caller cancelled meanwhile: its reply is dropped
                future.set_result(line)

    def connection_lost(self, exc: Exception | None) -> None:
        self.close(exc or ConnectionError("Redis closed the connection"))

    def close(self, error: BaseException) -> None:
        """Close the connection and fail the commands in flight with `error`."""
        if not self.closed:
            self.closed = True
            self.transport.abort()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._pending = None
        waiters, self.waiters = self.waiters, collections.deque()
        for future, _ in waiters:
            if not future.done():
                future.set_exception(error)


class _Channel:
    """One connection shared by every decision of a store, pipelined.

    A decision that finds the connection idle writes its command at once and awaits its
    reply (one round trip). Commands issued while others are in flight are written together,
    and replies are matched to commands in order (automatic pipelining): concurrent
    decisions share round trips instead of queueing for the connection. A command older than
    `timeout`, or any connection failure, closes the connection and fails every command in
    flight; the next command opens a new connection. A caller that is cancelled leaves its
    reply to be read and dropped: the connection stays in step.
    """

    def __init__(self, connect: Callable[[], Any], timeout: float) -> None:
        self._new_connection = connect  # a redis-py asyncio Connection, not yet connected
        self.timeout = timeout
        self._link: _Link | None = None
        self._lock: asyncio.Lock | None = None

    async def call(self, packed: bytes, deadline: float) -> bytes:
        """Send one packed command; return its reply line (`+...` or `-...`).

        `deadline` is on the loop's clock (`loop.time()`).
        """
        link = self._link
        if link is None or link.closed:
            link = await self._connect(deadline)
        return await link.send(packed, deadline)

    async def _connect(self, deadline: float) -> _Link:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:  # concurrent first calls share one connection attempt
            link = self._link
            if link is None or link.closed:
                loop = asyncio.get_running_loop()
                remaining = deadline - loop.time()
                if remaining <= 0:
                    raise asyncio.TimeoutError("no time left to connect to Redis")
                link = self._link = await _within(remaining, self._open(loop))
            return link

    async def _open(self, loop: asyncio.AbstractEventLoop) -> _Link:
        connection = self._new_connection()
        try:
            await connection.connect()  # redis-py: the socket or TLS, AUTH, SELECT, HELLO
            writer = getattr(connection, "_writer", None)
            if writer is None:  # pragma: no cover - a redis-py without its StreamWriter
                raise RuntimeError("redis-py's asyncio Connection has no _writer to take over")
            transport = writer.transport
        except BaseException:
            await connection.disconnect(nowait=True)
            raise
        # The transport is ours from here: redis-py's Connection forgets it (so that neither
        # its disconnect nor its __del__ closes it) and its StreamReader no longer gets data.
        connection._reader = connection._writer = None
        link = _Link(loop, transport, writer)
        transport.set_protocol(link)
        return link

    async def close(self) -> None:
        """Close the connection (commands in flight fail)."""
        link, self._link = self._link, None
        if link is not None:
            link.close(ConnectionError("the rate-limit store was closed"))


async def _within(seconds: float, awaitable: Awaitable[T]) -> T:
    """Await with a deadline (asyncio.TimeoutError past it)."""
    if sys.version_info >= (3, 11):
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
        # redis-py opens the connection from the client's settings; the deadline is ours
        # (`_Link`), so no socket timeout once connected.
        settings = {**pool.connection_kwargs, "socket_timeout": None}
        settings.setdefault("socket_connect_timeout", timeout)
        connection_class = pool.connection_class
        self._channel = _Channel(lambda: connection_class(**settings), timeout)
        self._response_error: type[Exception] = redis.exceptions.ResponseError
        # PERF: the command is packed by hand: "EVALSHA sha 1" and the configuration never
        # change, so only the key, the time, the cost and max_delay are encoded per call.
        count = b"*%d\r\n" % (7 + len(self._config))
        self._head = count + b"".join(
            _bulk(part) for part in (b"EVALSHA", self._sha.encode(), b"1")
        )
        self._eval_head = count + b"".join(
            _bulk(part) for part in (b"EVAL", self._script.encode(), b"1")
        )
        self._tail = b"".join(_bulk(b"%d" % value) for value in self._config)
        self._encoding: str = settings.get("encoding", "utf-8")

    async def _call(self, name: str, cost: int, max_delay_us: int) -> bytes:
        """The script's reply line for one decision (b"+1 0 0 99 10000 0")."""
        key = name.encode(self._encoding)
        now = b"" if self._clock is None else b"%d" % round(self._clock() * 1e6)
        cost_arg = b"%d" % cost
        delay_arg = b"%d" % max_delay_us
        # PERF: one formatting for the four arguments that change.
        body = b"$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n$%d\r\n%s\r\n" % (
            len(key), key, len(now), now, len(cost_arg), cost_arg, len(delay_arg), delay_arg,
        )  # fmt: skip
        channel = self._channel
        deadline = asyncio.get_running_loop().time() + self.timeout
        reply = await channel.call(self._head + body + self._tail, deadline)
        if reply[0] == 45:  # b"-": an error reply
            if reply.startswith(b"-NOSCRIPT"):  # Redis restarted or SCRIPT FLUSH: send it
                reply = await channel.call(self._eval_head + body + self._tail, deadline)
            if reply[0] == 45:
                raise self._response_error(reply[1:].decode(errors="replace"))
        return reply

    async def hit(self, key: str, cost: int = 1, *, max_delay: float | None = None) -> Decision:
        """Decide one request (see `MemoryLimiter.hit`); never raises for Redis' sake."""
        if cost < 1:
            _check_cost(cost)
        max_delay_us = _max_delay_us(max_delay, self.algorithm.default_max_delay_us)
        failures = self._failures
        if failures.paused():
            return failures.decision()
        try:
            reply = await self._call(self.prefix + key, cost, max_delay_us)
        except Exception as error:  # noqa: BLE001  # whatever the client raises, the policy decides
            return failures.failed(error)
        failures.succeeded()
        # PERF: int() reads the reply's leading "+" as a sign: no slice needed.
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
