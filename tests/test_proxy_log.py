"""Access-log escaping (ingresslib.proxy._log), checked against nginx's own access log."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingresslib.proxy import escape_log_value
from tests.nginx_fixture import NginxServer


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("example.com", "example.com"),
        ("", ""),
        ('a"b', "a\\x22b"),
        ("a\\b", "a\\x5Cb"),
        (
            'x" 200 1 "-" "-"\n1.2.3.4 - - "GET /forged',
            "x\\x22 200 1 \\x22-\\x22 \\x22-\\x22\\x0A1.2.3.4 - - \\x22GET /forged",
        ),
        ("\x00\x01\x1f \x7e\x7f", "\\x00\\x01\\x1F ~\\x7F"),
        ("caf\xe9\xff\x80", "caf\\xE9\\xFF\\x80"),
        ("\u4e2d", "\\xE4\\xB8\\xAD"),  # above 0xFF: its UTF-8 octets
        ("'`$%{}", "'`$%{}"),  # nginx leaves these as they are
    ],
)
def test_escape_log_value(value: str, expected: str) -> None:
    assert escape_log_value(value) == expected


@settings(max_examples=500, deadline=None)
@given(value=st.text())
def test_escaped_values_are_printable_ascii_without_quotes(value: str) -> None:
    escaped = escape_log_value(value)
    assert escaped.isascii()
    assert escaped.isprintable()
    assert '"' not in escaped
    assert "\\" not in escaped.replace("\\x", "")


# Header values nginx logs as sent: no CR, LF or NUL, no spaces at either end.
header_values = (
    st.binary(min_size=1, max_size=24)
    .map(lambda value: value.translate(None, b"\r\n\x00").strip(b" \t"))
    .filter(bool)
)


def check_against_nginx(nginx: NginxServer, value: bytes) -> None:
    assert nginx.logged(value) == escape_log_value(value.decode("latin-1")).encode("ascii")


@pytest.mark.parametrize(
    "value", [b'a"b', b"a\\b", b"\x01\x1f\x7f\x80\xff", b"Shop.Example.com:80", b"~ '` {}"]
)
def test_escape_log_value_against_nginx(nginx: NginxServer, value: bytes) -> None:
    check_against_nginx(nginx, value)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(value=header_values)
def test_generated_values_against_nginx(nginx: NginxServer, value: bytes) -> None:
    check_against_nginx(nginx, value)
