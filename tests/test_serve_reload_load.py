"""Hot reload of `ingresslib serve` under load: manifests rewritten while clients keep asking.

A `python -m ingresslib serve` subprocess proxies to two real upstreams on 127.0.0.1 (Services
`one` and `two`, each answering with its name and the request path). Four httpx clients, each
on its own keep-alive connection, send requests without pause while the test rewrites the
manifests (a new file renamed over the old, as editors do): a path moves from one Service to
the other and back, a host is added, then an invalid edit is made. Every response must come
from an upstream (200, never a connection error or a 5xx); each new configuration must be
reached within a bound, and once a request has seen it, no later request sees an older one;
the invalid edit must change nothing and be logged with the file and the field.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest

from tests.serve_process import http_upstream, start_serve
from tests.support import gateway_manifests, write_atomically

CLIENTS = 4
#: A new configuration must be served within this many seconds of the write (the poll
#: interval is 0.2 s, a change must then stay put for 0.1 s, then the rebuild).
RELOAD_BOUND = 3.0
#: Each configuration serves the load for this long, and at least this many requests, before
#: the next edit: about 3 s of load in all.
HOLD = 0.5
REQUESTS_PER_GENERATION = 100

Rules = Mapping[str, Mapping[str, str]]
Target = tuple[str, str]  # (Host, path)


class Sample(NamedTuple):
    started: float
    ended: float
    target: Target
    outcome: str  # "200 one /api/x\n", or "error ..." for a failed request


class Load:
    """`CLIENTS` threads sending GETs to the gateway in turn over `targets`, until stopped."""

    def __init__(self, port: int, targets: list[Target]) -> None:
        self.port = port
        self.targets = targets  # may grow while the load runs
        self.samples: list[Sample] = []
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=self._run, args=(n,), daemon=True) for n in range(CLIENTS)
        ]

    def _run(self, offset: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=5) as client:
            count = offset
            while not self._stop.is_set():
                targets = self.targets
                host, path = targets[count % len(targets)]
                count += 1
                started = time.monotonic()
                try:
                    response = client.get(path, headers={"Host": host})
                    outcome = f"{response.status_code} {response.text}"
                except httpx.HTTPError as error:
                    outcome = f"error {error!r}"
                self.samples.append(Sample(started, time.monotonic(), (host, path), outcome))

    def __enter__(self) -> Load:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(10)
        assert not any(thread.is_alive() for thread in self._threads)

    def wait(self, what: str, condition: Callable[[Sample], bool], timeout: float) -> Sample:
        """The first sample (from the oldest on) for which `condition(sample)` holds."""
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            samples = self.samples[seen:]
            for sample in samples:
                if condition(sample):
                    return sample
            seen += len(samples)
            assert time.monotonic() < deadline, f"gave up waiting for {what}"
            time.sleep(0.01)

    def keep_on(self, seconds: float, count: int, timeout: float = 10.0) -> None:
        """Return after `seconds` once at least `count` more requests have been answered."""
        goal = len(self.samples) + count
        start = time.monotonic()
        while len(self.samples) < goal or time.monotonic() - start < seconds:
            assert time.monotonic() - start < timeout, f"fewer than {count} requests in {timeout} s"
            time.sleep(0.01)


def expected(rules: Rules, target: Target) -> str:
    """What the upstream answers for `target` under `rules` (Prefix paths, longest first)."""
    host, path = target
    paths = rules[host]
    prefix = max((p for p in paths if path == p or path.startswith(p.rstrip("/") + "/")), key=len)
    return f"200 {paths[prefix]} {path}\n"


def showing(rules: Rules, target: Target, after: float) -> Callable[[Sample], bool]:
    """Whether a sample is a request to `target`, started after `after`, routed by `rules`."""
    answer = expected(rules, target)
    return lambda s: s.started > after and s.target == target and s.outcome == answer


@pytest.fixture
def upstreams() -> Iterator[dict[str, int]]:
    servers: dict[str, ThreadingHTTPServer] = {name: http_upstream(name) for name in ("one", "two")}
    yield {name: server.server_address[1] for name, server in servers.items()}
    for server in servers.values():
        server.shutdown()
        server.server_close()


def test_reloads_under_load_lose_no_request(tmp_path: Path, upstreams: dict[str, int]) -> None:
    manifests = tmp_path / "manifests"
    manifests.mkdir()
    routes = manifests / "routes.yaml"
    generations: list[Rules] = [
        {"a.test": {"/": "one", "/api": "one"}},
        {"a.test": {"/": "one", "/api": "two"}},  # /api moves to two
        {"a.test": {"/": "one", "/api": "one"}, "b.test": {"/": "two"}},  # back; a new host
        {"a.test": {"/": "one", "/api": "two"}, "b.test": {"/": "one"}},  # both move
    ]
    routes.write_text(gateway_manifests(generations[0], upstreams))
    gateway = start_serve(manifests, tmp_path / "gateway.log")
    targets: list[Target] = [("a.test", "/api/x"), ("a.test", "/"), ("a.test", "/apix")]
    # For each configuration in turn: (its rules, when a response first showed it, when it was
    # replaced by the next edit).
    periods: list[tuple[Rules, float, float]] = []
    try:
        with Load(gateway.http, targets) as load:
            load.keep_on(HOLD, REQUESTS_PER_GENERATION)
            reached = 0.0
            for number, rules in enumerate(generations[1:], start=2):
                written = time.monotonic()
                periods.append((generations[number - 2], reached, written))
                write_atomically(routes, gateway_manifests(rules, upstreams))
                # The load itself shows the change: a request to the path that moved.
                moved = ("a.test", "/api/x")
                first = load.wait(
                    f"generation {number}", showing(rules, moved, written), RELOAD_BOUND
                )
                reached = first.ended
                assert reached - written < RELOAD_BOUND
                if "b.test" in rules and ("b.test", "/b") not in load.targets:
                    # The new host, in the configuration just seen, joins the load.
                    assert gateway.get("b.test", "/b")[2] == "two /b\n"
                    load.targets = [*targets, ("b.test", "/b")]
                load.keep_on(HOLD, REQUESTS_PER_GENERATION)
            # An invalid edit: a pathType the apiserver refuses. The last good one stays.
            last_good = generations[-1]
            written = time.monotonic()
            periods.append((last_good, reached, float("inf")))
            write_atomically(routes, gateway_manifests(last_good, upstreams, path_type="Bogus"))
            gateway.wait_for(lambda: "reload failed" in gateway.output(), "the failed reload")
            load.keep_on(HOLD, REQUESTS_PER_GENERATION)
        samples = load.samples
    finally:
        status = gateway.stop()
    output = gateway.output()
    assert status == 0, output
    assert "Traceback" not in output, output

    failures = [s for s in samples if not s.outcome.startswith(("200 one ", "200 two "))]
    assert failures == [], failures[:10]
    assert len(samples) >= REQUESTS_PER_GENERATION * (len(generations) + 1)
    # Once a configuration has been seen, every request started later (until the next edit)
    # is routed by it, never by an older one.
    for rules, reached, replaced in periods:
        for sample in samples:
            if reached < sample.started and sample.ended < replaced:
                assert sample.outcome == expected(rules, sample.target), (sample, rules)
    late = [s for s in samples if s.started > written]
    assert late, "no request after the invalid edit"
    assert all(s.outcome == expected(last_good, s.target) for s in late)

    assert output.count("reloaded (generation") == len(generations) - 1, output
    assert f"the last good configuration (generation {len(generations)}) keeps serving" in output, (
        output
    )
    assert str(routes) in output, output
    assert (
        'Ingress test/routes: spec.rules[0].http.paths[0].pathType: Unsupported value: "Bogus"'
        in output
    ), output
    # The gateway logged no failed request either.
    assert not re.search(r'ingresslib\.access: .*" 5\d\d backend=', output), output
