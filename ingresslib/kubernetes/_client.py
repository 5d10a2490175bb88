"""The IO edge: kubernetes_asyncio for auth and TLS, raw JSON LIST and WATCH requests.

kubernetes_asyncio is imported lazily (it is the `kubernetes` extra), and typed as `Any`
here: its generated client is not annotated, and ingresslib must type-check without it.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import random
from collections.abc import AsyncIterator, Mapping
from typing import Any, cast

import attrs

__all__ = [
    "ApiConnection",
    "Backoff",
    "GoneError",
    "HttpError",
    "KindSpec",
    "require_kubernetes_asyncio",
    "sleep_or_stop",
]

_INSTALL_HINT = (
    "ingresslib.kubernetes needs kubernetes_asyncio: pip install 'ingresslib[kubernetes]'"
)


def require_kubernetes_asyncio() -> Any:
    """Import kubernetes_asyncio, or raise an ImportError that says how to install it."""
    try:
        return importlib.import_module("kubernetes_asyncio")
    except ImportError as error:
        raise ImportError(_INSTALL_HINT) from error


@attrs.frozen
class KindSpec:
    """A kind the watcher follows, and where the API serves it.

    Attributes:
        kind: the object kind, e.g. "Ingress".
        api_version: its group/version, e.g. "networking.k8s.io/v1".
        plural: the resource name in URLs, e.g. "ingresses".
        namespaced: whether objects live in namespaces.
    """

    kind: str
    api_version: str
    plural: str
    namespaced: bool = True

    def path(self, namespace: str | None) -> str:
        """The collection URL path, across all namespaces when `namespace` is None."""
        # "/api/v1" for the core group ("" group), "/apis/<group>/<version>" otherwise.
        prefix = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        if self.namespaced and namespace is not None:
            return f"{prefix}/namespaces/{namespace}/{self.plural}"
        return f"{prefix}/{self.plural}"


class HttpError(Exception):
    """The apiserver answered a LIST or WATCH with a status other than 200."""

    def __init__(self, status: int, body: str) -> None:
        super().__init__(f"HTTP {status}: {body[:500]}")
        self.status = status
        self.body = body


class GoneError(Exception):
    """410 Gone: the resourceVersion is too old (compacted); relist.

    "When the requested watch operations fail because the historical version of that
    resource is not available, clients must handle the case by recognizing the status code
    410 Gone, clearing their local cache, performing a new get or list operation, and
    starting the watch from the resourceVersion that was returned." (API concepts)
    """


@attrs.define
class Backoff:
    """Jittered exponential back-off: delays grow from `initial` to `maximum`, then stay.

    Each delay is drawn from [d/2, d] ("equal jitter"), so reconnecting clients spread
    out and a delay is never zero.
    """

    initial: float = 0.5
    maximum: float = 30.0
    attempts: int = 0

    def next_delay(self) -> float:
        """The next delay, in seconds; each call doubles the ceiling."""
        ceiling = min(self.maximum, self.initial * 2.0 ** min(self.attempts, 32))
        self.attempts += 1
        return ceiling / 2 + random.uniform(0, ceiling / 2)

    def reset(self) -> None:
        """Start again from `initial` (after a request succeeded)."""
        self.attempts = 0


class ApiConnection:
    """An authenticated kubernetes_asyncio ApiClient and raw JSON requests through it.

    Args:
        config: a kubeconfig path; a kubernetes_asyncio `Configuration` or `ApiClient`
            (an ApiClient given here is not closed by `close()`); or None: the in-cluster
            service account when `KUBERNETES_SERVICE_HOST` is set, else the default
            kubeconfig (`$KUBECONFIG` or `~/.kube/config`).
        context: the kubeconfig context, when not the current one.
    """

    def __init__(self, config: object, *, context: str | None = None) -> None:
        self._k8s = require_kubernetes_asyncio()
        self._config = config
        self._context = context
        self._api: Any = None
        self._owned = True

    async def open(self) -> None:
        """Load the configuration and create the ApiClient."""
        k8s = self._k8s
        client = k8s.client
        if isinstance(self._config, client.ApiClient):
            self._api, self._owned = self._config, False
            return
        if isinstance(self._config, client.Configuration):
            configuration = self._config
        else:
            configuration = client.Configuration()
            if self._config is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
                k8s.config.load_incluster_config(client_configuration=configuration)
            else:
                path = None
                if self._config is not None:
                    path = os.fspath(cast("str | os.PathLike[str]", self._config))
                await k8s.config.load_kube_config(
                    config_file=path, context=self._context, client_configuration=configuration
                )
        self._api = client.ApiClient(configuration)

    async def close(self) -> None:
        """Close the ApiClient, when this connection created it."""
        api, self._api = self._api, None
        if api is not None and self._owned:
            await api.close()

    async def _get(
        self, path: str, params: Mapping[str, str], timeout: Any
    ) -> Any:  # an aiohttp.ClientResponse
        if self._api is None:
            raise RuntimeError("ApiConnection.open() was not awaited")
        response = await self._api.call_api(
            path,
            "GET",
            query_params=list(params.items()),
            header_params={"Accept": "application/json"},
            auth_settings=["BearerToken"],
            _preload_content=False,
            _request_timeout=timeout,
        )
        if response.status != 200:
            try:
                body = (await response.read()).decode(errors="replace")
            finally:
                response.release()
            if response.status == 410:
                raise GoneError(body[:500])
            raise HttpError(response.status, body)
        return response

    async def request(
        self, method: str, path: str, body: object = None, *, timeout: float = 30.0
    ) -> tuple[int, Any]:
        """One JSON request (GET, POST, PUT...); returns the status and the decoded body.

        Any status is returned, not raised: the caller tells 404 and 409 from success.
        """
        if self._api is None:
            raise RuntimeError("ApiConnection.open() was not awaited")
        aiohttp = importlib.import_module("aiohttp")
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = "application/json"
        response = await self._api.call_api(
            path,
            method,
            header_params=headers,
            body=body,
            auth_settings=["BearerToken"],
            _preload_content=False,
            _request_timeout=aiohttp.ClientTimeout(total=timeout),
        )
        try:
            data = await response.read()
        finally:
            response.release()
        try:
            decoded: Any = json.loads(data) if data else None
        except ValueError:
            decoded = data.decode(errors="replace")
        return int(response.status), decoded

    async def list(
        self, path: str, params: Mapping[str, str], *, timeout: float, page_size: int = 500
    ) -> tuple[list[dict[str, Any]], str]:
        """LIST a collection, page by page; returns the items and the list's resourceVersion.

        Raises:
            GoneError: a continue token expired; the caller lists again from the start.
            HttpError: any other refusal.
        """
        aiohttp = importlib.import_module("aiohttp")
        items: list[dict[str, Any]] = []
        query = {**params, "limit": str(page_size)}
        while True:
            response = await self._get(path, query, aiohttp.ClientTimeout(total=timeout))
            try:
                body = json.loads(await response.read())
            finally:
                response.release()
            items.extend(body.get("items") or ())
            metadata = body.get("metadata") or {}
            token = metadata.get("continue")
            if not token:
                return items, str(metadata.get("resourceVersion", ""))
            query["continue"] = token

    async def watch(
        self, path: str, params: Mapping[str, str], *, connect_timeout: float, read_timeout: float
    ) -> AsyncIterator[dict[str, Any]]:
        """WATCH a collection: yield its events (`{"type": ..., "object": ...}`) as dicts.

        `read_timeout` bounds the silence between two reads, so a connection that died
        without a FIN cannot hang the watch; the server's `timeoutSeconds` (in `params`)
        must be shorter.
        """
        aiohttp = importlib.import_module("aiohttp")
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=connect_timeout,
            sock_connect=connect_timeout,
            sock_read=read_timeout,
        )
        response = await self._get(path, {**params, "watch": "true"}, timeout)
        try:
            buffer = b""
            # Events are newline-delimited JSON. Read chunks and split them here rather than
            # use StreamReader.readline, whose line length is capped below an object's 1.5 MiB.
            async for chunk in response.content.iter_any():
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    if line.strip():
                        yield json.loads(line)
            if buffer.strip():
                yield json.loads(buffer)
        finally:
            response.release()


async def sleep_or_stop(delay: float, stopping: asyncio.Event) -> bool:
    """Sleep `delay` seconds or until `stopping` is set; returns whether it was set."""
    try:
        await asyncio.wait_for(stopping.wait(), delay)
    except asyncio.TimeoutError:
        return False
    return True
