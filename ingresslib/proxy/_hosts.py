r"""Host header validation: nginx's `ngx_http_validate_host`, ported (pure: no IO).

The port follows the function as nginx has it since 1.29.4 (commit 511abb19e, "Improved
host header validation": "Validation is rewritten to follow RFC 3986 host syntax"), which
is what DESIGN.md asks ("A Host header that is not a valid authority (RFC 9112 §3.2) gets
400"). nginx runs it on the Host header (`ngx_http_process_host`: "client sent invalid
host header", 400) and on the host of an absolute-form request-target ("client sent
invalid host in request line", 400).

Debian 12's nginx (1.22.1) has the older, laxer function, which refused only "..", "/",
control octets, space and DEL; the commit lists what it now rejects besides: "the rest of
gen-delims "#", "?", "@", "[", "]"", "other unwise delims <">, "<", ">", "\", "^", "`',
"{", "|", "}"", "IP literals with a trailing dot, missing closing bracket, or
pct-encoded", "a port subcomponent with invalid values", "characters in upper half".
tests/test_proxy_hosts.py checks both against the C, and the old one against a real nginx.
"""

from __future__ import annotations

import re

from ingresslib.proxy._paths import BadRequest

__all__ = ["validate_host"]

# sw_host: ALPHA / DIGIT / "-" / "." / unreserved "_" "~" / sub-delims / "%" (pct-encoded,
# whose digits nginx does not check); a ":" ends the host. sw_host_ip_literal, after a "["
# in first position: the same without "%", with ":", up to "]" (host_len = i + 1); then
# sw_host_end, where only ":" may follow; sw_port: digits.
_HOST = re.compile(
    r"(\[[A-Za-z0-9:\-._~!$&'()*+,;=]*\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::([0-9]*))?"
)
_REG_NAME_OCTETS = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,;=%"
)
_IP_LITERAL_OCTETS = (_REG_NAME_OCTETS - {"%"}) | {":"}


def validate_host(host: str) -> str:
    r"""Validate a Host header value (or an absolute-form authority) as nginx does.

    A port of `ngx_http_validate_host` (src/http/ngx_http_request.c, nginx >= 1.29.4)::

        for (i = 0; i < host->len; i++) {
            ch = h[i];
            switch (state) {
            case sw_host_start:
                if (ch == '[') {
                    state = sw_host_ip_literal;
                    break;
                }
                state = sw_host;
                /* fall through */
            case sw_host:
                if (ch >= 'A' && ch <= 'Z') { alloc = 1; break; }
                if (ch >= 'a' && ch <= 'z') { break; }
                if (ch >= '0' && ch <= '9') { break; }
                switch (ch) {
                case ':':
                    host_len = i;
                    state = sw_port;
                    break;
                case '-':
                    break;
                case '.':
                    if (dot_pos == i - 1) {
                        return NGX_DECLINED;
                    }
                    dot_pos = i;
                    break;
                case '_': case '~':
                    /* unreserved */
                    break;
                case '!': case '$': case '&': case '\'': case '(': case ')':
                case '*': case '+': case ',': case ';': case '=':
                    /* sub-delims */
                    break;
                case '%':
                    /* pct-encoded */
                    break;
                default:
                    return NGX_DECLINED;
                }
                break;
            case sw_host_ip_literal:
                /* letters, digits, ':', '-', '.' (".." declined), unreserved,
                   sub-delims as above; no '%'; and: */
                case ']':
                    host_len = i + 1;
                    state = sw_host_end;
                    break;
            case sw_host_end:
                if (ch == ':') {
                    state = sw_port;
                    break;
                }
                return NGX_DECLINED;
            case sw_port:
                if (ch >= '0' && ch <= '9') {
                    if (port >= 6553 && (port > 6553 || (ch - '0') > 5)) {
                        return NGX_DECLINED;
                    }
                    port = port * 10 + (ch - '0');
                    break;
                }
                return NGX_DECLINED;
            }
        }

        if (state == sw_host_ip_literal) {
            return NGX_DECLINED;
        }
        if (dot_pos == host_len - 1) {
            host_len--;
        }
        if (host_len == 0) {
            return NGX_DECLINED;
        }
        ...
        ngx_strlow(host->data, h, host_len);

    So a host is an RFC 3986 reg-name or IP-literal, with an optional port of at most
    65535 (empty allowed, as RFC 3986 "port = *DIGIT"); the port is dropped, one trailing
    dot of a reg-name too, ASCII letters are lower-cased. `..` anywhere, a path separator
    `/`, a control octet, space, DEL, a non-ASCII octet and every other octet outside those
    sets are refused, and so is a host that is empty once the port and the trailing dot are
    gone (`""`, `":80"`, `"."`). The result is what `ingresslib.routing`'s `normalize_host`
    makes of the same value.

    Args:
        host: The Host header value (leading and trailing whitespace already removed, as
            by any HTTP/1.1 parser), or the authority of an absolute-form target; one code
            point per octet (latin-1).

    Returns:
        The host for routing: lower-case, without port and trailing dot; an IPv6 literal
        keeps its brackets (`[::1]:80` -> `[::1]`).

    Raises:
        BadRequest: nginx would answer 400; `reason` says why.
    """
    # PERF: one C-level regex match decides a valid host; only a refusal is explained.
    match = _HOST.fullmatch(host)
    if match is None or ".." in host:
        raise BadRequest(_refusal(host))
    name, port = match.group(1, 2)
    if port and int(port) > 65535:
        raise BadRequest("port above 65535")
    if name[-1:] == ".":  # dot_pos == host_len - 1 (an IP literal ends with "]")
        name = name[:-1]
    if not name:
        raise BadRequest("empty host")
    return name.lower()  # every octet is ASCII here: str.lower() is ngx_strlow


def _refusal(host: str) -> str:
    """Why nginx refuses `host` (which `_HOST` did not match, or which holds "..")."""
    if ".." in host:
        return "two dots in a row in the host"
    if host[:1] == "[":
        end = host.find("]")
        if end < 0:
            return "IP literal without its closing bracket"
        for char in host[1:end]:
            if char not in _IP_LITERAL_OCTETS:
                return _invalid(char, "invalid character in the IP literal")
        rest = host[end + 1 :]
        if rest[:1] != ":":
            return _invalid(rest[0], "characters after the IP literal")
        port = rest[1:]
    else:
        name, _, port = host.partition(":")
        for char in name:
            if char not in _REG_NAME_OCTETS:
                return _invalid(char, "invalid character in the host")
    for char in port:
        if not "0" <= char <= "9":
            return _invalid(char, "invalid port")
    return "invalid port"


def _invalid(char: str, otherwise: str) -> str:
    if char == "/":
        return "path separator in the host"
    if char <= " " or char == "\x7f":
        return "control character or space in the host"
    if not char.isascii():
        return "non-ASCII octet in the host"
    return otherwise
