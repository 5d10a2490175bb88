"""Host validation (ingresslib.proxy._hosts): nginx's ngx_http_validate_host, ported.

Hand-written cases; line-by-line transcriptions of the C function as nginx has it since
1.29.4 (which `validate_host` must equal) and as Debian 12's nginx 1.22.1 has it (which a
real nginx must equal); agreement with the router's `normalize_host` on every host
`validate_host` accepts; and a differential test against Debian's nginx
(tests/nginx_fixture.py) for Host headers and for the authority of absolute-form
request-targets, where every difference must be one that nginx 1.29.4 made.
"""

from __future__ import annotations

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from ingresslib.proxy import BadRequest, normalize_path, split_target, validate_host
from ingresslib.rules._hosts import normalize_host
from tests import nginx_fixture
from tests.nginx_fixture import NginxServer


def outcome(host: str) -> str:
    try:
        return validate_host(host)
    except BadRequest as error:
        return f"400 {error.reason}"


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("example.com", "example.com"),
        ("Shop.Example.COM", "shop.example.com"),
        ("example.com:8080", "example.com"),
        ("example.com:", "example.com"),  # RFC 3986 "port = *DIGIT": empty is a port
        ("example.com:65535", "example.com"),
        ("example.com:080", "example.com"),
        ("example.com.", "example.com"),
        ("example.com.:443", "example.com"),
        ("[::1]:80", "[::1]"),
        ("[::1]", "[::1]"),
        ("[V1.Fe80::A+b]", "[v1.fe80::a+b]"),  # IPvFuture characters; lower-cased
        ("1.2.3.4:80", "1.2.3.4"),
        ("a_b~c", "a_b~c"),  # unreserved
        ("a!$&'()*+,;=b", "a!$&'()*+,;=b"),  # sub-delims
        ("caf%C3%A9.example", "caf%c3%a9.example"),  # pct-encoded (digits not checked)
        ("a%zz", "a%zz"),
        ("a..example", "400 two dots in a row in the host"),
        ("[a..b]", "400 two dots in a row in the host"),
        ("..", "400 two dots in a row in the host"),
        ("a/b", "400 path separator in the host"),
        ("[::1]/", "400 path separator in the host"),
        ("a b", "400 control character or space in the host"),
        ("a\tb", "400 control character or space in the host"),
        ("a\x00b", "400 control character or space in the host"),
        ("a\x1fb", "400 control character or space in the host"),
        ("a\x7fb", "400 control character or space in the host"),
        ("caf\xe9.example", "400 non-ASCII octet in the host"),
        ("\u212aube.example", "400 non-ASCII octet in the host"),  # KELVIN SIGN
        ('a"b', "400 invalid character in the host"),
        ("a\\b", "400 invalid character in the host"),
        ("user@host", "400 invalid character in the host"),
        ("a{b}", "400 invalid character in the host"),
        ("a[b]", "400 invalid character in the host"),
        ("]a", "400 invalid character in the host"),
        ("a#b", "400 invalid character in the host"),
        ("[::1", "400 IP literal without its closing bracket"),
        ("[", "400 IP literal without its closing bracket"),
        ("[::1]x", "400 characters after the IP literal"),
        ("[::1].", "400 characters after the IP literal"),
        ("[a%b]", "400 invalid character in the IP literal"),
        ("a:b", "400 invalid port"),
        ("a:b:c", "400 invalid port"),
        ("a.:8.0", "400 invalid port"),
        ("a:65536", "400 port above 65535"),
        ("a:0065536", "400 port above 65535"),
        ("", "400 empty host"),
        (":80", "400 empty host"),
        (".", "400 empty host"),
        (".:80", "400 empty host"),
    ],
)
def test_validate_host(host: str, expected: str) -> None:
    assert outcome(host) == expected


_REG_NAME = frozenset(b"-._~!$&'()*+,;=%")  # besides letters and digits
_IP_LITERAL = frozenset(b":-._~!$&'()*+,;=")


def nginx_validate_host(host: bytes) -> bytes | None:
    """ngx_http_validate_host (src/http/ngx_http_request.c, nginx >= 1.29.4), transcribed.

    Line by line, on octets; `None` for NGX_DECLINED. C's `size_t` arithmetic does not
    matter here: `i - 1` and `host_len - 1` wrap to SIZE_MAX, which `dot_pos` never equals,
    and in Python they are -1, which it never equals either.
    """
    dot_pos = len(host)
    host_len = len(host)
    port = 0
    state = "sw_host_start"
    for i, ch in enumerate(host):
        if state == "sw_host_start":
            if ch == ord("["):
                state = "sw_host_ip_literal"
                continue
            state = "sw_host"  # fall through
        if state in ("sw_host", "sw_host_ip_literal"):
            literal = state == "sw_host_ip_literal"
            if chr(ch).isascii() and chr(ch).isalnum():
                continue
            if ch == ord(":") and not literal:
                host_len = i
                state = "sw_port"
            elif ch == ord("]") and literal:
                host_len = i + 1
                state = "sw_host_end"
            elif ch == ord("."):
                if dot_pos == i - 1:
                    return None
                dot_pos = i
            elif ch not in (_IP_LITERAL if literal else _REG_NAME):
                return None
        elif state == "sw_host_end":
            if ch != ord(":"):
                return None
            state = "sw_port"
        elif state == "sw_port":
            if not ord("0") <= ch <= ord("9"):
                return None
            if port >= 6553 and (port > 6553 or (ch - ord("0")) > 5):
                return None
            port = port * 10 + (ch - ord("0"))
    if state == "sw_host_ip_literal":
        return None
    if dot_pos == host_len - 1:
        host_len -= 1
    if host_len == 0:
        return None
    return _ngx_strlow(host[:host_len])


def nginx_1_22_validate_host(host: bytes) -> bytes | None:
    """ngx_http_validate_host as nginx 1.22.1 (Debian 12) has it, transcribed."""
    dot_pos = len(host)
    host_len = len(host)
    state = "sw_usual"
    for i, ch in enumerate(host):
        if ch == ord("."):
            if dot_pos == i - 1:
                return None
            dot_pos = i
        elif ch == ord(":"):
            if state == "sw_usual":
                host_len = i
                state = "sw_rest"
        elif ch == ord("["):
            if i == 0:
                state = "sw_literal"
        elif ch == ord("]"):
            if state == "sw_literal":
                host_len = i + 1
                state = "sw_rest"
        else:
            if ch == ord("/"):  # ngx_path_separator(ch) on Unix
                return None
            if ch <= 0x20 or ch == 0x7F:
                return None
    if dot_pos == host_len - 1:
        host_len -= 1
    if host_len == 0:
        return None
    return _ngx_strlow(host[:host_len])


def _ngx_strlow(host: bytes) -> bytes:
    # ngx_tolower(c): (u_char) ((c >= 'A' && c <= 'Z') ? (c | 0x20) : c)
    return bytes(ch | 0x20 if ord("A") <= ch <= ord("Z") else ch for ch in host)


# Pieces of Host values: those a valid host is made of, weighted so that about a third of
# the values are accepted, and those that nginx, old or new, refuses.
VALID_HOST_TOKENS = ["a", "b", "Z", "K", "0", "9", "-", "_", "~", "!", "=", "%", ".", "."]
HOST_TOKENS = [
    *VALID_HOST_TOKENS * 4,
    *[":", ":", "[", "]", "::1", "80", "65536"],
    *["/", "\\", '"', "@", "{", " ", "\t", "\x01", "\x7f", "\xe9", "\xff"],
]
ip_literals = st.builds(
    lambda inside, tail: f"[{inside}]{tail}",
    st.lists(st.sampled_from([*"09afAF:.v%_", "::"]), max_size=8).map("".join),
    st.sampled_from(["", ":", ":80", ":65536", ".", "x", "/", "]"]),
)
hosts = st.one_of(st.lists(st.sampled_from(HOST_TOKENS), max_size=10).map("".join), ip_literals)


@settings(max_examples=3000, deadline=None)
@given(host=hosts)
@example(host="a.:8.0")
@example(host=".:.")
@example(host="[a:b.")
@example(host="[]")
@example(host="a:6553")
@example(host="a:65530")
def test_validate_host_is_the_nginx_function(host: str) -> None:
    expected = nginx_validate_host(host.encode("latin-1"))
    if expected is None:
        with pytest.raises(BadRequest):
            validate_host(host)
    else:
        assert validate_host(host).encode("latin-1") == expected


def test_nginx_1_29_refuses_a_subset_of_what_1_22_refused_not() -> None:
    """Whatever the new function accepts, the old one accepted, as the same host."""
    for host in [b"a.:8.0", b"[::1]:80", b"Example.COM.", b"a_b:1", b"[v1.x]"]:
        new = nginx_validate_host(host)
        assert new is None or new == nginx_1_22_validate_host(host)


@settings(max_examples=2000, deadline=None)
@given(host=st.one_of(hosts, st.text(max_size=12)))
@example(host="a.:8.0")
@example(host="\u212a.example")
def test_validate_host_agrees_with_the_router(host: str) -> None:
    """Whatever validate_host accepts, it names as the router's normalize_host does."""
    try:
        accepted = validate_host(host)
    except BadRequest:
        return
    assert accepted == normalize_host(host)


# --- against a real nginx ----------------------------------------------------------------

HOST_CORPUS = [
    "example.com",
    "Shop.Example.COM",
    "example.com:8080",
    "example.com.",
    "example.com.:443",
    "[::1]:80",
    "[::1",
    "[::1].",
    "a[b]",
    "]a",
    "a:b:c",
    "a.:",
    "a.:8.0",
    ".:.",
    'a"b',
    "a\\b",
    "user@host",
    "a{b",
    "caf\xe9.example",
    "a..example",
    "ex.com:..",
    "[a..b]",
    "a/b",
    "a b",
    "a\x01b",
    "a\x7fb",
    "",
    ":80",
    ".",
]


def check_host_against_nginx(nginx: NginxServer, host: str) -> None:
    value = host.encode("latin-1")
    response = nginx.get(b"/", host=value)
    assert response.status in (200, 400), response
    # Debian's nginx is its own (1.22.1) function, transcribed...
    old = nginx_1_22_validate_host(value)
    assert response.status == (400 if old is None else 200), response
    assert response.host == old
    # ...and validate_host is the current one, which accepts fewer hosts, named alike.
    ours = outcome(host)
    if not ours.startswith("400 "):
        assert response.host == ours.encode("latin-1"), (host, ours, response)
    elif response.status == 200:
        # One of the hosts nginx 1.29.4 ("Improved host header validation") refuses.
        assert nginx_validate_host(value) is None


@pytest.mark.parametrize("host", HOST_CORPUS)
def test_hosts_against_nginx(nginx: NginxServer, host: str) -> None:
    check_host_against_nginx(nginx, host)


# What a Host header line can carry: nginx removes spaces around the value, and CR, LF
# and NUL end or break the line.
header_hosts = hosts.map(lambda host: host.strip(" \t"))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(host=header_hosts)
def test_generated_hosts_against_nginx(nginx: NginxServer, host: str) -> None:
    check_host_against_nginx(nginx, host)


def test_a_missing_host_header_is_nginxs_400_not_validate_hosts(nginx: NginxServer) -> None:
    # RFC 9112 §3.2: "A server MUST respond with a 400 (Bad Request) status code to any
    # HTTP/1.1 request message that lacks a Host header field": the caller's check.
    assert nginx.get(b"/", host=None).status == 400


TARGET_CORPUS = [
    "http://Other.Host:8080/x?q",
    "http://other.host/x",
    "HTTP://h/x",
    "https://h/x",
    "http://h",
    "http://h?x",
    "http://h:/x",
    "http://h.example./x",
    "http://[::1]:8080/x",
    "http://h/%2e%2e/x/../y",
    "http://h/../x",
    "http://u@h/x",
    "http://h..x/",
    "http://h:abc/x",
    "http://:80/x",
    "http://h/a%00",
    "http://a_b/x",
    "http://a~b/x",
    "http://h:99999/x",
    "http://[::1/x",
    'http://a"b/x',
    "ftp://h/x",
]


def ours_for_target(target: str) -> tuple[int, bytes | None, bytes | None]:
    """(status, $host, $uri) as our pieces answer an absolute-form request."""
    try:
        authority, path, _ = split_target(target)
        assert authority is not None
        host = validate_host(authority)
        uri = normalize_path(path, "decode")
    except BadRequest:
        return 400, None, None
    return 200, host.encode("latin-1"), uri.encode("latin-1")


def known_target_difference(target: str) -> str | None:
    """Why Debian's nginx answers an absolute-form target otherwise (DESIGN, RFC 3986)."""
    scheme, _, rest = target.partition("://")
    if scheme.lower() not in ("http", "https"):
        return "nginx 1.22 ignores the scheme; we refuse all but http and https"
    authority = rest.partition("/")[0].partition("?")[0]
    host, _, port = authority.partition(":")
    if set(host) & set("_~!$&'()*+,;=%"):
        # ngx_http_parse_request_line, sw_host: letters, digits, "." and "-" only; the rest
        # of RFC 3986's reg-name is accepted by validate_host (and nginx's, since 1.29.4).
        return "nginx 1.22's request-line host is letters, digits, '.' and '-'"
    if port.isdigit() and int(port) > 65535:
        return "nginx 1.22 accepts any digits as a port; since 1.29.4 at most 65535"
    return None


@pytest.mark.parametrize("target", TARGET_CORPUS)
def test_absolute_form_against_nginx(nginx: NginxServer, target: str) -> None:
    # RFC 9112 §3.2.2: "the origin server MUST ignore the received Host header field (if
    # any) and instead use the host information of the request-target".
    response = nginx.get(target.encode("latin-1"), host=b"ignored.example")
    status, host, uri = ours_for_target(target)
    if known_target_difference(target) is not None:
        assert status != response.status, (target, response)
        return
    assert (status, host, uri) == (response.status, response.host, response.uri), target


def test_nginx_fixture_skips_without_nginx_and_fails_in_ci(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(nginx_fixture, "find_nginx", lambda: None)
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="nginx is not installed"):
        nginx_fixture._require_nginx()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="must run in CI"):
        nginx_fixture._require_nginx()
