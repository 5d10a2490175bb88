r"""Header bytes through aiohttp unchanged: what the Gateway sends is what it received.

aiohttp reads header fields as bytes (`request.raw_headers`, `response.raw_headers`) but
writes them from `str`: its writer (`aiohttp.http_writer._serialize_headers`, in C or in
Python) encodes every name and value as UTF-8. A value passed on as the str aiohttp decoded
(UTF-8 with surrogateescape) comes out right only when it was valid UTF-8 (the C writer drops
surrogates, so `b"\xff"` is lost); one decoded as latin-1, one character per byte, comes out
UTF-8-encoded a second time (`b"caf\xc3\xa9"` becomes `b"caf\xc3\x83\xc2\xa9"`). No str
value encodes to bytes that are not UTF-8, so the writer itself has to help:

- `latin1_headers` decodes each field as latin-1 (one character per byte, U+0000 to U+00FF);
- inside `exact_header_bytes()`, the header section aiohttp serialises is turned back into
  those bytes (`head.decode("utf-8").encode("latin-1")`) after aiohttp's own checks (its
  refusal of CR, LF and other control characters, the header-injection guard) have run.

The start line is left as aiohttp writes it (the request target and reason phrase are not
header fields). `install()` wraps `aiohttp.http_writer._serialize_headers` once, for the
whole process; the wrapper changes nothing outside `exact_header_bytes()`, a context variable
set only around the Gateway's own upstream requests and client responses, so that other
aiohttp clients and servers in the process write exactly as before. Nothing here is public
API; tests/test_header_hygiene.py checks the bytes on the wire.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Callable, Iterable, Iterator

from multidict import CIMultiDict

__all__ = ["exact_header_bytes", "install", "latin1_fields", "latin1_headers"]

_Serializer = Callable[[str, "CIMultiDict[str]"], bytes]

_EXACT: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "ingresslib.aiohttp.exact_header_bytes", default=False
)
_LOCK = threading.Lock()
_ORIGINAL: _Serializer | None = None


def latin1_headers(fields: Iterable[tuple[bytes, bytes]]) -> CIMultiDict[str]:
    """Header fields as the str aiohttp takes, one character per byte (latin-1)."""
    return CIMultiDict(latin1_fields(fields))


def latin1_fields(fields: Iterable[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """The same as a list of pairs: what `ClientSession.request(headers=...)` takes.

    PERF: aiohttp's client copies the fields into a CIMultiDict of its own, so the request
    side passes pairs and builds no CIMultiDict of ours.
    """
    return [(name.decode("latin-1"), value.decode("latin-1")) for name, value in fields]


def _serialize_headers(status_line: str, headers: CIMultiDict[str]) -> bytes:
    original = _ORIGINAL
    assert original is not None  # set before this wrapper is installed
    head = original(status_line, headers)
    if not _EXACT.get():
        return head
    if head.isascii():
        return head  # PERF: ASCII fields are the same bytes either way (the common case)
    end = head.find(b"\r\n")
    try:
        return head[:end] + head[end:].decode("utf-8").encode("latin-1")
    except UnicodeError:
        # A field that is not one character per byte (not from `latin1_headers`): what
        # aiohttp would write.
        return head


def install() -> None:
    """Wrap aiohttp's header serialiser (once per process; again: nothing more)."""
    global _ORIGINAL  # noqa: PLW0603 (one wrapper for the process)
    if _ORIGINAL is not None:
        return
    from aiohttp import http_writer  # noqa: PLC0415 (an optional extra)

    with _LOCK:
        current = http_writer._serialize_headers
        if current is not _serialize_headers:
            _ORIGINAL = current
            http_writer._serialize_headers = _serialize_headers


@contextlib.contextmanager
def exact_header_bytes() -> Iterator[None]:
    """Within: header sections aiohttp writes in this context are latin-1, byte for byte.

    Around `ClientSession.request` / `ws_connect` (the request is written before they
    return) and `StreamResponse.prepare` (the response head is written there).
    """
    install()
    token = _EXACT.set(True)
    try:
        yield
    finally:
        _EXACT.reset(token)
