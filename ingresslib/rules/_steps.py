"""Filters with code of their own: `Step`s (run by `decide()`) and `Policy`s (by executors).

The built-in filters (`ingresslib.rules._filters`) are data that `decide()` interprets. A
front-end plugin (an ingress-nginx annotation, a third party's filter) may need a rule that
the core does not know; it then gives a `Step` — a pure function of the request that may
answer it (403, 401, a redirect), edit what is forwarded (path, Host, headers) or choose the
backends — or a `Policy`, which `decide()` does not interpret and passes on in
`Decision.policies` for the executor to run (a rate limit, an external-auth sub-request: IO
or state across requests).

An executor that meets a `Policy` it does not know serves the request anyway unless the
policy `restricts_access`: then it answers 503, as ingress-nginx does for a location whose
configuration it cannot apply ("location denied"). A restriction is never silently dropped.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar, Protocol

import attrs

from ingresslib.rules._filters import HeaderChanges
from ingresslib.rules._weighted import WeightedBackend

__all__ = ["Answer", "HeaderReader", "Policy", "Step", "StepState"]


class HeaderReader(Protocol):
    """The request's header fields as conditions read them (`ingresslib.routing`)."""

    def header(self, name: str) -> str | None:
        """The combined value of a field (`name` lower case), or None."""
        ...

    def query_param(self, name: str) -> str | None:
        """The first value of a query parameter, percent-decoded, or None."""
        ...


@attrs.frozen
class Answer:
    """What a `Step` answers instead of forwarding the request.

    Attributes:
        status: the status (a 3xx with a `location` is a redirect).
        location: the absolute (or, as the step wants it, relative) Location of a redirect.
        headers: response header fields to send with it.
        reason: why, for logs and the body of a canned response.
    """

    status: int
    location: str | None = None
    headers: tuple[tuple[str, str], ...] = ()
    reason: str = ""


class StepState:
    """The request as a `Step` sees it, and what the steps so far decided.

    A step reads the request through this object and changes the fields it owns:
    `upstream_path`, `authority`, `backends`, and the header edits (with
    `edit_request_headers` / `edit_response_headers`). Reading anything but the scheme,
    port, host and path (`header()`, `query_param()`, `client`, `method`) makes the decision
    specific to this request, so those accessors clear `reusable` by themselves.

    Attributes:
        scheme: "http" or "https".
        host: the validated, normalised host ("" when none was sent).
        port: the port the request arrived on (None: the scheme's).
        path: the normalised request path the rule matched.
        query: the raw query string.
        matched: the path the rule wrote (a prefix, an exact path or a pattern), or None.
        upstream_path: the path to forward (a rewrite changes it).
        authority: the Host to send upstream instead of the client's, or None.
        backends: the rule's weighted backends (a step may choose among them).
        request_changes: the edits of the request headers so far, or None.
        response_changes: the edits of the response headers so far, or None.
        reusable: whether the decision so far depends only on scheme, port, host, path.
    """

    __slots__ = (
        "_client",
        "_method",
        "_sni",
        "_view",
        "authority",
        "backends",
        "host",
        "matched",
        "path",
        "port",
        "query",
        "request_changes",
        "response_changes",
        "reusable",
        "scheme",
        "upstream_path",
    )

    def __init__(
        self,
        *,
        method: str,
        scheme: str,
        host: str,
        port: int | None,
        path: str,
        query: str,
        client: str | None,
        sni: str | None,
        view: HeaderReader,
        matched: str | None,
        upstream_path: str,
        authority: str | None,
        backends: tuple[WeightedBackend, ...],
        request_changes: HeaderChanges | None,
        response_changes: HeaderChanges | None,
        reusable: bool,
    ) -> None:
        self._method = method
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query = query
        self._client = client
        self._sni = sni
        self._view = view
        self.matched = matched
        self.upstream_path = upstream_path
        self.authority = authority
        self.backends = backends
        self.request_changes = request_changes
        self.response_changes = response_changes
        self.reusable = reusable

    @property
    def method(self) -> str:
        """The request method (reading it makes the decision this request's)."""
        self.reusable = False
        return self._method

    @property
    def client(self) -> str | None:
        """The client address (reading it makes the decision this request's)."""
        self.reusable = False
        return self._client

    @property
    def sni(self) -> str | None:
        """The TLS server name, for https."""
        self.reusable = False
        return self._sni

    def header(self, name: str) -> str | None:
        """The combined value of a request header field (`name` lower case), or None."""
        self.reusable = False
        return self._view.header(name)

    def query_param(self, name: str) -> str | None:
        """The first value of a query parameter, percent-decoded, or None."""
        self.reusable = False
        return self._view.query_param(name)

    def edit_request_headers(self, changes: HeaderChanges) -> None:
        """Add edits of the request headers sent upstream (after the earlier ones)."""
        known = self.request_changes
        self.request_changes = changes if known is None else known.then(changes)

    def edit_response_headers(self, changes: HeaderChanges) -> None:
        """Add edits of the response headers sent to the client (after the earlier ones)."""
        known = self.response_changes
        self.response_changes = changes if known is None else known.then(changes)

    def set_response_headers(self, fields: Sequence[tuple[str, str]]) -> None:
        """Set response header fields (a shorthand for `edit_response_headers`)."""
        self.edit_response_headers(HeaderChanges(set=tuple(fields)))


class Step:
    """A pure filter with its own code, run by `decide()` in the rule's filter order.

    Subclasses are immutable values (attrs frozen classes), compared by value: two rules
    with equal steps behave the same, and implement `run`. PERF: a plain base class, not
    an `abc.ABC`: `decide()` tests every filter with `isinstance(filter, Step)`, which
    ABCMeta makes a Python call.
    """

    __slots__ = ()

    def run(self, state: StepState) -> Answer | None:
        """Apply this step to a request; return an Answer to stop and answer it."""
        raise NotImplementedError(f"{type(self).__name__} does not implement Step.run")


class Policy:
    """A filter executors run (IO, or state across requests); `decide()` passes it on.

    A marker base (executors dispatch on the subclass); plain, not an `abc.ABC`, as
    `Step` is.

    Attributes:
        restricts_access: whether skipping it would let through requests it refuses
            (an executor that cannot run it answers 503 instead).
    """

    __slots__ = ()

    restricts_access: ClassVar[bool] = False
