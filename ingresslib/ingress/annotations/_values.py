"""Reading ingress-nginx annotations as ingress-nginx reads them.

internal/ingress/annotations/parser (v1.15.1): `checkAnnotation` finds the value (or, when
the annotation is empty or absent, the first non-empty alias), runs the annotation's
validator on a non-empty value — a failure is a *validation error*, which drops the whole
Ingress ("ingress contains invalid annotation value"; the admission webhook refuses it) —
and then `parseBool` / `parseInt` / `parseString` convert it: a value that does not
convert is *invalid content*, which ingress-nginx ignores (the default applies).

`Invalid` is the validation error; `Ignored` the invalid content; plugins raise them and
`AnnotationReader.contribution` turns them into problems.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Sequence

from ingresslib.plugins._annotations import AnnotationProblem, Contribution, ObjectRef
from ingresslib.resources._networking import Ingress

__all__ = [
    "ALPHANUMERIC",
    "BASIC_CHARS",
    "CHARS_WITH_SPACE",
    "EXTENDED_CHARS",
    "HEADERS_VARIABLE",
    "NGINX_PREFIX",
    "NGINX_VARIABLE",
    "REGEX_PATH_WITH_CAPTURE",
    "SIZE",
    "URL_CHARS",
    "URL_WITH_NGINX_VARIABLE",
    "VALID_REGEX",
    "AnnotationReader",
    "Ignored",
    "Invalid",
    "Validator",
    "go_atoi",
    "go_parse_bool",
    "nginx_annotations",
    "parse_cidrs",
    "validate_bool",
    "validate_cidrs",
    "validate_int",
    "validate_options",
    "validate_regex",
    "validate_server_names",
    "validate_service_name",
]

#: The prefix of ingress-nginx's annotations (`--annotations-prefix` default).
NGINX_PREFIX = "nginx.ingress.kubernetes.io/"

#: A validator: raises `ValueError` for a value the annotation refuses.
Validator = Callable[[str], None]

# parser/validators.go: the character classes of the annotation validators.
ALPHANUMERIC = r"\-\.\_\~a-zA-Z0-9\/:"
_EXTENDED = ALPHANUMERIC + ", "
_REGEX_CHARS = re.escape("^$[](){}*+?|&=\\")
_URL_CHARS = re.escape(",:?&=")
#: `IsValidRegex`.
VALID_REGEX = re.compile("^[/" + ALPHANUMERIC + _REGEX_CHARS + "]*$")
#: `SizeRegex`: "1m", "512K"...
SIZE = re.compile(r"^(?i:\d+[bkmg]?)$")
#: `URLIsValidRegex`.
URL_CHARS = re.compile("^[" + ALPHANUMERIC + _URL_CHARS + "]*$")
#: `BasicCharsRegex`.
BASIC_CHARS = re.compile("^[/" + ALPHANUMERIC + "]*$")
#: `ExtendedCharsRegex`.
EXTENDED_CHARS = re.compile("^[/" + _EXTENDED + "]*$")
#: `CharsWithSpace`.
CHARS_WITH_SPACE = re.compile("^[/" + ALPHANUMERIC + " ]*$")
#: `NGINXVariable`.
NGINX_VARIABLE = re.compile(r"^[A-Za-z0-9\-\_\$\{\}]*$")
#: `RegexPathWithCapture`.
REGEX_PATH_WITH_CAPTURE = re.compile(r"^/?[" + ALPHANUMERIC + r"\/\$]*$")
#: `HeadersVariable`.
HEADERS_VARIABLE = re.compile(r"^[A-Za-z0-9-_, ]*$")
#: `URLWithNginxVariableRegex`.
URL_WITH_NGINX_VARIABLE = re.compile("^[" + _EXTENDED + _URL_CHARS + "$]*$")
# `MaliciousRegex`: a line break would end an nginx directive.
_MALICIOUS = re.compile(r"\r|\n")
_DNS1035 = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


class Invalid(ValueError):  # noqa: N818 -- ingress-nginx's name for it is "validation error"
    """A value the annotation's validator refuses: the Ingress is not routed."""

    def __init__(self, annotation: str, reason: str) -> None:
        super().__init__(f"{annotation}: {reason}")
        self.annotation = annotation
        self.reason = reason


class Ignored(ValueError):  # noqa: N818 -- ingress-nginx: "invalid annotation content"
    """A value that does not convert: the annotation is ignored (its default applies)."""

    def __init__(self, annotation: str, reason: str) -> None:
        super().__init__(f"{annotation}: {reason}")
        self.annotation = annotation
        self.reason = reason


def nginx_annotations(*names: str) -> frozenset[str]:
    """The full names of ingress-nginx annotations (a plugin's `annotations`)."""
    return frozenset(NGINX_PREFIX + name for name in names)


def go_parse_bool(value: str) -> bool:
    """Go's `strconv.ParseBool`: 1 t T TRUE true True / 0 f F FALSE false False."""
    if value in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if value in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(f"{value!r} is not a boolean (true or false)")


_ATOI = re.compile(r"^[+-]?[0-9]+$")


def go_atoi(value: str) -> int:
    """Go's `strconv.Atoi` on a 64-bit platform: an optional sign and decimal digits."""
    if not _ATOI.match(value):
        raise ValueError(f"{value!r} is not an integer")
    number = int(value)
    if not -(2**63) <= number < 2**63:
        raise ValueError(f"{value!r} is out of range")
    return number


def validate_bool(value: str) -> None:
    """`ValidateBool`."""
    go_parse_bool(value)


def validate_int(value: str) -> None:
    """`ValidateInt`."""
    go_atoi(value)


def validate_regex(pattern: re.Pattern[str], *, remove_space: bool = False) -> Validator:
    """`ValidateRegex`: the value matches `pattern` and has no line break."""

    def validate(value: str) -> None:
        if remove_space:
            value = value.replace(" ", "")
        if not pattern.match(value):
            raise ValueError(f"value {value} is invalid")
        if _MALICIOUS.search(value):
            raise ValueError(f"value {value} contains malicious string")

    return validate


def validate_options(
    options: Sequence[str], *, case_sensitive: bool = True, trim_space: bool = False
) -> Validator:
    """`ValidateOptions`: one of `options`."""

    def validate(value: str) -> None:
        if trim_space:
            value = value.strip()
        if not case_sensitive:
            value = value.lower()
        if value not in options:
            raise ValueError("value does not match any valid option")

    return validate


def validate_server_names(value: str) -> None:
    """`ValidateArrayOfServerName`: comma-separated names of `IsValidRegex` characters."""
    for name in value.split(","):
        if not VALID_REGEX.match(name.strip()):
            raise ValueError(f"value {name.strip()} is invalid server name")


def validate_service_name(value: str) -> None:
    """`ValidateServiceName`: a DNS-1035 label."""
    if len(value) > 63 or not _DNS1035.match(value):
        raise ValueError("annotation does not contain a valid service name")


def parse_cidrs(value: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    """internal/net `ParseCIDRs`: comma-separated addresses or CIDRs, spaces trimmed.

    A plain address is a /32 (/128) network; an empty item is an error.
    """
    networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = []
    for item in value.split(","):
        text = item.strip()
        if not text:
            raise ValueError("empty item in the list of networks")
        try:
            # Go's net.ParseCIDR accepts host bits set ("10.0.0.1/8" is 10.0.0.0/8).
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError as error:
            raise ValueError(f"{text!r} is not an IP address or CIDR: {error}") from None
    return tuple(networks)


def validate_cidrs(value: str) -> None:
    """`ValidateCIDRs`."""
    parse_cidrs(value)


class AnnotationReader:
    """The annotations of one Ingress under one prefix, read as `checkAnnotation` does.

    Args:
        ingress: the Ingress.
        prefix: the annotation prefix (with its trailing "/").
    """

    __slots__ = ("_annotations", "ingress", "prefix")

    def __init__(self, ingress: Ingress, prefix: str = NGINX_PREFIX) -> None:
        self.ingress = ingress
        self.prefix = prefix
        self._annotations = ingress.metadata.annotations

    def full(self, name: str) -> str:
        """The full annotation name of `name`."""
        return self.prefix + name

    def has(self, name: str, *aliases: str) -> bool:
        """Whether the annotation (or an alias) is set, even to ""."""
        return any(self.full(n) in self._annotations for n in (name, *aliases))

    def find(
        self, name: str, validator: Validator | None = None, *aliases: str
    ) -> tuple[str, str] | None:
        """(full name, value) of the annotation, validated; None when it is not set.

        "" counts as not set when an alias has a value (the alias is used). A value the
        validator refuses raises `Invalid`.
        """
        full = self.full(name)
        value = self._annotations.get(full)
        if not value:
            for alias in aliases:
                alias_value = self._annotations.get(self.full(alias))
                if alias_value:
                    full, value = self.full(alias), alias_value
                    break
        if value is None:
            return None
        if value and validator is not None:
            try:
                validator(value)
            except ValueError as error:
                raise Invalid(full, f"invalid value {value!r}: {error}") from None
        return full, value

    def string(self, name: str, validator: Validator | None = None, *aliases: str) -> str | None:
        """`GetStringAnnotation`: the value with its spaces and line breaks trimmed.

        None when unset; an empty value raises `Ignored` ("invalid content").
        """
        found = self.find(name, validator, *aliases)
        if found is None:
            return None
        full, value = found
        text = _normalize(value)
        if not text:
            raise Ignored(full, "the value is empty")
        return text

    def boolean(self, name: str, validator: Validator | None = validate_bool) -> bool | None:
        """`GetBoolAnnotation`: None when unset; a non-boolean raises."""
        found = self.find(name, validator)
        if found is None:
            return None
        full, value = found
        try:
            return go_parse_bool(value)
        except ValueError as error:
            raise Ignored(full, str(error)) from None

    def integer(self, name: str, validator: Validator | None = validate_int) -> int | None:
        """`GetIntAnnotation`: None when unset; a non-integer raises."""
        found = self.find(name, validator)
        if found is None:
            return None
        full, value = found
        try:
            return go_atoi(value)
        except ValueError as error:
            raise Ignored(full, str(error)) from None

    def warning(self, annotation: str, reason: str) -> AnnotationProblem:
        """A warning about one of these annotations (by its short or full name)."""
        full = annotation if annotation.startswith(self.prefix) else self.full(annotation)
        return AnnotationProblem(full, reason, "warning")

    def error(self, annotation: str, reason: str) -> AnnotationProblem:
        """An error about one of these annotations (by its short or full name)."""
        full = annotation if annotation.startswith(self.prefix) else self.full(annotation)
        return AnnotationProblem(full, reason, "error")

    def refuse(
        self, annotation: str, reason: str, problems: Sequence[AnnotationProblem] = ()
    ) -> Contribution:
        """The Ingress is not routed: `Extract` fails with a validation error."""
        problem = self.error(annotation, reason)
        return Contribution(problems=(*problems, problem), rejected=problem.reason)

    def deny(
        self,
        annotation: str,
        reason: str,
        *,
        problems: Sequence[AnnotationProblem] = (),
        reads: frozenset[ObjectRef] = frozenset(),
    ) -> Contribution:
        """Every path of the Ingress answers 503: a `LocationDeniedError`."""
        problem = self.error(annotation, f"{reason}; the paths answer 503")
        return Contribution(problems=(*problems, problem), denied=reason, reads=reads)


def _normalize(value: str) -> str:
    # parser.normalizeString: each line's surrounding spaces trimmed (Go's
    # strings.TrimSpace), the lines joined with "\n" again.
    return "\n".join(line.strip() for line in value.split("\n"))
