"""Manifest files as the source of `ingresslib serve`: the snapshot of the files, and their changes.

The files are polled (their paths, sizes and mtimes: no extra dependency); a change is
reported once the files have stayed the same for 0.1 s, so that a file caught half-written is
not reported as an invalid configuration. The `Server` rebuilds its snapshot at each change.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, Sequence
from pathlib import Path

import attrs

from ingresslib.endpoints import EndpointIndex
from ingresslib.resources import MANIFEST_SUFFIXES, load_manifests
from ingresslib.server._config import ServeConfig, Snapshot, assemble_snapshot, build_table

__all__ = ["Signature", "build_snapshot", "file_changes", "signature"]

#: The files the manifests come from: (path, mtime in ns, size) each, -1 for a missing one.
Signature = tuple[tuple[str, int, int], ...]


def build_snapshot(config: ServeConfig) -> Snapshot:
    """Load the manifests of `config` and build everything the gateway needs.

    Raises:
        ManifestError: the manifests do not load or validate.
        RouteTableError: the table cannot be built (e.g. an unknown path matcher).
        GatewayNotFoundError: a Gateway to serve is not among the manifests.
    """
    resources = load_manifests(
        list(config.paths),
        namespace=config.namespace,
        unknown_kinds="ignore",
        allow_loopback_endpoints=config.allow_loopback_endpoints,
    )
    table, certificates, notes = build_table(resources, config)
    snapshot = assemble_snapshot(
        resources, table, EndpointIndex.build(resources), certificates=certificates
    )
    return attrs.evolve(snapshot, warnings=(*notes, *snapshot.warnings))


def signature(paths: Sequence[str]) -> Signature:
    """The files the manifests come from, with their mtimes and sizes (-1: missing)."""
    entries: list[tuple[str, int, int]] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            files = sorted(
                p for p in path.rglob("*") if p.suffix in MANIFEST_SUFFIXES and p.is_file()
            )
        else:
            files = [path]
        entries.extend(_stat(file) for file in files)
    return tuple(entries)


def _stat(file: Path) -> tuple[str, int, int]:
    try:
        stat = os.stat(file)
    except OSError:
        return str(file), -1, -1
    return str(file), stat.st_mtime_ns, stat.st_size


async def file_changes(
    paths: Sequence[str], interval: float, last: Signature
) -> AsyncGenerator[Signature, None]:
    """Yield the signature of `paths` each time it changed from `last` and then settled.

    Polls every `interval` seconds; a change is yielded once two looks 0.1 s apart (or
    `interval`, when shorter) agree. Runs until closed or cancelled.
    """
    while True:
        await asyncio.sleep(interval)
        current = await asyncio.to_thread(signature, paths)
        if current == last:
            continue
        while True:
            await asyncio.sleep(min(0.1, interval))
            settled = await asyncio.to_thread(signature, paths)
            if settled == current:
                break
            current = settled
        last = current
        yield current
