"""The listeners of `ingresslib serve`: one aiohttp runner per app, a site per address.

The plain-HTTP and TLS listeners of the gateway share its runner, so that the app starts once
and is cleaned up once (its on_cleanup closes the upstream pool), after the requests of both
are drained.
"""

from __future__ import annotations

import logging
import socket
import ssl

from aiohttp import web

from ingresslib.server._config import Address

__all__ = ["Listeners"]

logger = logging.getLogger("ingresslib.serve")


class Listeners:
    """The runners and sites of one server.

    Args:
        shutdown_timeout: seconds the requests in flight get to finish at `stop()`.

    Attributes:
        addresses: the addresses bound, by listener name ("http", "https", "admin").
    """

    def __init__(self, shutdown_timeout: float) -> None:
        self.shutdown_timeout = shutdown_timeout
        self.addresses: dict[str, list[str]] = {}
        self._runners: list[web.AppRunner] = []

    async def start(
        self,
        name: str,
        app: web.Application,
        address: Address,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        """Listen on `address` for `app` (on the runner `app` already has, if any).

        Raises:
            OSError: the address cannot be bound.
        """
        runner = next((r for r in self._runners if r.app is app), None)
        if runner is None:
            runner = web.AppRunner(
                app,
                access_log=None,
                handle_signals=False,
                shutdown_timeout=self.shutdown_timeout,
            )
            await runner.setup()
            self._runners.append(runner)
        site = web.TCPSite(runner, address.host, address.port, ssl_context=ssl_context)
        await site.start()
        bound = [str(Address(*sock.getsockname()[:2])) for sock in _sockets(site)]
        self.addresses[name] = bound or [str(address)]

    async def stop(self, first: web.Application) -> None:
        """Close every listener; those of `first` (the gateway) drain before the others.

        First every listener of `first` closes (a new connection is refused from here on),
        then the requests in flight get up to `shutdown_timeout` seconds to finish (idle
        keep-alive connections are closed, busy ones after their response); those still
        running then are cancelled. The other listeners (admin) close last, so that /metrics
        and /readyz answer during the drain.
        """
        runners, self._runners = self._runners, []
        draining = [runner for runner in runners if runner.app is first]
        for runner in draining:
            for site in runner.sites:
                await site.stop()
        if draining:
            logger.info(
                "listeners closed; draining the requests in flight (for up to %g s)",
                self.shutdown_timeout,
            )
        for runner in draining:
            await runner.cleanup()
        for runner in runners:
            if runner not in draining:
                await runner.cleanup()


def _sockets(site: web.TCPSite) -> list[socket.socket]:
    # The asyncio.Server behind the site, to report the ports actually bound (port 0).
    server = getattr(site, "_server", None)
    return list(getattr(server, "sockets", None) or [])
