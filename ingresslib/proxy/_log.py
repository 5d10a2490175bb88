"""Access-log value escaping, as nginx's `log_format ... escape=default` (pure: no IO)."""

from __future__ import annotations

__all__ = ["escape_log_value"]

# nginx, src/http/modules/ngx_http_log_module.c, ngx_http_log_escape: the octets marked in
#
#     static uint32_t   escape[] = {
#         0xffffffff, /* 1111 1111 1111 1111  1111 1111 1111 1111 */
#                     /* ?>=< ;:98 7654 3210  /.-, +*)( '&%$ #"!  */
#         0x00000004, /* 0000 0000 0000 0000  0000 0000 0000 0100 */
#                     /* _^]\ [ZYX WVUT SRQP  ONML KJIH GFED CBA@ */
#         0x10000000, /* 0001 0000 0000 0000  0000 0000 0000 0000 */
#                     /*  ~}| {zyx wvut srqp  onml kjih gfed cba` */
#         0x80000000, /* 1000 0000 0000 0000  0000 0000 0000 0000 */
#         0xffffffff, /* 1111 1111 1111 1111  1111 1111 1111 1111 */
#         0xffffffff, /* 1111 1111 1111 1111  1111 1111 1111 1111 */
#         0xffffffff, /* 1111 1111 1111 1111  1111 1111 1111 1111 */
#         0xffffffff, /* 1111 1111 1111 1111  1111 1111 1111 1111 */
#     };
#
# (0x00-0x1F, '"', '\\', 0x7F-0xFF) are written as
#
#     *dst++ = '\\';
#     *dst++ = 'x';
#     *dst++ = hex[*src >> 4];
#     *dst++ = hex[*src & 0xf];
#
# with `static u_char hex[] = "0123456789ABCDEF";`: `"` is `\x22`, `\` is `\x5C`.
_ESCAPED_OCTETS = [*range(0x20), ord('"'), ord("\\"), *range(0x7F, 0x100)]
_TABLE = {octet: f"\\x{octet:02X}" for octet in _ESCAPED_OCTETS}


def escape_log_value(value: str) -> str:
    r"""Escape a value for an access-log line, as nginx's `escape=default` does.

    A double quote, a backslash, and every octet below 0x20 or from 0x7F up are written
    `\xHH` (upper-case hex), so that a value taken from the request (a Host header, a
    path, a User-Agent) cannot end the quoted field it is logged in, nor start a new line,
    nor smuggle terminal escape sequences: `a"b` -> `a\x22b`.

    Args:
        value: The value, one code point per octet (latin-1) as the request carried it. A
            code point above 0xFF (a value that was decoded as text) is escaped octet by
            octet in its UTF-8 encoding.

    Returns:
        The escaped value, printable ASCII only.
    """
    # PERF: most values need nothing: isascii() reads a flag of the str object, and
    # isprintable() (no control octet, no DEL on ASCII) and the two scans are C loops;
    # str.translate with a dict costs a lookup per character.
    if value.isascii() and value.isprintable() and '"' not in value and "\\" not in value:
        return value
    escaped = value.translate(_TABLE)
    if escaped.isascii():  # only code points above 0xFF survive the table unescaped
        return escaped
    return "".join(
        char
        if char.isascii()
        else "".join(f"\\x{octet:02X}" for octet in char.encode("utf-8", "surrogatepass"))
        for char in escaped
    )
