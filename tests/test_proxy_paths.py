"""Request path normalisation and request-target splitting (ingresslib.proxy._paths).

Hand-written cases (the RFC 3986 §5.4 examples, the attacks the policies exist for), a
plain reference implementation compared with `normalize_path` by Hypothesis for every
policy, properties of the result, and a differential test against a real nginx (Debian's
1.22.1, tests/nginx_fixture.py): nginx 400 <=> our BadRequest under `decode`, and
otherwise nginx's `$uri` is what our path decodes to. Where nginx and DESIGN.md disagree,
DESIGN wins; each such difference is named in `_known_nginx_difference`.
"""

from __future__ import annotations

import re
import string
from urllib.parse import unquote_to_bytes

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from ingresslib.proxy import BadRequest, PathPolicy, normalize_path, split_target
from tests.nginx_fixture import NginxResponse, NginxServer

POLICIES: tuple[PathPolicy, ...] = ("keep", "reject", "decode", "raw")
NORMALISING: tuple[PathPolicy, ...] = ("keep", "reject", "decode")


def outcome(path: str, policy: PathPolicy) -> str:
    """The normalised path, or "400 <reason>"."""
    try:
        return normalize_path(path, policy)
    except BadRequest as error:
        return f"400 {error.reason}"


# --- hand-written cases ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api/v1/orders/123", "/api/v1/orders/123"),
        ("/", "/"),
        ("/public/%61dmin", "/public/admin"),  # an encoded letter must not dodge a rule
        ("/public/..%2Finternal", "400 dot segment joined to an encoded slash"),
        ("/public/admin%00", "400 NUL byte in path"),
        ("/public/admin\x00", "400 NUL byte in path"),
        ("/a/%2e%2e/b", "/b"),
        ("/a/%2E%2e/b", "/b"),
        ("/a/.%2e/b", "/b"),
        ("/a/%2e/b", "/a/b"),
        ("//a///b", "/a/b"),
        ("/%7Euser", "/~user"),
        ("/%7euser", "/~user"),
        ("/a/", "/a/"),  # a trailing slash is kept
        ("/a//", "/a/"),
        ("/a/.", "/a/"),
        ("/a/b/..", "/a/"),
        ("/a/..", "/"),
        ("/a/./", "/a/"),
        ("/a//../b", "/b"),  # slashes merge first (nginx), so ".." drops "a"
        ("/../a", "400 path above the root"),
        ("/..", "400 path above the root"),
        ("/a/../..", "400 path above the root"),
        ("/./..", "400 path above the root"),
        ("/%2e%2e/a", "400 path above the root"),
        ("/.well-known/acme", "/.well-known/acme"),
        ("/a/...", "/a/..."),
        ("/a/..b/b..", "/a/..b/b.."),
        ("/a%20b", "/a%20b"),
        ("/a%3fb%23c%2a%7b", "/a%3Fb%23c%2A%7B"),  # reserved and other escapes: upper-case digits
        ("/caf%c3%a9", "/caf%C3%A9"),
        ("/caf\xe9/\xff", "/caf\xe9/\xff"),  # raw non-ASCII octets pass unchanged
        ("/a\\b", "/a\\b"),  # a raw backslash is an ordinary character (nginx on Linux)
        ("/a%zz", "400 invalid percent-encoding"),
        ("/a%", "400 invalid percent-encoding"),
        ("/a%4", "400 invalid percent-encoding"),
        ("/a%4/", "400 invalid percent-encoding"),
        ("/a%%41", "400 invalid percent-encoding"),
        ("/a%41%", "400 invalid percent-encoding"),
        ("*", "*"),  # asterisk-form (OPTIONS *)
        ("", "400 path does not start with /"),
        ("a/b", "400 path does not start with /"),
        ("**", "400 path does not start with /"),
        ("/a/%2e%2e%5Cb", "400 dot segment joined to an encoded backslash"),
        ("/a/%2F..", "400 dot segment joined to an encoded slash"),
        ("/a/.%2Fb", "400 dot segment joined to an encoded slash"),
        ("/a%2F.", "400 dot segment joined to an encoded slash"),
        ("/a%5C..%5Cb", "400 dot segment joined to an encoded backslash"),
        ("/a%2F..b", "/a%2F..b"),  # "..b" is not a dot segment
    ],
)
def test_normalize_path_keep(path: str, expected: str) -> None:
    assert outcome(path, "keep") == expected


@pytest.mark.parametrize(
    ("path", "keep", "reject", "decode"),
    [
        ("/a%2fb", "/a%2Fb", "400 encoded slash or backslash", "/a/b"),
        ("/a%2Fb", "/a%2Fb", "400 encoded slash or backslash", "/a/b"),
        ("/a%5cb", "/a%5Cb", "400 encoded slash or backslash", "/a\\b"),
        ("/a/%2F/b", "/a/%2F/b", "400 encoded slash or backslash", "/a/b"),
        ("/%2F%2Fa", "/%2F%2Fa", "400 encoded slash or backslash", "/a"),
        ("/a%2F", "/a%2F", "400 encoded slash or backslash", "/a/"),
        ("/a%2f..%2fb", *(["400 dot segment joined to an encoded slash"] * 3)),
        ("/a/b%2F../c", *(["400 dot segment joined to an encoded slash"] * 3)),
        ("/x/%2e%5c", *(["400 dot segment joined to an encoded backslash"] * 3)),
        ("/plain", "/plain", "/plain", "/plain"),
    ],
)
def test_normalize_path_encoded_slash_policies(
    path: str, keep: str, reject: str, decode: str
) -> None:
    assert (outcome(path, "keep"), outcome(path, "reject"), outcome(path, "decode")) == (
        keep,
        reject,
        decode,
    )
    assert outcome(path, "raw") == path


@pytest.mark.parametrize(
    "path", ["/a%2fb", "/../a", "/a%zz", "/a%00", "a", "", "//a/./b", "/public/..%2Finternal"]
)
def test_raw_returns_the_path_as_received(path: str) -> None:
    assert normalize_path(path, "raw") is path


def test_an_unchanged_path_is_returned_itself() -> None:
    path = "/api/v1/orders/123"
    assert normalize_path(path) is path


def test_an_unknown_policy_is_a_value_error_not_a_bad_request() -> None:
    with pytest.raises(ValueError, match="unknown path policy") as raised:
        normalize_path("/a/../b", "Keep")  # type: ignore[arg-type]
    assert not isinstance(raised.value, BadRequest)


def test_bad_request_is_a_value_error_with_a_reason() -> None:
    with pytest.raises(BadRequest) as raised:
        normalize_path("/a%00")
    assert isinstance(raised.value, ValueError)
    assert raised.value.reason == "NUL byte in path" == str(raised.value)


# RFC 3986 §5.4: "Within a representation with a well defined base URI of
# http://a/b/c/d;p?q a relative reference is transformed to its target URI as follows."
# The examples with a relative path: the merged path (§5.2.3: the reference "appended to all
# but the last segment of the base URI's path", "/b/c/") is what remove_dot_segments sees.
RFC3986_EXAMPLES = [
    # §5.4.1 Normal Examples
    ("g", "/b/c/g"),
    ("./g", "/b/c/g"),
    ("g/", "/b/c/g/"),
    (";x", "/b/c/;x"),
    ("g;x", "/b/c/g;x"),
    (".", "/b/c/"),
    ("./", "/b/c/"),
    ("..", "/b/"),
    ("../", "/b/"),
    ("../g", "/b/g"),
    ("../..", "/"),
    ("../../", "/"),
    ("../../g", "/g"),
    # §5.4.2 Abnormal Examples
    ("g.", "/b/c/g."),
    (".g", "/b/c/.g"),
    ("g..", "/b/c/g.."),
    ("..g", "/b/c/..g"),
    ("./../g", "/b/g"),
    ("./g/.", "/b/c/g/"),
    ("g/./h", "/b/c/g/h"),
    ("g/../h", "/b/c/h"),
    ("g;x=1/./y", "/b/c/g;x=1/y"),
    ("g;x=1/../y", "/b/c/y"),
]


@pytest.mark.parametrize(("reference", "target_path"), RFC3986_EXAMPLES)
@pytest.mark.parametrize("policy", NORMALISING)
def test_rfc3986_reference_resolution_examples(
    reference: str, target_path: str, policy: PathPolicy
) -> None:
    assert normalize_path("/b/c/" + reference, policy) == target_path


@pytest.mark.parametrize(
    "path",
    [
        "/b/c/../../../g",  # RFC 3986 §5.4.2: "../../../g" = "http://a/g"
        "/b/c/../../../../g",  # "../../../../g" = "http://a/g"
        "/../g",  # "/../g" = "http://a/g"
    ],
)
def test_above_the_root_is_a_bad_request_where_rfc3986_drops_it(path: str) -> None:
    # nginx (ngx_http_parse_complex_uri) answers these with 400; RFC 3986 would resolve them.
    assert outcome(path, "keep") == "400 path above the root"


def test_rfc3986_dot_segments_of_an_absolute_reference() -> None:
    assert normalize_path("/./g") == "/g"  # §5.4.2 "/./g" = "http://a/g"


# --- split_target ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("/a?b", (None, "/a", "b")),
        ("/a", (None, "/a", "")),
        ("/a?", (None, "/a", "")),
        ("/a?b?c/d", (None, "/a", "b?c/d")),
        ("/%2e%2e?x", (None, "/%2e%2e", "x")),  # split only: nothing is normalised here
        ("*", (None, "*", "")),
        ("http://Other.Host:8080/x?q", ("Other.Host:8080", "/x", "q")),
        ("http://other.host/x", ("other.host", "/x", "")),
        ("HTTP://h/x", ("h", "/x", "")),
        ("hTTpS://h/x", ("h", "/x", "")),
        ("http://h", ("h", "/", "")),
        ("http://h?x=1", ("h", "/", "x=1")),
        ("http://h:/x", ("h:", "/x", "")),
        ("http://[::1]:8080/x", ("[::1]:8080", "/x", "")),
        ("http://a_b~c/x", ("a_b~c", "/x", "")),  # RFC 3986 reg-name (nginx refuses "_")
        ("http://h.example./x", ("h.example.", "/x", "")),  # validate_host drops the dot
        ("http://h:abc/x", ("h:abc", "/x", "")),  # validate_host refuses the port
        ("http://h/x/../y", ("h", "/x/../y", "")),
    ],
)
def test_split_target(target: str, expected: tuple[str | None, str, str]) -> None:
    assert split_target(target) == expected


@pytest.mark.parametrize(
    ("target", "reason"),
    [
        ("http://user@h/x", "userinfo in the authority"),
        ("http://user:pw@h/x", "userinfo in the authority"),
        ("http://@h/x", "userinfo in the authority"),
        ("ftp://h/x", "unsupported scheme"),
        ("ws://h/x", "unsupported scheme"),
        ("http:/x", "absolute-form target without an authority"),
        ("http:x", "absolute-form target without an authority"),
        ("http:///x", "empty host in the authority"),
        ("http://:80/x", "empty host in the authority"),
        ("http://h/x#f", "fragment in the request-target"),
        ("/x#f", "fragment in the request-target"),
        ("example.com:443", "unsupported scheme"),  # authority-form: a CONNECT's
        ("", "invalid request-target"),
        ("x", "invalid request-target"),
        ("1http://h/", "invalid request-target"),
    ],
)
def test_split_target_refuses(target: str, reason: str) -> None:
    with pytest.raises(BadRequest) as raised:
        split_target(target)
    assert raised.value.reason == reason


# --- a plain reference implementation ----------------------------------------------------

UNRESERVED = frozenset(string.ascii_letters + string.digits + "-._~")
HEXDIG = frozenset(string.hexdigits)


def reference_normalize(path: str, policy: PathPolicy) -> str:
    """The semantics of DESIGN.md, spelled out step by step on lists (slow, plain)."""
    if policy == "raw":
        return path
    if path == "*":
        return path
    if not path.startswith("/"):
        raise BadRequest("path does not start with /")
    if "\x00" in path:
        raise BadRequest("NUL byte in path")
    tokens = _tokens(path)
    _refuse_dot_pieces(tokens)
    if policy == "reject" and any(kind == "encoded" for kind, _ in tokens):
        raise BadRequest("encoded slash or backslash")
    # The string again; `decode` turns %2F into a separator and %5C into a backslash.
    text = ""
    for kind, value in tokens:
        if kind == "encoded" and policy == "decode":
            text += "/" if value == "%2F" else "\\"
        else:
            text += value
    # Merge slashes, then RFC 3986 §5.2.4 remove_dot_segments, literally (string buffers),
    # except that a ".." with nothing left to remove is a 400 (nginx).
    return _remove_dot_segments(re.sub("/+", "/", text))


def _tokens(path: str) -> list[tuple[str, str]]:
    """Left to right: a character ("char"), a separator ("/"), or an "encoded" separator."""
    tokens: list[tuple[str, str]] = []
    i = 0
    while i < len(path):
        char = path[i]
        if char != "%":
            tokens.append(("/" if char == "/" else "char", char))
            i += 1
            continue
        digits = path[i + 1 : i + 3]
        if len(digits) != 2 or not set(digits) <= HEXDIG:
            raise BadRequest("invalid percent-encoding")
        octet = int(digits, 16)
        if octet == 0:
            raise BadRequest("NUL byte in path")
        if chr(octet) in UNRESERVED:
            tokens.append(("char", chr(octet)))  # RFC 3986 §2.3, §6.2.2.2
        elif chr(octet) in "/\\":
            tokens.append(("encoded", "%" + digits.upper()))
        else:
            tokens.append(("char", "%" + digits.upper()))  # §6.2.2.1
        i += 3
    return tokens


def _refuse_dot_pieces(tokens: list[tuple[str, str]]) -> None:
    """A "." or ".." piece with an encoded separator beside it, within a segment: 400."""
    segments: list[list[tuple[str, str]]] = [[]]
    for token in tokens:
        if token[0] == "/":
            segments.append([])
        else:
            segments[-1].append(token)
    for segment in segments:
        pieces: list[str] = [""]
        separators: list[str] = []
        for kind, text in segment:
            if kind == "encoded":
                separators.append(text)
                pieces.append("")
            else:
                pieces[-1] += text
        for index, piece in enumerate(pieces):
            if piece not in (".", ".."):
                continue
            before = separators[index - 1] if index > 0 else None
            after = separators[index] if index < len(separators) else None
            joined = after or before
            if joined is not None:
                kind = "slash" if joined == "%2F" else "backslash"
                raise BadRequest(f"dot segment joined to an encoded {kind}")


def _remove_dot_segments(path: str) -> str:
    inp, out = path, ""
    while inp:
        if inp.startswith(("../", "./")):  # A
            inp = inp[3:] if inp.startswith("../") else inp[2:]
        elif inp.startswith("/./") or inp == "/.":  # B
            inp = "/" + inp[3:] if inp.startswith("/./") else "/"
        elif inp.startswith("/../") or inp == "/..":  # C
            inp = "/" + inp[4:] if inp.startswith("/../") else "/"
            if not out:
                raise BadRequest("path above the root")
            out = out[: out.rfind("/")]
        elif inp in (".", ".."):  # D
            inp = ""
        else:  # E
            end = inp.find("/", 1)
            end = len(inp) if end < 0 else end
            out, inp = out + inp[:end], inp[end:]
    return out


# Pieces of paths, rich in what normalisation is about; the ones that make a path a 400
# whatever else it holds are fewer, so that most paths get to the later steps.
STRUCTURE = ["/", "//", ".", "..", "%2e", "%2E", "/..", "/."]
ENCODED = ["%2f", "%2F", "%5c", "%5C", "%41", "%7e", "%7E", "%20", "%25", "%3f", "%c3%a9"]
CHARACTERS = ["a", "b", "Z", "~", "-", "_", ";", "\\", "\xe9", "\xff"]
JUNK = ["%00", "%zz", "%", "%4"]
TOKENS = STRUCTURE * 4 + ENCODED * 2 + CHARACTERS * 2 + JUNK
# Every token can be sent in a request line; `any_paths` adds what cannot (and what
# split_target removes or refuses: "?", "#").
paths = st.lists(st.sampled_from(TOKENS), max_size=14).map(lambda tokens: "/" + "".join(tokens))
any_paths = st.one_of(
    paths,
    st.lists(st.sampled_from([*TOKENS, "*", "?", "#", "\x00", "\x01", " "]), max_size=10).map(
        "".join
    ),
)
PROPERTY_SETTINGS = settings(
    max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@PROPERTY_SETTINGS
@given(path=any_paths, policy=st.sampled_from(POLICIES))
@example(path="/a/%2e%2e%5Cb", policy="keep")
@example(path="/public/..%2Finternal", policy="decode")
@example(path="/.%2F", policy="keep")
@example(path="/a%2F..%2F..", policy="keep")
@example(path="/...%2F", policy="keep")
def test_normalize_path_agrees_with_the_reference(path: str, policy: PathPolicy) -> None:
    try:
        expected = reference_normalize(path, policy)
    except BadRequest as error:
        expected = f"400 {error.reason}"
    assert outcome(path, policy) == expected


ESCAPE = re.compile(r"%(..)")


@PROPERTY_SETTINGS
@given(path=any_paths, policy=st.sampled_from(NORMALISING))
def test_normalised_paths_are_in_normal_form(path: str, policy: PathPolicy) -> None:
    try:
        result = normalize_path(path, policy)
    except BadRequest:
        return
    assert normalize_path(result, policy) == result  # idempotent
    if result == "*":
        return
    assert result.startswith("/")
    assert "//" not in result
    assert not {".", ".."} & set(result.split("/"))
    for digits in ESCAPE.findall(result):
        assert digits == digits.upper()
        assert chr(int(digits, 16)) not in UNRESERVED, result
    if policy != "keep":
        assert "%2F" not in result
        assert "%5C" not in result


ENCODED_SEPARATOR = re.compile("%(?:2f|5c)", re.IGNORECASE)


def drops_an_encoded_separator(path: str, kept: str) -> bool:
    """Whether `keep` removed a segment holding %2F or %5C (a ".." after it).

    Under `keep` such a segment is one segment (`/a%2Fb/..` is `/`); decoded, it is two
    (`/a/b/..` is `/a/`): the two policies then name different paths, by design.
    """
    return len(ENCODED_SEPARATOR.findall(kept)) != len(ENCODED_SEPARATOR.findall(path))


@PROPERTY_SETTINGS
@given(path=paths)
@example(path="/a%2Fb/..")  # keep: "/"; decode: "/a/"
@example(path="/a%2Fb/../..")  # keep: above the root; decode: "/"
@example(path="/%2f/..")  # keep: "/"; decode: "/.." above the root
def test_keep_and_decode_name_the_same_octets(path: str) -> None:
    """Decoding `keep` (and merging what %2F became) gives what `decode` decodes to.

    Unless a ".." removed a segment holding an encoded separator, and but for "path above
    the root", which depends on how many segments there are; every other 400 is the same
    under both policies.
    """
    kept, decoded = outcome(path, "keep"), outcome(path, "decode")
    above = "400 path above the root"
    if kept.startswith("400 ") or decoded.startswith("400 "):
        assert kept == decoded or above in (kept, decoded), (kept, decoded)
        return
    if not drops_an_encoded_separator(path, kept):
        assert _merge_slashes(octets(kept)) == octets(decoded)


def octets(path: str) -> bytes:
    """The octets a path names: escapes decoded, other code points are latin-1 octets."""
    return unquote_to_bytes(path.encode("latin-1"))


def _merge_slashes(path: bytes) -> bytes:
    return re.sub(b"/+", b"/", path)


# --- against a real nginx ----------------------------------------------------------------

HAND_CORPUS = [
    "/api/v1/orders/123",
    "/public/admin",
    "/public/%61dmin",
    "/public/%2e/admin",
    "/public//admin",
    "/public/x/../admin",
    "/public/..%2Finternal",
    "/public/admin%00",
    "/a/%2e%2e/b",
    "//a///b",
    "/%7Euser",
    "/a%2fb",
    "/a%5cb",
    "/a/%2F/b",
    "/a/%2F..",
    "/a/%2e%2e%5Cb",
    "/a/.",
    "/a/b/..",
    "/../a",
    "/a/../..",
    "/a%zz",
    "/a%",
    "/a%4",
    "/a%20b",
    "/a%3Fb",
    "/a%23b",
    "/a%25",
    "/caf%C3%A9",
    "/caf\xe9",
    "/a\\b",
    "/.well-known/acme",
    "/a/...",
    '/a"b<c>|{}^`',
    *["/b/c/" + reference for reference, _ in RFC3986_EXAMPLES],
    "/b/c/../../../g",
]


def _known_nginx_difference(path: str) -> str | None:
    """Why nginx may answer `path` differently from our `decode` policy (DESIGN wins)."""
    try:
        normalize_path(path, "decode")
    except BadRequest as error:
        if error.reason.startswith("dot segment joined to an encoded"):
            # nginx decodes %2F into a separator before it resolves dot segments
            # (`/public/..%2Finternal` is `/internal` there) and keeps %5C as a literal
            # backslash (`/a/..\b`); DESIGN refuses both, since a backend that decodes
            # them itself would resolve them outside the prefix the router matched.
            return error.reason
    return None


def check_against_nginx(nginx: NginxServer, path: str) -> None:
    response = nginx.get(path.encode("latin-1"))
    assert response.status in (200, 400), response
    difference = _known_nginx_difference(path)
    if difference is not None:
        assert outcome(path, "decode") == f"400 {difference}"
        return
    decoded = outcome(path, "decode")
    if response.status == 400:
        assert decoded.startswith("400 "), (path, decoded)
        return
    assert not decoded.startswith("400 "), (path, decoded, response)
    # nginx's $uri is fully decoded: what our `decode` path decodes to.
    assert response.uri == octets(decoded), (path, decoded, response)
    kept = outcome(path, "keep")
    if kept.startswith("400 ") or drops_an_encoded_separator(path, kept):
        # `keep`: %2F is data inside a segment, which a ".." removes whole (see
        # test_keep_and_decode_name_the_same_octets); nginx decodes it into a separator.
        return
    # nginx also merges the slashes that decoding %2F creates ("/a/%2F/b" is "/a/b"); `keep`
    # leaves %2F encoded, so its decoding is compared with merged slashes.
    assert response.uri == _merge_slashes(octets(kept)), (path, kept, response)
    assert response.location == _nginx_location(octets(kept)), response


def _nginx_location(uri: bytes) -> str:
    """The location nginx's configuration picks for `uri` (exact, then longest prefix)."""
    uri = _merge_slashes(uri)
    if uri == b"/public/admin":
        return "= /public/admin"
    return "/public/" if uri.startswith(b"/public/") else "/"


@pytest.mark.parametrize("path", HAND_CORPUS)
def test_paths_against_nginx(nginx: NginxServer, path: str) -> None:
    check_against_nginx(nginx, path)


# Paths a request line can carry to nginx: no space, no control character, no "?" or "#".
nginx_paths = st.lists(
    st.sampled_from([*TOKENS, "public", "admin", "%61dmin", "/public/", "/public/"]),
    max_size=12,
).map(lambda tokens: "/" + "".join(tokens))


@settings(max_examples=200, deadline=None, derandomize=True)
@given(path=nginx_paths)
def test_generated_paths_against_nginx(nginx: NginxServer, path: str) -> None:
    check_against_nginx(nginx, path)


def test_nginx_differences_are_the_documented_ones(nginx: NginxServer) -> None:
    """The two kinds of DESIGN-over-nginx answers, shown on nginx itself."""
    joined = nginx.get(b"/public/..%2Finternal")
    assert (joined.status, joined.uri) == (200, b"/internal")
    backslash = nginx.get(b"/a/%2e%2e%5Cb")
    assert (backslash.status, backslash.uri) == (200, b"/a/..\\b")
    assert outcome("/public/..%2Finternal", "decode").startswith("400 ")
    assert outcome("/a/%2e%2e%5Cb", "decode").startswith("400 ")


def test_nginx_response_parsing() -> None:
    assert NginxResponse(200, b"h\nexact").uri == b"/public/admin"
    assert NginxResponse(200, b"h\nprefix /public/x\ny").uri == b"/public/x\ny"
    assert NginxResponse(400, b"<html>").uri is None
