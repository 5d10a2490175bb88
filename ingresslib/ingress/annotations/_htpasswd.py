"""htpasswd files as nginx's `auth_basic_user_file` reads them, and password verification.

ngx_http_auth_basic_module: "The file in the following format: `name1:password1`,
`name2:password2:comment` ... The following password types are supported: encrypted with
the crypt() function ...; hashed with the Apache variant of the MD5-based password
algorithm (apr1); specified by the "{scheme}data" syntax (RFC 2307): PLAIN, SHA, SSHA."
ingress-nginx's image is Alpine, whose crypt() (musl) knows DES, MD5 (`$1$`), bcrypt
(`$2a$`, `$2b$`, `$2y$`), SHA-256 (`$5$`) and SHA-512 (`$6$`).

bcrypt is slow by design, so a verification's result is cached per (hash, password),
keyed by a SHA-256 digest: no password is kept in memory. The hash libraries are the
`auth` extra (bcrypt; libpass, the maintained passlib); a hash they would be needed for
fails verification (the request is refused) when they are missing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import threading
from collections import OrderedDict
from typing import Any

__all__ = ["HashUnavailable", "parse_basic_credentials", "parse_htpasswd", "verify_password"]

_CACHE_SIZE = 4096


class HashUnavailable(RuntimeError):  # noqa: N818 -- what it says: the hash library is missing
    """A password hash whose library (the `auth` extra) is not installed."""


def parse_htpasswd(text: bytes) -> dict[str, bytes]:
    """User -> password hash of an htpasswd file; the first line of a user wins.

    ngx_http_auth_basic_handler: lines starting with "#" are comments; the user name ends
    at the first ":", the password at the next ":" or the end of the line.
    """
    users: dict[str, bytes] = {}
    for raw in text.replace(b"\r", b"\n").split(b"\n"):
        if not raw or raw.startswith(b"#"):
            continue
        user, colon, rest = raw.partition(b":")
        if not colon:
            continue
        password = rest.split(b":", 1)[0]
        name = user.decode("utf-8", "surrogateescape")
        users.setdefault(name, password)
    return users


def parse_basic_credentials(value: str | None) -> tuple[bytes, bytes] | None:
    """(user, password) of an `Authorization: Basic ...` value, or None.

    ngx_http_auth_basic_user: the scheme "Basic" in any case, then spaces, then base64 of
    "user:password" (split at the first ":").
    """
    if value is None or len(value) < 6 or value[:6].lower() != "basic ":
        return None
    encoded = value[6:].lstrip(" ")
    try:
        decoded = base64.b64decode(encoded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        return None
    user, colon, password = decoded.partition(b":")
    if not colon:
        return None
    return user, password


_lock = threading.Lock()
_cache: OrderedDict[bytes, bool] = OrderedDict()


def verify_password(password: bytes, hashed: bytes) -> bool:
    """Whether `password` matches an htpasswd hash (cached per hash and password).

    Raises:
        HashUnavailable: the hash needs a library of the `auth` extra that is missing.
    """
    key = hashlib.sha256(hashed + b"\0" + password).digest()
    with _lock:
        known = _cache.get(key)
        if known is not None:
            _cache.move_to_end(key)
            return known
    result = _verify(password, hashed)
    with _lock:
        _cache[key] = result
        if len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return result


def _verify(password: bytes, hashed: bytes) -> bool:
    if hashed.startswith(b"{PLAIN}"):
        return hmac.compare_digest(hashed[7:], password)
    if hashed.startswith(b"{SHA}"):
        digest = base64.b64encode(hashlib.sha1(password).digest())
        return hmac.compare_digest(hashed[5:], digest)
    if hashed.startswith(b"{SSHA}"):
        try:
            raw = base64.b64decode(hashed[6:], validate=True)
        except binascii.Error:
            return False
        if len(raw) <= 20:
            return False
        digest, salt = raw[:20], raw[20:]
        return hmac.compare_digest(hashlib.sha1(password + salt).digest(), digest)
    if hashed[:4] in (b"$2a$", b"$2b$", b"$2y$", b"$2x$"):
        bcrypt = _import("bcrypt")
        try:
            # bcrypt (the library) knows $2a$ and $2b$; $2y$ is the same algorithm.
            normalized = b"$2b$" + hashed[4:]
            return bool(bcrypt.checkpw(password[:72], normalized))
        except ValueError:
            return False
    return _passlib_verify(password, hashed)


def _passlib_verify(password: bytes, hashed: bytes) -> bool:
    passlib_hash = _import("passlib.hash")
    text = hashed.decode("ascii", "replace")
    if text.startswith("$apr1$"):
        handler: Any = passlib_hash.apr_md5_crypt
    elif text.startswith("$1$"):
        handler = passlib_hash.md5_crypt
    elif text.startswith("$5$"):
        handler = passlib_hash.sha256_crypt
    elif text.startswith("$6$"):
        handler = passlib_hash.sha512_crypt
    elif len(text) == 13:
        handler = passlib_hash.des_crypt
    else:
        return False
    try:
        return bool(handler.verify(password, text))
    except (ValueError, TypeError):
        return False


def _import(name: str) -> Any:
    import importlib  # noqa: PLC0415 -- the optional `auth` extra, imported when a hash needs it

    try:
        return importlib.import_module(name)
    except ImportError:
        raise HashUnavailable(
            f"verifying this password hash needs {name.split('.', maxsplit=1)[0]}: "
            "pip install 'ingresslib[auth]'"
        ) from None
