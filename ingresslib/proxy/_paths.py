"""Request path normalisation and request-target splitting (pure: no IO).

`normalize_path` turns the path of a request, as received, into the one path that both the
router and the upstream see: RFC 3986 syntax-based normalisation (§6.2.2) with nginx's
answers where the RFC leaves the server a choice (a `..` above the root, `%00`, a `%` that
begins no escape: 400), duplicate slashes merged (nginx `merge_slashes on`), and an explicit
policy for encoded slashes and backslashes. `split_target` splits an HTTP/1.1
request-target (RFC 9112 §3.2) into authority, path and query.

Strings here are "byte strings" decoded as latin-1: one code point per octet received, so
that a non-ASCII octet passes through unchanged and `str.encode("latin-1")` gives back the
bytes for the wire.
"""

from __future__ import annotations

import re
from typing import Literal

__all__ = [
    "BadRequest",
    "EncodedSlashPolicy",
    "PathPolicy",
    "normalize_path",
    "split_target",
]

#: What an encoded slash or backslash (`%2F`, `%5C`, any case) becomes: `keep` leaves it
#: encoded (data, not a separator), `reject` answers 400, `decode` unescapes it.
EncodedSlashPolicy = Literal["keep", "reject", "decode"]
#: An `EncodedSlashPolicy`, or `raw`: no normalisation at all (wave-1 behaviour).
PathPolicy = Literal["keep", "reject", "decode", "raw"]

_POLICIES = frozenset(("keep", "reject", "decode", "raw"))


class BadRequest(ValueError):  # noqa: N818 -- the name of the answer (400 Bad Request) it stands for
    """A request the caller must answer with 400 (Bad Request).

    Attributes:
        reason: A short description of what is wrong, such as "invalid percent-encoding"
            or "path above the root"; safe to log (it never quotes the request).
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# RFC 3986 §2.3: "unreserved  = ALPHA / DIGIT / "-" / "." / "_" / "~"" -- "For consistency,
# percent-encoded octets in the ranges of ALPHA (%41-%5A and %61-%7A), DIGIT (%30-%39),
# hyphen (%2D), period (%2E), underscore (%5F), or tilde (%7E) should not be created by URI
# producers and, when found in a URI, should be decoded to their corresponding unreserved
# characters by URI normalizers."
_UNRESERVED = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".encode("ascii")
)


def _escape_table() -> dict[str, str]:
    """The two hex digits of every escape, in every case, and what the escape becomes.

    RFC 3986 §6.2.2.2: "These URIs should be normalized by decoding any percent-encoded
    octet that corresponds to an unreserved character, as described in Section 2.3." The
    others stay encoded with upper-case digits, §6.2.2.1: "the hexadecimal digits within a
    percent-encoding triplet (e.g., "%3a" versus "%3A") are case-insensitive and therefore
    should be normalized to use uppercase letters for the digits A-F." `%00` is left out:
    looking it up fails like a malformed escape, and the caller tells the two apart.
    """
    table: dict[str, str] = {}
    for octet in range(1, 256):
        upper = f"{octet:02X}"
        canonical = chr(octet) if octet in _UNRESERVED else "%" + upper
        for high in {upper[0], upper[0].lower()}:
            for low in {upper[1], upper[1].lower()}:
                table[high + low] = canonical
    return table


_ESCAPES = _escape_table()

# Candidates for a dot segment ("." or "..") joined to an encoded slash or backslash: dots
# that end where a piece ends. `_dot_beside_encoded_separator` checks where they begin.
# PERF: a pattern that begins with a literal lets the regex engine skip to each ".".
_DOTS = re.compile(r"\.\.?(?=%2F|%5C|/|\Z)")
_ENCODED_SEPARATORS = ("%2F", "%5C")


def normalize_path(path: str, policy: PathPolicy = "keep") -> str:
    r"""Normalise a request path, as received, into the path to route and forward.

    Under every policy but `raw`, in this order:

    1. Percent-encoding (RFC 3986 §2.3, §6.2.2.1, §6.2.2.2): an escape of an unreserved
       character (ALPHA / DIGIT / "-" / "." / "_" / "~") is decoded; every other escape
       keeps its octet encoded, with upper-case hex digits (`%2f` -> `%2F`). A `%` that is
       not followed by two hex digits, and `%00`, raise `BadRequest` (nginx answers both
       with 400).
    2. Encoded slash and backslash (`%2F`, `%5C`): a dot segment joined to one
       (`..%2F`, `%2F..`, `.%5C`) raises `BadRequest` under every policy, since a backend
       that decodes it would resolve it outside the prefix that was matched. Then `keep`
       leaves them encoded (data inside a segment), `reject` raises `BadRequest`, and
       `decode` unescapes them: `/` becomes a separator, `\` a literal character (nginx
       on Linux does not treat `\` as a separator, nor do we).
    3. Duplicate slashes are merged (nginx `merge_slashes on`), then dot segments are
       removed (RFC 3986 §5.2.4 `remove_dot_segments`); a `..` that would climb above the
       root raises `BadRequest`, as nginx answers it (RFC 3986 would drop it). A trailing
       slash is kept, and a final `.` or `..` segment leaves one: `/a/.` -> `/a/`,
       `/a/b/..` -> `/a/`.

    Any other character, a non-ASCII octet included, passes unchanged: the request-line
    grammar (RFC 9112 §3) is the HTTP parser's to enforce. The path must not carry the
    query (`split_target` removes it).

    Args:
        path: The path as received: percent-encoded, one code point per octet (latin-1),
            without the query. It must start with `/`, or be `*` (asterisk-form).
        policy: What to do with encoded slashes and backslashes; `raw` returns `path`
            unchanged, without any check (wave-1 behaviour).

    Returns:
        The normalised path, a string of latin-1 code points; `path` itself when it needs
        no change.

    Raises:
        BadRequest: The request must be answered with 400; `reason` says why.
        ValueError: `policy` is not one of the four policies (checked only for a path that
            needs work; a type checker catches it everywhere).
    """
    # PERF: most paths have nothing to normalise. Four substring scans (C memchr/fastsearch)
    # and a one-character comparison find them: without "%" nothing is encoded, without
    # "//" nothing merges, and a dot segment needs "/." (so "/.well-known" takes the slow
    # path and comes back unchanged). timeit, CPython 3.11 on a shared 2-vCPU Xeon (an empty
    # call ~30 ns): ~150 ns a call for "/api/v1/orders/123", against 0.9-1.9 us for a path
    # with escapes, dot segments or "//".
    if (
        path[:1] == "/"
        and "%" not in path
        and "//" not in path
        and "/." not in path
        and "\x00" not in path
    ):
        return path
    if policy == "raw":
        return path
    if policy not in _POLICIES:
        raise ValueError(f"unknown path policy {policy!r}; expected one of {sorted(_POLICIES)}")
    if path[:1] != "/":
        if path == "*":  # RFC 9112 §3.2.4: asterisk-form = "*" (server-wide OPTIONS)
            return path
        raise BadRequest("path does not start with /")
    if "\x00" in path:
        # nginx refuses a NUL octet in the request line ("ch < 0x20": 400) as it refuses
        # %00; a C backend would read the path as ending there.
        raise BadRequest("NUL byte in path")
    if "%" in path:
        path = _decode_escapes(path)
        if "%2F" in path or "%5C" in path:
            path = _encoded_separators(path, policy)
    if "//" in path or "/." in path:
        path = _merge_and_remove_dot_segments(path)
    return path


def _decode_escapes(path: str) -> str:
    r"""Decode the escapes of unreserved characters; upper-case the others (RFC 3986 §6.2.2).

    nginx, `ngx_http_parse_complex_uri` (src/http/ngx_http_parse.c), answers 400 for a "%"
    that two hex digits do not follow (`sw_quoted`/`sw_quoted_second`:
    `return NGX_HTTP_PARSE_INVALID_REQUEST;`) and for `%00` (`} else if (ch == '\0') {
    return NGX_HTTP_PARSE_INVALID_REQUEST;`).
    """
    parts = path.split("%")
    out = [parts[0]]
    escapes = _ESCAPES
    for part in parts[1:]:
        canonical = escapes.get(part[:2])
        if canonical is None:
            if part[:2] == "00":
                raise BadRequest("NUL byte in path")
            raise BadRequest("invalid percent-encoding")
        out.append(canonical)
        out.append(part[2:])
    return "".join(out)


def _dot_beside_encoded_separator(path: str) -> str | None:
    """The encoded separator ("%2F" or "%5C") joined to a dot segment of `path`, if any.

    The escapes of `path` are canonical (every "%" left begins an upper-case escape that
    is not of an unreserved character), so "%2F" and "%5C" can only be escapes. A piece is
    what lies between two separators, real ("/") or encoded; a dot piece joined to an
    encoded separator on either side is what a decoding backend would resolve.
    """
    for dots in _DOTS.finditer(path):
        start, end = dots.span()
        before = path[start - 3 : start] if start >= 3 else ""
        if before not in _ENCODED_SEPARATORS and path[start - 1] != "/":
            continue  # "x..": part of a longer piece, not a dot segment
        after = path[end : end + 3]
        if after in _ENCODED_SEPARATORS:
            return after
        if before in _ENCODED_SEPARATORS:
            return before
    return None


def _encoded_separators(path: str, policy: str) -> str:
    """Apply the encoded-slash policy to a path whose escapes are canonical."""
    joined = _dot_beside_encoded_separator(path)
    if joined is not None:
        # DESIGN (not nginx): nginx decodes `%2F` into a separator before it removes dot
        # segments, so `/public/..%2Finternal` is `/internal` there; here it is a 400,
        # under every policy, because a backend that decodes `..%2F` itself would step out
        # of the prefix the router matched.
        kind = "slash" if joined == "%2F" else "backslash"
        raise BadRequest(f"dot segment joined to an encoded {kind}")
    if policy == "reject":
        raise BadRequest("encoded slash or backslash")
    if policy == "decode":
        # nginx decodes `%2F` into "/" (a separator: the decoded octet is handled in the
        # state the "%" was met in) and `%5C` into "\\" (a backslash), a separator only on
        # Windows (`#if (NGX_WIN32) case '\\':`); on Linux it is an ordinary character.
        return path.replace("%2F", "/").replace("%5C", "\\")
    return path


def _merge_and_remove_dot_segments(path: str) -> str:
    """Merge duplicate slashes, then remove dot segments (RFC 3986 §5.2.4).

    §5.2.4 `remove_dot_segments` with two segment stacks, as the RFC allows ("Some
    applications may find it more efficient to implement the remove_dot_segments algorithm
    by using two segment stacks rather than strings"): "." is dropped (step 2B); ".."
    drops the last output segment (step 2C); an empty segment is dropped (slashes merged
    first, as nginx's `sw_slash` state does with `merge_slashes on`, so `/a//..` is `/`).

    Where the RFC drops a ".." above the root ("../../../g" = "http://a/g", §5.4.2), nginx
    answers 400 (`u -= 4; for ( ;; ) { if (u < r->uri.data) { return
    NGX_HTTP_PARSE_INVALID_REQUEST; }`), and so do we: such a request is an attack.
    """
    segments = path.split("/")
    out: list[str] = []
    for segment in segments[1:]:
        if segment == "..":
            if not out:
                raise BadRequest("path above the root")
            out.pop()
        elif segment and segment != ".":
            out.append(segment)
    last = segments[-1]
    # A path ending in "/", "/." or "/.." ends in "/" (step 2B/2C replace the prefix with
    # "/"): "/a/b/.." -> "/a/".
    if out and (not last or last in {".", ".."}):
        return "/" + "/".join(out) + "/"
    return "/" + "/".join(out)


_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.\-]*):")


def split_target(target: str) -> tuple[str | None, str, str]:
    """Split an HTTP/1.1 request-target into (authority, path, query).

    RFC 9112 §3.2: "request-target = origin-form / absolute-form / authority-form /
    asterisk-form". Accepted:

    - origin-form, §3.2.1 "origin-form = absolute-path [ "?" query ]": `/a?b` ->
      `(None, "/a", "b")`;
    - absolute-form, §3.2.2 "absolute-form = absolute-URI", with the scheme `http` or
      `https` (case-insensitive, RFC 3986 §3.1): `http://Other.Host:8080/x?q` ->
      `("Other.Host:8080", "/x", "q")`. "When an origin server receives a request with an
      absolute-form of request-target, the origin server MUST ignore the received Host
      header field (if any) and instead use the host information of the request-target":
      the authority is returned as received, for `validate_host`. An empty path is "/"
      (RFC 3986 §6.2.3: "a URI that uses the generic syntax for authority with an empty
      path should be normalized to a path of "/"");
    - asterisk-form, §3.2.4 "asterisk-form = "*"": `(None, "*", "")`.

    The path and query are returned as received (still percent-encoded), and so is the
    authority (case and port kept): `validate_host` checks and normalises it.

    Args:
        target: The request-target from the request line, latin-1 decoded.

    Returns:
        The authority of an absolute-form target (None otherwise), the path, and the query
        without its "?" ("" when there is none).

    Raises:
        BadRequest: Another scheme; userinfo in the authority (RFC 9110 §4.2.4: "A sender
            MUST NOT generate the userinfo subcomponent (and its "@" delimiter) when an
            "http" or "https" URI reference is generated within a message as a target URI
            or field value", and "a recipient SHOULD parse for userinfo and treat its
            presence as an error"; nginx answers 400); an empty host (RFC 9110 §4.2.1:
            "A recipient that processes such a URI reference MUST reject it as invalid");
            a fragment ("#": no form of request-target has one, and nginx would cut the
            path there while a backend might not); authority-form or anything else. The
            rest of the authority's syntax is `validate_host`'s (nginx validates the
            request-line host with the same function).
    """
    # PERF: origin-form is nearly every request: one comparison and two C-level scans.
    if target[:1] == "/":
        if "#" in target:
            raise BadRequest("fragment in the request-target")
        path, _, query = target.partition("?")
        return None, path, query
    if target == "*":
        return None, "*", ""
    scheme = _SCHEME.match(target)
    if scheme is None:
        # authority-form (RFC 9112 §3.2.3) is CONNECT's, which a gateway does not serve.
        raise BadRequest("invalid request-target")
    if scheme.group(1).lower() not in ("http", "https"):
        # DESIGN (not nginx): nginx 1.22 does not look at the scheme (`ftp://h/x` is
        # served as `/x` of host h).
        raise BadRequest("unsupported scheme")
    rest = target[scheme.end() :]
    if rest[:2] != "//":
        # RFC 9110 §4.2.1: "A sender MUST NOT generate an "http" URI with an empty host
        # identifier"; http(s) URIs always have an authority ("//").
        raise BadRequest("absolute-form target without an authority")
    if "#" in rest:
        raise BadRequest("fragment in the request-target")
    rest = rest[2:]
    # RFC 3986 §3.2: "The authority component is preceded by a double slash ("//") and is
    # terminated by the next slash ("/"), question mark ("?"), or number sign ("#")
    # character, or by the end of the URI."
    end = len(rest)
    for delimiter in "/?":
        found = rest.find(delimiter, 0, end)
        if found >= 0:
            end = found
    authority, rest = rest[:end], rest[end:]
    if "@" in authority:
        raise BadRequest("userinfo in the authority")
    if not authority or authority[0] == ":":
        raise BadRequest("empty host in the authority")
    path, _, query = rest.partition("?")
    return authority, path or "/", query
