"""Value validators ported from k8s.io/apimachinery/pkg/util/validation.

Each function returns the list of error messages the Go function returns (empty when
valid), with the same wording, so ingresslib reports what the apiserver would report.
Lengths are counted in bytes, as Go's `len` counts them. Go's `^...$` regexes are
reproduced with `re.fullmatch`.
"""

from __future__ import annotations

import ipaddress
import re

__all__ = [
    "is_config_map_key",
    "is_dns1035_label",
    "is_dns1123_label",
    "is_dns1123_subdomain",
    "is_domain_prefixed_path",
    "is_fully_qualified_domain_name",
    "is_label_value",
    "is_path_segment_name",
    "is_qualified_name",
    "is_valid_ip",
    "is_valid_port_name",
    "is_valid_port_num",
    "is_wildcard_dns1123_subdomain",
    "parse_ip_sloppy",
]

DNS1123_LABEL_FMT = "[a-z0-9]([-a-z0-9]*[a-z0-9])?"
DNS1123_LABEL_MAX = 63
DNS1123_SUBDOMAIN_FMT = DNS1123_LABEL_FMT + r"(\." + DNS1123_LABEL_FMT + ")*"
DNS1123_SUBDOMAIN_MAX = 253
WILDCARD_DNS1123_SUBDOMAIN_FMT = r"\*\." + DNS1123_SUBDOMAIN_FMT
DNS1035_LABEL_FMT = "[a-z]([-a-z0-9]*[a-z0-9])?"
DNS1035_LABEL_MAX = 63
QUALIFIED_NAME_FMT = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]"
QUALIFIED_NAME_MAX = 63
LABEL_VALUE_FMT = "(" + QUALIFIED_NAME_FMT + ")?"
LABEL_VALUE_MAX = 63
CONFIG_MAP_KEY_FMT = "[-._a-zA-Z0-9]+"
PORT_NAME_MAX = 15
DOMAIN_PREFIXED_PATH_FMT = r"[A-Za-z0-9/\-._~%!$&'()*+,;=:]+"

_DNS1123_LABEL = re.compile(DNS1123_LABEL_FMT)
_DNS1123_SUBDOMAIN = re.compile(DNS1123_SUBDOMAIN_FMT)
_WILDCARD_DNS1123_SUBDOMAIN = re.compile(WILDCARD_DNS1123_SUBDOMAIN_FMT)
_DNS1035_LABEL = re.compile(DNS1035_LABEL_FMT)
_QUALIFIED_NAME = re.compile(QUALIFIED_NAME_FMT)
_LABEL_VALUE = re.compile(LABEL_VALUE_FMT)
_CONFIG_MAP_KEY = re.compile(CONFIG_MAP_KEY_FMT)
_PORT_NAME_CHARS = re.compile("[-a-z0-9]+")
_PORT_NAME_ONE_LETTER = re.compile("[a-z]")
_DOMAIN_PREFIXED_PATH = re.compile(DOMAIN_PREFIXED_PATH_FMT)
_SLOPPY_IPV4 = re.compile(r"[0-9]+\.[0-9]+\.[0-9]+\.[0-9]+")


def _size(value: str) -> int:
    # Go's len(): bytes, not code points.
    return len(value.encode("utf-8", "surrogatepass"))


def max_len_error(length: int) -> str:
    """`MaxLenError`: "must be no more than N characters"."""
    return f"must be no more than {length} characters"


def regex_error(message: str, fmt: str, *examples: str) -> str:
    """`RegexError`, including Go's double space before "or" when examples follow."""
    if not examples:
        return f"{message} (regex used for validation is '{fmt}')"
    text = f"{message} (e.g. "
    for index, example in enumerate(examples):
        if index > 0:
            text += " or "
        text += f"'{example}', "
    return text + f"regex used for validation is '{fmt}')"


def _full(pattern: re.Pattern[str], value: str) -> bool:
    # Go's `^...$` does not let "$" match before a trailing newline; fullmatch is exact.
    return pattern.fullmatch(value) is not None


_DNS1123_LABEL_MSG = (
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', "
    "and must start and end with an alphanumeric character"
)
_DNS1123_SUBDOMAIN_MSG = (
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
    "'-' or '.', and must start and end with an alphanumeric character"
)
_WILDCARD_MSG = (
    "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, "
    "which must consist of lower case alphanumeric characters, '-' or '.' and end with an "
    "alphanumeric character"
)
_DNS1035_LABEL_MSG = (
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with "
    "an alphabetic character, and end with an alphanumeric character"
)
_QUALIFIED_NAME_MSG = (
    "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
    "an alphanumeric character"
)
_LABEL_VALUE_MSG = (
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' "
    "or '.', and must start and end with an alphanumeric character"
)
_CONFIG_MAP_KEY_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'"


def is_dns1123_label(value: str) -> list[str]:
    """`IsDNS1123Label`."""
    errors = []
    if _size(value) > DNS1123_LABEL_MAX:
        errors.append(max_len_error(DNS1123_LABEL_MAX))
    if not _full(_DNS1123_LABEL, value):
        if _full(_DNS1123_SUBDOMAIN, value):
            errors.append("must not contain dots")
        else:
            errors.append(regex_error(_DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc"))
    return errors


def is_dns1123_subdomain(value: str) -> list[str]:
    """`IsDNS1123Subdomain`."""
    errors = []
    if _size(value) > DNS1123_SUBDOMAIN_MAX:
        errors.append(max_len_error(DNS1123_SUBDOMAIN_MAX))
    if not _full(_DNS1123_SUBDOMAIN, value):
        errors.append(regex_error(_DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com"))
    return errors


def is_wildcard_dns1123_subdomain(value: str) -> list[str]:
    """`IsWildcardDNS1123Subdomain`."""
    errors = []
    if _size(value) > DNS1123_SUBDOMAIN_MAX:
        errors.append(max_len_error(DNS1123_SUBDOMAIN_MAX))
    if not _full(_WILDCARD_DNS1123_SUBDOMAIN, value):
        errors.append(regex_error(_WILDCARD_MSG, WILDCARD_DNS1123_SUBDOMAIN_FMT, "*.example.com"))
    return errors


def is_dns1035_label(value: str) -> list[str]:
    """`IsDNS1035Label` (Service names)."""
    errors = []
    if _size(value) > DNS1035_LABEL_MAX:
        errors.append(max_len_error(DNS1035_LABEL_MAX))
    if not _full(_DNS1035_LABEL, value):
        errors.append(regex_error(_DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, "my-name", "abc-123"))
    return errors


def is_valid_port_name(value: str) -> list[str]:
    """`IsValidPortName`: an IANA_SVC_NAME (RFC 6335 section 5.1)."""
    errors = []
    if _size(value) > PORT_NAME_MAX:
        errors.append(max_len_error(PORT_NAME_MAX))
    if not _full(_PORT_NAME_CHARS, value):
        errors.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
    if not _PORT_NAME_ONE_LETTER.search(value):
        errors.append("must contain at least one letter (a-z)")
    if "--" in value:
        errors.append("must not contain consecutive hyphens")
    if value.startswith("-") or value.endswith("-"):
        errors.append("must not begin or end with a hyphen")
    return errors


def is_valid_port_num(value: int) -> list[str]:
    """`IsValidPortNum`: 1 to 65535."""
    if 1 <= value <= 65535:
        return []
    return ["must be between 1 and 65535, inclusive"]


def is_path_segment_name(value: str) -> list[str]:
    """`IsPathSegmentName`: usable as one segment of a REST path."""
    if value in (".", ".."):
        return [f"may not be '{value}'"]
    return [f"may not contain '{bad}'" for bad in ("/", "%") if bad in value]


def is_qualified_name(value: str) -> list[str]:
    """`IsQualifiedName`: `[prefix/]name`, as label and annotation keys are."""
    errors: list[str] = []
    parts = value.split("/")
    if len(parts) == 1:
        name = parts[0]
    elif len(parts) == 2:
        prefix, name = parts
        if not prefix:
            errors.append("prefix part must be non-empty")
        else:
            errors.extend(f"prefix part {msg}" for msg in is_dns1123_subdomain(prefix))
    else:
        return [
            "a qualified name "
            + regex_error(_QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
            + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ]
    if not name:
        errors.append("name part must be non-empty")
    elif _size(name) > QUALIFIED_NAME_MAX:
        errors.append("name part " + max_len_error(QUALIFIED_NAME_MAX))
    if not _full(_QUALIFIED_NAME, name):
        errors.append(
            "name part "
            + regex_error(_QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
        )
    return errors


def is_label_value(value: str) -> list[str]:
    """`IsValidLabelValue`."""
    errors = []
    if _size(value) > LABEL_VALUE_MAX:
        errors.append(max_len_error(LABEL_VALUE_MAX))
    if not _full(_LABEL_VALUE, value):
        errors.append(
            regex_error(_LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
        )
    return errors


def is_config_map_key(value: str) -> list[str]:
    """`IsConfigMapKey`: a key of Secret or ConfigMap data."""
    errors = []
    if _size(value) > DNS1123_SUBDOMAIN_MAX:
        errors.append(max_len_error(DNS1123_SUBDOMAIN_MAX))
    if not _full(_CONFIG_MAP_KEY, value):
        errors.append(
            regex_error(_CONFIG_MAP_KEY_MSG, CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name")
        )
    if value == ".":
        errors.append("must not be '.'")
    elif value == "..":
        errors.append("must not be '..'")
    elif value.startswith(".."):
        errors.append("must not start with '..'")
    return errors


def is_domain_prefixed_path(value: str) -> list[tuple[str, str]]:
    """`IsDomainPrefixedPath` (IngressClass `spec.controller`).

    Returns:
        `(bad value, message)` pairs: Go reports the host or the path segment as the value.
    """
    segments = value.split("/", 1)
    if len(segments) != 2 or not segments[0] or not segments[1]:
        return [(value, 'must be a domain-prefixed path (such as "acme.io/foo")')]
    host, path = segments
    errors = [(host, msg) for msg in is_dns1123_subdomain(host)]
    if not _full(_DOMAIN_PREFIXED_PATH, path):
        errors.append(
            (path, f"Invalid path (regex used for validation is '{DOMAIN_PREFIXED_PATH_FMT}')")
        )
    return errors


def is_fully_qualified_domain_name(value: str) -> list[tuple[str, str]]:
    """`IsFullyQualifiedDomainName` (FQDN EndpointSlice addresses).

    Returns:
        `(bad value, message)` pairs: Go reports the trimmed name or the offending label.
    """
    name = value.removesuffix(".")
    errors = is_dns1123_subdomain(name)
    if errors:
        return [(name, ",".join(errors))]
    labels = name.split(".")
    if len(labels) < 2:
        return [(name, "should be a domain with at least two segments separated by dots")]
    for label in labels:
        errors = is_dns1123_label(label)
        if errors:
            return [(label, ",".join(errors))]
    return []


def parse_ip_sloppy(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """`netutils.ParseIPSloppy`: Go's `net.ParseIP`, also taking leading zeros in IPv4.

    Zones (`fe80::1%eth0`) are not IP addresses to Go, though Python accepts them.
    """
    if not value or "%" in value:
        return None
    if _full(_SLOPPY_IPV4, value):
        octets = [int(part) for part in value.split(".")]
        if all(octet <= 255 for octet in octets):
            return ipaddress.IPv4Address(".".join(map(str, octets)))
        return None
    try:
        return ipaddress.ip_address(value)
    except ValueError:
        return None


def is_valid_ip(value: str) -> list[str]:
    """`IsValidIP` (legacy, non-strict form, as the default feature gates have it)."""
    if parse_ip_sloppy(value) is None:
        return ["must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"]
    return []
