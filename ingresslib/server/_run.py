"""`serve(config)`: the process of `ingresslib serve`, its event loop and its signals."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Callable

from ingresslib.resources import ManifestError
from ingresslib.routing import RouteTableError
from ingresslib.server._config import ServeConfig, SourceError
from ingresslib.server._server import open_server

__all__ = ["loop_factory", "serve"]

logger = logging.getLogger("ingresslib.serve")


async def _run(config: ServeConfig) -> int:
    try:
        server = await open_server(config)
    except (ManifestError, RouteTableError) as error:
        logger.error("the manifests do not load:\n%s", error)
        return 1
    except SourceError as error:
        logger.error("%s", error)
        return 1
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        try:
            await server.start()
        except OSError as error:
            logger.error("cannot listen: %s", error)
            await server.stop()
            return 1
        watcher = asyncio.create_task(server.watch())
        await stopping.wait()
        logger.info("shutting down")
        watcher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await watcher
        await server.stop()
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    logger.info("stopped")
    return 0


def loop_factory(choice: str) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """The event loop factory of `ServeConfig.loop` (None: asyncio's default).

    Raises:
        ImportError: "uvloop" was asked for and is not installed.
    """
    if choice == "asyncio":
        return None
    try:
        import uvloop  # noqa: PLC0415 (optional: the `serve` extra brings it where it builds)
    except ImportError:
        if choice == "uvloop":
            raise
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def serve(config: ServeConfig) -> int:
    """Serve until SIGINT or SIGTERM; return the exit status (0 after a clean shutdown).

    Raises:
        ImportError: `config.loop` is "uvloop" and uvloop is not installed.
    """
    factory = loop_factory(config.loop)
    # PERF: uvloop's event loop and transports take ~15 % off the CPU time of a proxied
    # request here (docs/benchmarks.md).
    name = "asyncio" if factory is None else "uvloop"
    logger.info("event loop: %s", name)
    if sys.version_info >= (3, 11):
        with asyncio.Runner(loop_factory=factory) as runner:
            return runner.run(_run(config))
    # Python 3.10: asyncio.run() takes no loop factory; this is what it does, with one.
    loop = (factory or asyncio.new_event_loop)()
    try:
        asyncio.set_event_loop(loop)
        return loop.run_until_complete(_run(config))
    finally:
        try:
            loop.run_until_complete(loop.shutdown_asyncgens())
            loop.run_until_complete(loop.shutdown_default_executor())
        finally:
            asyncio.set_event_loop(None)
            loop.close()
