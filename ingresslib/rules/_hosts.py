"""Request host normalisation, as the router compares hosts."""

from __future__ import annotations

__all__ = ["host_covers", "normalize_host", "wildcard_parent"]


def normalize_host(host: str | None) -> str:
    """Normalise a Host header value (or `:authority`) for matching.

    Hosts compare case-insensitively; a port is ignored ("The `:` delimiter is not
    respected because ports are not allowed" in rule hosts); a trailing dot is dropped
    (`example.com.` is `example.com`). An IPv6 literal keeps its brackets: `[::1]:80` ->
    `[::1]`. `None` and "" give "" (no host).
    """
    if not host:
        return ""
    if host[0] == "[":
        end = host.find("]")
        host = host if end < 0 else host[: end + 1]
    else:
        colon = host.find(":")
        if colon >= 0:
            host = host[:colon]
    if host.endswith("."):
        host = host[:-1]
    # ASCII case folding only, as nginx does: str.lower() would fold "\u212a" (KELVIN
    # SIGN) to "k" and let a look-alike host reach another host's rules.
    return host.lower() if host.isascii() else host.translate(_ASCII_LOWER)


_ASCII_LOWER = {code: code + 32 for code in range(ord("A"), ord("Z") + 1)}


def wildcard_parent(host: str) -> str | None:
    """The domain a `*.` rule must name to match `host`: `bar.foo.com` -> `foo.com`.

    "If host is a wildcard, then the request matches this rule if the http host header is
    to equal to the suffix (removing the first label) of the wildcard rule." A wildcard
    covers exactly one label, so a host without a dot has no wildcard parent.
    """
    dot = host.find(".")
    if dot <= 0 or dot == len(host) - 1:
        return None
    return host[dot + 1 :]


def host_covers(rule_host: str, name: str) -> bool:
    """Whether an Ingress rule or TLS host (normalised) covers a request host (normalised).

    "Precise matches ... `foo.bar.com` matches `foo.bar.com`"; a wildcard covers exactly
    one label: "`*.foo.com` matches `bar.foo.com` ... but not `baz.bar.foo.com`" nor
    `foo.com`. The one rule for routing and for TLS (redirects, certificates) alike.
    """
    if rule_host == name:
        return True
    if not rule_host.startswith("*."):
        return False
    return wildcard_parent(name) == rule_host[2:]
