"""Validation rules of every modelled kind, checked through the public loader.

Each rule of `ingresslib.resources._validation` and `_validators` gets valid cases (no
problem) and invalid cases asserting the exact field path and reason, as kube-apiserver
v1.34 words them (`field.Error.ErrorBody()`). Short messages are spelled out literally; the
long regex messages are built from the validators' constants and pinned to Go's wording
once, in `test_regex_messages_are_go_verbatim`.
"""

from __future__ import annotations

import base64
from typing import Any, cast

import pytest

from ingresslib import ManifestError, Service, load_manifests
from ingresslib.resources._validators import (
    _CONFIG_MAP_KEY_MSG,
    _DNS1035_LABEL_MSG,
    _DNS1123_LABEL_MSG,
    _DNS1123_SUBDOMAIN_MSG,
    _LABEL_VALUE_MSG,
    _QUALIFIED_NAME_MSG,
    _WILDCARD_MSG,
    CONFIG_MAP_KEY_FMT,
    DNS1035_LABEL_FMT,
    DNS1123_LABEL_FMT,
    DNS1123_SUBDOMAIN_FMT,
    LABEL_VALUE_FMT,
    QUALIFIED_NAME_FMT,
    WILDCARD_DNS1123_SUBDOMAIN_FMT,
    regex_error,
)

Problem = tuple[str, str]

# --- the long Go messages ----------------------------------------------------------------

SUBDOMAIN = regex_error(_DNS1123_SUBDOMAIN_MSG, DNS1123_SUBDOMAIN_FMT, "example.com")
LABEL = regex_error(_DNS1123_LABEL_MSG, DNS1123_LABEL_FMT, "my-name", "123-abc")
WILDCARD = regex_error(_WILDCARD_MSG, WILDCARD_DNS1123_SUBDOMAIN_FMT, "*.example.com")
DNS1035 = regex_error(_DNS1035_LABEL_MSG, DNS1035_LABEL_FMT, "my-name", "abc-123")
QUALIFIED = regex_error(_QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, "MyName", "my.name", "123-abc")
LABEL_VALUE = regex_error(_LABEL_VALUE_MSG, LABEL_VALUE_FMT, "MyValue", "my_value", "12345")
CONFIG_KEY = regex_error(
    _CONFIG_MAP_KEY_MSG, CONFIG_MAP_KEY_FMT, "key.name", "KEY_NAME", "key-name"
)
NAME_PART = "name part " + QUALIFIED
QUALIFIED_3_PARTS = (
    "a qualified name "
    + QUALIFIED
    + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
)
DOMAIN_PATH = r"Invalid path (regex used for validation is '[A-Za-z0-9/\-._~%!$&'()*+,;=:]+')"

MAX_63 = "must be no more than 63 characters"
MAX_253 = "must be no more than 253 characters"
PORT_RANGE = "must be between 1 and 65535, inclusive"
NOT_IP = "must be a DNS name, not an IP address"
# kube-apiserver >= 1.32 (kubernetes/kubernetes#128553): field.TooLong says "may not be more
# than N bytes"; "must have at most N bytes" is the wording of 1.31 and older.
TOO_LONG = "Too long: may not be more than {} bytes"


@pytest.mark.parametrize(
    ("built", "verbatim"),
    [
        pytest.param(
            SUBDOMAIN,
            "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters,"
            " '-' or '.', and must start and end with an alphanumeric character (e.g."
            " 'example.com', regex used for validation is"
            r" '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            id="dns1123-subdomain",
        ),
        pytest.param(
            LABEL,
            "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or"
            " '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or"
            " '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
            id="dns1123-label",
        ),
        pytest.param(
            WILDCARD,
            "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS"
            " subdomain, which must consist of lower case alphanumeric characters, '-' or '.'"
            " and end with an alphanumeric character (e.g. '*.example.com', regex used for"
            r" validation is '\*\.[a-z0-9]([-a-z0-9]*[a-z0-9])?"
            r"(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
            id="wildcard-subdomain",
        ),
        pytest.param(
            DNS1035,
            "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start"
            " with an alphabetic character, and end with an alphanumeric character (e.g."
            " 'my-name',  or 'abc-123', regex used for validation is"
            " '[a-z]([-a-z0-9]*[a-z0-9])?')",
            id="dns1035-label",
        ),
        pytest.param(
            QUALIFIED,
            "must consist of alphanumeric characters, '-', '_' or '.', and must start and end"
            " with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc',"
            " regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
            id="qualified-name",
        ),
        pytest.param(
            LABEL_VALUE,
            "a valid label must be an empty string or consist of alphanumeric characters, '-',"
            " '_' or '.', and must start and end with an alphanumeric character (e.g."
            " 'MyValue',  or 'my_value',  or '12345', regex used for validation is"
            " '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
            id="label-value",
        ),
        pytest.param(
            CONFIG_KEY,
            "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g."
            " 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is"
            " '[-._a-zA-Z0-9]+')",
            id="config-key",
        ),
    ],
)
def test_regex_messages_are_go_verbatim(built: str, verbatim: str) -> None:
    # RegexError's double space before "or" is Go's, not a typo.
    assert built == verbatim


# --- helpers -------------------------------------------------------------------------------

NETWORKING = "networking.k8s.io/v1"
SERVICE_BACKEND: dict[str, Any] = {"service": {"name": "web", "port": {"number": 80}}}
ROOT_PATH: dict[str, Any] = {"path": "/", "pathType": "Prefix", "backend": SERVICE_BACKEND}


def problems(*docs: dict[str, Any]) -> list[Problem]:
    """`(field, reason)` of every problem `load_manifests` reports; [] when it loads."""
    try:
        load_manifests(list(docs))
    except ManifestError as error:
        return [(problem.field, problem.reason) for problem in error.errors]
    return []


def invalid(value: str, detail: str) -> str:
    """Go's `Invalid value: %q: detail` for a plain printable string."""
    return f'Invalid value: "{value}": {detail}'


def _meta(metadata: dict[str, Any] | None, name: str) -> dict[str, Any]:
    return {"name": name} if metadata is None else metadata


def ingress(
    *,
    metadata: dict[str, Any] | None = None,
    status: dict[str, Any] | None = None,
    **spec: Any,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": NETWORKING,
        "kind": "Ingress",
        "metadata": _meta(metadata, "x"),
        "spec": spec,
    }
    if status is not None:
        doc["status"] = status
    return doc


def valid_ingress(*, metadata: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    """An Ingress with a default backend, plus whatever `spec` adds."""
    return ingress(metadata=metadata, defaultBackend=SERVICE_BACKEND, **spec)


def ingress_with_host(host: str) -> dict[str, Any]:
    return ingress(rules=[{"host": host, "http": {"paths": [ROOT_PATH]}}])


def ingress_with_path(
    path: str | None, path_type: str | None = "Prefix", backend: Any = SERVICE_BACKEND
) -> dict[str, Any]:
    entry: dict[str, Any] = {"backend": backend}
    if path is not None:
        entry["path"] = path
    if path_type is not None:
        entry["pathType"] = path_type
    return ingress(rules=[{"http": {"paths": [entry]}}])


def ingress_class(*, metadata: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {
        "apiVersion": NETWORKING,
        "kind": "IngressClass",
        "metadata": _meta(metadata, "x"),
        "spec": spec,
    }


def service(*, metadata: dict[str, Any] | None = None, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Service", "metadata": _meta(metadata, "web"), "spec": spec}


def endpoint_slice(
    *,
    metadata: dict[str, Any] | None = None,
    address_type: str | None = "IPv4",
    endpoints: list[dict[str, Any]] | None = None,
    ports: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": _meta(metadata, "web-abc12"),
    }
    if address_type is not None:
        doc["addressType"] = address_type
    if endpoints is not None:
        doc["endpoints"] = endpoints
    if ports is not None:
        doc["ports"] = ports
    return doc


def secret(*, metadata: dict[str, Any] | None = None, **body: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Secret", "metadata": _meta(metadata, "creds"), **body}


def b64(data: str | bytes) -> str:
    raw = data.encode() if isinstance(data, str) else data
    return base64.b64encode(raw).decode("ascii")


def host_of_length(length: int, *, wildcard: bool = False) -> str:
    """A valid-looking (wildcard) DNS name of exactly `length` bytes, in 63-byte labels."""
    prefix = "*." if wildcard else ""
    labels, remaining = [], length - len(prefix)
    while remaining > 0:
        size = min(63, remaining)
        labels.append("a" * size)
        remaining -= size + 1
    host = prefix + ".".join(labels)
    assert len(host) == length, host
    return host


# --- ManifestError rendering ---------------------------------------------------------------


def test_manifest_error_renders_apiserver_style_lines() -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifests(ingress_with_host("1.2.3.4"))
    error = caught.value
    assert str(error) == (
        "1 problem in the manifests:\n"
        '  input #1: Ingress default/x: spec.rules[0].host: Invalid value: "1.2.3.4": '
        "must be a DNS name, not an IP address"
    )
    (problem,) = error.errors
    assert (problem.source, problem.line) == ("input #1", None)
    assert (problem.kind, problem.namespace, problem.name) == ("Ingress", "default", "x")
    assert problem.field == "spec.rules[0].host"
    assert problem.reason == invalid("1.2.3.4", NOT_IP)


def test_manifest_problems_name_their_document_and_cluster_scoped_object() -> None:
    with pytest.raises(ManifestError) as caught:
        load_manifests([valid_ingress(), ingress_class(controller="example.com")])
    (problem,) = caught.value.errors
    assert (problem.source, problem.kind, problem.namespace, problem.name) == (
        "input #2",
        "IngressClass",
        "",
        "x",
    )
    assert str(problem) == (
        'input #2: IngressClass x: spec.controller: Invalid value: "example.com": '
        'must be a domain-prefixed path (such as "acme.io/foo")'
    )


# --- Ingress: rules or defaultBackend ------------------------------------------------------


def test_ingress_without_rules_or_default_backend() -> None:
    assert problems(ingress()) == [
        (
            "spec",
            "Invalid value: []networking.IngressRule(nil): "
            "either `defaultBackend` or `rules` must be specified",
        )
    ]


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param({"defaultBackend": SERVICE_BACKEND}, id="default-backend"),
        pytest.param({"rules": [{"http": {"paths": [ROOT_PATH]}}]}, id="rules"),
        pytest.param({"rules": [{"host": "example.com"}]}, id="rule-without-http"),
        pytest.param(
            {"defaultBackend": SERVICE_BACKEND, "rules": [{"http": {"paths": [ROOT_PATH]}}]},
            id="both",
        ),
    ],
)
def test_ingress_with_rules_or_default_backend_is_valid(spec: dict[str, Any]) -> None:
    assert problems(ingress(**spec)) == []


# --- Ingress: rule hosts -------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        pytest.param("example.com", id="dns-name"),
        pytest.param("a", id="single-letter"),
        pytest.param("123.example.com", id="digit-label"),
        pytest.param("xn--bcher-kva.example", id="punycode"),
        pytest.param("1.2.3.4.5", id="five-numbers-is-no-ip"),
        pytest.param("256.1.1.1", id="octet-out-of-range-is-no-ip"),
        pytest.param("*.example.com", id="wildcard"),
        pytest.param("*.a.b", id="wildcard-short"),
        pytest.param("*.a", id="wildcard-one-label"),
        pytest.param(host_of_length(253), id="253-bytes"),
        pytest.param(host_of_length(253, wildcard=True), id="wildcard-253-bytes"),
    ],
)
def test_valid_rule_host(host: str) -> None:
    assert problems(ingress_with_host(host)) == []


@pytest.mark.parametrize(
    ("host", "details"),
    [
        pytest.param("1.2.3.4", [NOT_IP], id="ipv4"),
        pytest.param("010.1.1.1", [NOT_IP], id="ipv4-leading-zero"),
        pytest.param("255.255.255.255", [NOT_IP], id="ipv4-broadcast"),
        pytest.param("::1", [NOT_IP, SUBDOMAIN], id="ipv6-loopback"),
        pytest.param("2001:db8::1", [NOT_IP, SUBDOMAIN], id="ipv6"),
        pytest.param("::ffff:1.2.3.4", [NOT_IP, SUBDOMAIN], id="ipv4-mapped-ipv6"),
        pytest.param("*", [WILDCARD], id="star"),
        pytest.param("a.*.b", [WILDCARD], id="star-inside"),
        pytest.param("*.*.b", [WILDCARD], id="two-stars"),
        pytest.param("*a.b", [WILDCARD], id="star-without-dot"),
        pytest.param("*.Example.com", [WILDCARD], id="wildcard-uppercase"),
        pytest.param("Example.com", [SUBDOMAIN], id="uppercase"),
        pytest.param("example.com.", [SUBDOMAIN], id="trailing-dot"),
        pytest.param("-a.example.com", [SUBDOMAIN], id="leading-hyphen"),
        pytest.param("a_b.example.com", [SUBDOMAIN], id="underscore"),
        pytest.param("example.com:8080", [SUBDOMAIN], id="port"),
        pytest.param(host_of_length(254), [MAX_253], id="254-bytes"),
        pytest.param(host_of_length(254, wildcard=True), [MAX_253], id="wildcard-254-bytes"),
        pytest.param("A" * 254, [MAX_253, SUBDOMAIN], id="254-bytes-uppercase"),
    ],
)
def test_invalid_rule_host(host: str, details: list[str]) -> None:
    assert problems(ingress_with_host(host)) == [
        ("spec.rules[0].host", invalid(host, detail)) for detail in details
    ]


def test_rule_host_with_a_control_character_is_quoted_as_go_quotes_it() -> None:
    # Go prints the bad value with %q (strconv.Quote): "\x01", not JSON's "\u0001".
    assert problems(ingress_with_host("a\x01b")) == [
        ("spec.rules[0].host", 'Invalid value: "a\\x01b": ' + SUBDOMAIN)
    ]


def test_rule_hosts_are_checked_per_rule_index() -> None:
    doc = ingress(
        rules=[
            {"host": "ok.example.com", "http": {"paths": [ROOT_PATH]}},
            {"host": "Bad.example.com", "http": {"paths": [ROOT_PATH]}},
        ]
    )
    assert problems(doc) == [("spec.rules[1].host", invalid("Bad.example.com", SUBDOMAIN))]


# --- Ingress: paths ------------------------------------------------------------------------

PATH = "spec.rules[0].http.paths[0].path"
PATH_TYPE = "spec.rules[0].http.paths[0].pathType"


@pytest.mark.parametrize("path_type", ["Exact", "Prefix"])
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/foo",
        "/foo/bar",
        "/foo/",
        "/foo.bar",
        "/.well-known/acme",
        "/a..b",
        "/a/..b",
        "/%2e",
        "/a/b.",
    ],
)
def test_valid_exact_and_prefix_paths(path_type: str, path: str) -> None:
    assert problems(ingress_with_path(path, path_type)) == []


ABSOLUTE = "must be an absolute path"


@pytest.mark.parametrize("path_type", ["Exact", "Prefix"])
@pytest.mark.parametrize(
    ("path", "details"),
    [
        pytest.param("foo", [ABSOLUTE], id="relative"),
        pytest.param("foo/bar", [ABSOLUTE], id="relative-nested"),
        pytest.param("/a//b", ["must not contain '//'"], id="double-slash"),
        pytest.param("//", ["must not contain '//'"], id="only-double-slash"),
        pytest.param("/a/./b", ["must not contain '/./'"], id="dot-segment"),
        pytest.param("/a/../b", ["must not contain '/../'"], id="dot-dot-segment"),
        pytest.param("/a%2fb", ["must not contain '%2f'"], id="encoded-slash-lower"),
        pytest.param("/a%2Fb", ["must not contain '%2F'"], id="encoded-slash-upper"),
        pytest.param("/a/..", ["cannot end with '/..'"], id="ends-dot-dot"),
        pytest.param("/..", ["cannot end with '/..'"], id="only-dot-dot"),
        pytest.param("/a/.", ["cannot end with '/.'"], id="ends-dot"),
        pytest.param("/.", ["cannot end with '/.'"], id="only-dot"),
        pytest.param(
            "a//b/./c%2f%2F/..",
            [
                ABSOLUTE,
                "must not contain '//'",
                "must not contain '/./'",
                "must not contain '%2f'",
                "must not contain '%2F'",
                "cannot end with '/..'",
            ],
            id="every-error-in-go-order",
        ),
        pytest.param(
            "/./..",
            ["must not contain '/./'", "cannot end with '/..'"],
            id="sequence-and-suffix",
        ),
    ],
)
def test_invalid_exact_and_prefix_paths(path_type: str, path: str, details: list[str]) -> None:
    assert problems(ingress_with_path(path, path_type)) == [
        (PATH, invalid(path, detail)) for detail in details
    ]


@pytest.mark.parametrize("path_type", ["Exact", "Prefix"])
def test_exact_and_prefix_paths_must_not_be_empty(path_type: str) -> None:
    expected = [(PATH, invalid("", ABSOLUTE))]
    assert problems(ingress_with_path("", path_type)) == expected
    assert problems(ingress_with_path(None, path_type)) == expected


@pytest.mark.parametrize(
    "path",
    [
        pytest.param(None, id="absent"),
        pytest.param("", id="empty"),
        pytest.param("/", id="root"),
        pytest.param("/a//b/../%2f/.", id="no-sequence-checks"),
        pytest.param("/(api|web)/.*", id="regex-like"),
    ],
)
def test_valid_implementation_specific_paths(path: str | None) -> None:
    assert problems(ingress_with_path(path, "ImplementationSpecific")) == []


@pytest.mark.parametrize("path", ["foo", "*", ".*", "~/x"])
def test_relative_implementation_specific_path(path: str) -> None:
    assert problems(ingress_with_path(path, "ImplementationSpecific")) == [
        (PATH, invalid(path, ABSOLUTE))
    ]


def test_missing_path_type_is_required_and_stops_the_path_checks() -> None:
    # Go returns at once: neither the (relative) path nor the (empty) backend is checked.
    assert problems(ingress_with_path("relative", None, backend={})) == [
        (PATH_TYPE, "Required value: pathType must be specified")
    ]


@pytest.mark.parametrize("path_type", ["Regex", "prefix", "exact", ""])
def test_unsupported_path_type(path_type: str) -> None:
    assert problems(ingress_with_path("/", path_type)) == [
        (
            PATH_TYPE,
            f'Unsupported value: "{path_type}": '
            'supported values: "Exact", "ImplementationSpecific", "Prefix"',
        )
    ]


def test_unsupported_path_type_still_checks_the_backend() -> None:
    assert problems(ingress_with_path("/", "Regex", backend={})) == [
        (
            PATH_TYPE,
            'Unsupported value: "Regex": '
            'supported values: "Exact", "ImplementationSpecific", "Prefix"',
        ),
        (
            "spec.rules[0].http.paths[0].backend",
            'Invalid value: "": resource or service backend is required',
        ),
    ]


@pytest.mark.parametrize(
    "http",
    [pytest.param({"paths": []}, id="empty-list"), pytest.param({}, id="absent")],
)
def test_http_paths_are_required(http: dict[str, Any]) -> None:
    doc = ingress(rules=[{"host": "example.com", "http": http}])
    assert problems(doc) == [("spec.rules[0].http.paths", "Required value")]


def test_every_path_of_every_rule_is_checked() -> None:
    doc = ingress(
        rules=[
            {"http": {"paths": [ROOT_PATH]}},
            {"http": {"paths": [ROOT_PATH, {**ROOT_PATH, "path": "x"}]}},
        ]
    )
    assert problems(doc) == [("spec.rules[1].http.paths[1].path", invalid("x", ABSOLUTE))]


# --- Ingress: backends ---------------------------------------------------------------------

BACKEND = "spec.defaultBackend"
RESOURCE: dict[str, Any] = {"apiGroup": "k8s.example.com", "kind": "StorageBucket", "name": "a"}


def backend_problems(backend: Any) -> list[Problem]:
    return problems(ingress(defaultBackend=backend))


def service_backend(port: dict[str, Any], name: str = "web") -> dict[str, Any]:
    return {"service": {"name": name, "port": port}}


def test_backend_with_both_service_and_resource() -> None:
    backend = {**SERVICE_BACKEND, "resource": RESOURCE}
    assert backend_problems(backend) == [
        (BACKEND, 'Invalid value: "": cannot set both resource and service backends')
    ]


def test_backend_with_neither_service_nor_resource() -> None:
    assert backend_problems({}) == [
        (BACKEND, 'Invalid value: "": resource or service backend is required')
    ]


def test_backend_of_a_rule_path_is_checked_at_its_own_path() -> None:
    assert problems(ingress_with_path("/", "Prefix", backend={})) == [
        (
            "spec.rules[0].http.paths[0].backend",
            'Invalid value: "": resource or service backend is required',
        )
    ]


@pytest.mark.parametrize("name", ["web", "a", "my-svc-1", "a" * 63])
def test_valid_backend_service_name(name: str) -> None:
    assert backend_problems(service_backend({"number": 80}, name)) == []


@pytest.mark.parametrize(
    ("name", "details"),
    [
        pytest.param("1abc", [DNS1035], id="leading-digit"),
        pytest.param("Abc", [DNS1035], id="uppercase"),
        pytest.param("my.svc", [DNS1035], id="dot"),
        pytest.param("web-", [DNS1035], id="trailing-hyphen"),
        pytest.param("a" * 64, [MAX_63], id="64-chars"),
        pytest.param("A" * 64, [MAX_63, DNS1035], id="64-chars-uppercase"),
    ],
)
def test_invalid_backend_service_name(name: str, details: list[str]) -> None:
    assert backend_problems(service_backend({"number": 80}, name)) == [
        (f"{BACKEND}.service.name", invalid(name, detail)) for detail in details
    ]


def test_backend_service_name_is_required() -> None:
    assert backend_problems({"service": {"port": {"number": 80}}}) == [
        (f"{BACKEND}.service.name", "Required value")
    ]


def test_backend_service_port_name_and_number_are_exclusive() -> None:
    assert backend_problems(service_backend({"number": 80})) == []
    assert backend_problems(service_backend({"name": "http", "number": 80})) == [
        (BACKEND, 'Invalid value: "": cannot set both port name & port number')
    ]


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param({"service": {"name": "web"}}, id="no-port"),
        pytest.param(service_backend({}), id="empty-port"),
        pytest.param(service_backend({"number": 0}), id="number-zero"),
        pytest.param(service_backend({"name": ""}), id="empty-port-name"),
    ],
)
def test_backend_service_port_is_required(backend: dict[str, Any]) -> None:
    assert backend_problems(backend) == [
        (BACKEND, "Required value: port name or number is required")
    ]


def test_backend_service_name_and_port_both_missing() -> None:
    assert backend_problems({"service": {}}) == [
        (f"{BACKEND}.service.name", "Required value"),
        (BACKEND, "Required value: port name or number is required"),
    ]


@pytest.mark.parametrize("port_name", ["http", "h2c", "a1", "web-api", "abcdefghijklmno"])
def test_valid_backend_service_port_name(port_name: str) -> None:
    backend = {"service": {"name": "web", "port": {"name": port_name}}}
    assert backend_problems(backend) == []


@pytest.mark.parametrize(
    ("port_name", "details"),
    [
        pytest.param("abcdefghijklmnop", ["must be no more than 15 characters"], id="16-chars"),
        pytest.param(
            "http_alt",
            ["must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)"],
            id="underscore",
        ),
        pytest.param("8080", ["must contain at least one letter (a-z)"], id="digits-only"),
        pytest.param("a--b", ["must not contain consecutive hyphens"], id="double-hyphen"),
        pytest.param("-ab", ["must not begin or end with a hyphen"], id="leading-hyphen"),
        pytest.param("ab-", ["must not begin or end with a hyphen"], id="trailing-hyphen"),
        pytest.param(
            "HTTP",
            [
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "must contain at least one letter (a-z)",
            ],
            id="uppercase",
        ),
        pytest.param(
            "-1--2_3456789012-",
            [
                "must be no more than 15 characters",
                "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                "must contain at least one letter (a-z)",
                "must not contain consecutive hyphens",
                "must not begin or end with a hyphen",
            ],
            id="all-five",
        ),
    ],
)
def test_invalid_backend_service_port_name(port_name: str, details: list[str]) -> None:
    backend = {"service": {"name": "web", "port": {"name": port_name}}}
    assert backend_problems(backend) == [
        (f"{BACKEND}.service.port.name", invalid(port_name, detail)) for detail in details
    ]


@pytest.mark.parametrize("number", [1, 80, 65535])
def test_valid_backend_service_port_number(number: int) -> None:
    assert backend_problems(service_backend({"number": number})) == []


@pytest.mark.parametrize("number", [-1, 65536, 100000])
def test_invalid_backend_service_port_number(number: int) -> None:
    assert backend_problems(service_backend({"number": number})) == [
        (f"{BACKEND}.service.port.number", f"Invalid value: {number}: {PORT_RANGE}")
    ]


@pytest.mark.parametrize(
    "resource",
    [
        pytest.param(RESOURCE, id="with-api-group"),
        pytest.param({"kind": "StorageBucket", "name": "static-assets"}, id="core-group"),
        pytest.param({"kind": "Foo.v1", "name": "a.b_c~d"}, id="dots-inside"),
        pytest.param({"kind": "...", "name": ".x"}, id="more-than-two-dots"),
    ],
)
def test_valid_resource_backend(resource: dict[str, str]) -> None:
    assert backend_problems({"resource": resource}) == []


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        pytest.param(
            {"apiGroup": "Bad_Group"},
            [("apiGroup", invalid("Bad_Group", SUBDOMAIN))],
            id="api-group-invalid",
        ),
        pytest.param(
            {"apiGroup": ""}, [("apiGroup", invalid("", SUBDOMAIN))], id="api-group-empty"
        ),
        pytest.param({"kind": "."}, [("kind", invalid(".", "may not be '.'"))], id="kind-dot"),
        pytest.param(
            {"kind": ".."}, [("kind", invalid("..", "may not be '..'"))], id="kind-dot-dot"
        ),
        pytest.param(
            {"kind": "a/b"}, [("kind", invalid("a/b", "may not contain '/'"))], id="kind-slash"
        ),
        pytest.param(
            {"kind": "a%b"},
            [("kind", invalid("a%b", "may not contain '%'"))],
            id="kind-percent",
        ),
        pytest.param({"name": "."}, [("name", invalid(".", "may not be '.'"))], id="name-dot"),
        pytest.param(
            {"name": ".."}, [("name", invalid("..", "may not be '..'"))], id="name-dot-dot"
        ),
        pytest.param(
            {"name": "a/b"}, [("name", invalid("a/b", "may not contain '/'"))], id="name-slash"
        ),
        pytest.param(
            {"name": "50%"},
            [("name", invalid("50%", "may not contain '%'"))],
            id="name-percent",
        ),
        pytest.param(
            {"name": "a/%"},
            [
                ("name", invalid("a/%", "may not contain '/'")),
                ("name", invalid("a/%", "may not contain '%'")),
            ],
            id="name-slash-and-percent",
        ),
        pytest.param({"kind": None}, [("kind", "Required value")], id="kind-missing"),
        pytest.param({"name": ""}, [("name", "Required value")], id="name-empty"),
        pytest.param(
            {"kind": "", "name": None},
            [("kind", "Required value"), ("name", "Required value")],
            id="kind-and-name-missing",
        ),
    ],
)
def test_invalid_resource_backend(override: dict[str, Any], expected: list[Problem]) -> None:
    resource = {key: value for key, value in {**RESOURCE, **override}.items() if value is not None}
    assert backend_problems({"resource": resource}) == [
        (f"{BACKEND}.resource.{field}", reason) for field, reason in expected
    ]


# --- Ingress: TLS --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "tls",
    [
        pytest.param({"hosts": ["example.com"], "secretName": "tls-cert"}, id="host"),
        pytest.param({"hosts": ["*.example.com"]}, id="wildcard-no-secret"),
        pytest.param({"hosts": ["1.2.3.4"]}, id="ip-is-a-valid-subdomain"),
        pytest.param({"secretName": ""}, id="empty-secret-name"),
        pytest.param({"secretName": "my.tls-cert"}, id="dotted-secret-name"),
        pytest.param({}, id="empty"),
    ],
)
def test_valid_tls(tls: dict[str, Any]) -> None:
    assert problems(valid_ingress(tls=[tls])) == []


@pytest.mark.parametrize(
    ("host", "detail"),
    [
        pytest.param("*", WILDCARD, id="star"),
        pytest.param("a.*.example.com", WILDCARD, id="star-inside"),
        pytest.param("*.Example.com", WILDCARD, id="wildcard-uppercase"),
        pytest.param("Bad_Host", SUBDOMAIN, id="invalid"),
        pytest.param("example.com.", SUBDOMAIN, id="trailing-dot"),
    ],
)
def test_invalid_tls_host(host: str, detail: str) -> None:
    doc = valid_ingress(tls=[{"hosts": ["ok.example.com"]}, {"hosts": ["a.example.com", host]}])
    assert problems(doc) == [("spec.tls[1].hosts[1]", invalid(host, detail))]


def test_invalid_tls_host_of_254_bytes() -> None:
    host = host_of_length(254)
    assert problems(valid_ingress(tls=[{"hosts": [host]}])) == [
        ("spec.tls[0].hosts[0]", invalid(host, MAX_253))
    ]


@pytest.mark.parametrize("secret_name", ["Bad_Secret", "tls.", "-tls"])
def test_invalid_tls_secret_name(secret_name: str) -> None:
    assert problems(valid_ingress(tls=[{"secretName": secret_name}])) == [
        ("spec.tls[0].secretName", invalid(secret_name, SUBDOMAIN))
    ]


# --- Ingress: class ------------------------------------------------------------------------

LEGACY_CLASS = "kubernetes.io/ingress.class"


@pytest.mark.parametrize("class_name", ["nginx", "example.com", "a-b.c"])
def test_valid_ingress_class_name(class_name: str) -> None:
    assert problems(valid_ingress(ingressClassName=class_name)) == []


@pytest.mark.parametrize(
    "class_name",
    [pytest.param("Bad_Class", id="invalid"), pytest.param("", id="empty-string")],
)
def test_invalid_ingress_class_name(class_name: str) -> None:
    assert problems(valid_ingress(ingressClassName=class_name)) == [
        ("spec.ingressClassName", invalid(class_name, SUBDOMAIN))
    ]


@pytest.mark.parametrize(
    ("annotation", "spec"),
    [
        pytest.param("nginx", {"ingressClassName": "nginx"}, id="equal"),
        pytest.param("nginx", {}, id="annotation-only"),
        pytest.param(None, {"ingressClassName": "nginx"}, id="class-name-only"),
        pytest.param("Anything Goes", {}, id="annotation-value-unchecked"),
    ],
)
def test_legacy_class_annotation_agreeing_with_class_name(
    annotation: str | None, spec: dict[str, Any]
) -> None:
    annotations = {} if annotation is None else {LEGACY_CLASS: annotation}
    doc = valid_ingress(metadata={"name": "x", "annotations": annotations}, **spec)
    assert problems(doc) == []


def test_legacy_class_annotation_contradicting_class_name() -> None:
    doc = valid_ingress(
        metadata={"name": "x", "annotations": {LEGACY_CLASS: "nginx"}}, ingressClassName="other"
    )
    assert problems(doc) == [
        (
            "annotations.kubernetes.io/ingress.class",
            invalid("nginx", "must match `ingressClassName` when both are specified"),
        )
    ]


# --- Ingress: status -----------------------------------------------------------------------


def status_of(**item: Any) -> dict[str, Any]:
    return {"loadBalancer": {"ingress": [{"ip": "192.0.2.1"}, item]}}


@pytest.mark.parametrize(
    "item",
    [
        pytest.param({"ip": "10.0.0.1"}, id="ipv4"),
        pytest.param({"ip": "010.000.000.001"}, id="ipv4-leading-zeros"),
        pytest.param({"ip": "2001:db8::1"}, id="ipv6"),
        pytest.param({"ip": "::ffff:10.0.0.1"}, id="ipv4-mapped-ipv6"),
        pytest.param({"hostname": "lb.example.com"}, id="hostname"),
        pytest.param({"ip": "10.0.0.1", "hostname": "lb.example.com"}, id="both"),
        pytest.param({}, id="empty"),
    ],
)
def test_valid_load_balancer_status(item: dict[str, Any]) -> None:
    assert problems(valid_ingress(status=status_of(**item))) == []


IP_EXAMPLE = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"


@pytest.mark.parametrize(
    "ip",
    [
        pytest.param("1.2.3", id="three-octets"),
        pytest.param("256.0.0.1", id="octet-out-of-range"),
        pytest.param("lb.example.com", id="hostname"),
        pytest.param("fe80::1%eth0", id="ipv6-zone"),
        pytest.param("10.0.0.0/8", id="cidr"),
    ],
)
def test_invalid_load_balancer_ip(ip: str) -> None:
    assert problems(valid_ingress(status=status_of(ip=ip))) == [
        ("status.loadBalancer.ingress[1].ip", invalid(ip, IP_EXAMPLE))
    ]


@pytest.mark.parametrize(
    ("hostname", "details"),
    [
        pytest.param("Bad_Host", [SUBDOMAIN], id="invalid"),
        pytest.param("1.2.3.4", [NOT_IP], id="ipv4"),
        # The subdomain check comes first here, unlike for rule hosts.
        pytest.param("::1", [SUBDOMAIN, NOT_IP], id="ipv6"),
    ],
)
def test_invalid_load_balancer_hostname(hostname: str, details: list[str]) -> None:
    assert problems(valid_ingress(status=status_of(hostname=hostname))) == [
        ("status.loadBalancer.ingress[1].hostname", invalid(hostname, detail)) for detail in details
    ]


# --- IngressClass --------------------------------------------------------------------------

CONTROLLER = "example.com/ingress-controller"
PARAMS: dict[str, Any] = {"apiGroup": "k8s.example.com", "kind": "Params", "name": "external"}


@pytest.mark.parametrize(
    "controller",
    [
        CONTROLLER,
        "k8s.io/ingress-nginx",
        "a/b",
        "example.com/a/b/c",
        "example.com/~!$&'()*+,;=:%-._",
        pytest.param("example.com/" + "x" * 238, id="250-bytes"),
    ],
)
def test_valid_ingress_class_controller(controller: str) -> None:
    assert len(controller) <= 250
    assert problems(ingress_class(controller=controller)) == []


def test_ingress_class_controller_is_required() -> None:
    assert problems(ingress_class()) == [("spec.controller", "Required value")]
    assert problems(ingress_class(controller="")) == [("spec.controller", "Required value")]


def test_ingress_class_controller_of_251_bytes_is_too_long() -> None:
    controller = "example.com/" + "x" * 239
    assert problems(ingress_class(controller=controller)) == [
        ("spec.controller", TOO_LONG.format(250))
    ]


@pytest.mark.parametrize(
    ("controller", "expected"),
    [
        pytest.param(
            "example.com",
            [invalid("example.com", 'must be a domain-prefixed path (such as "acme.io/foo")')],
            id="no-slash",
        ),
        pytest.param(
            "/ingress",
            [invalid("/ingress", 'must be a domain-prefixed path (such as "acme.io/foo")')],
            id="no-domain",
        ),
        pytest.param(
            "example.com/",
            [invalid("example.com/", 'must be a domain-prefixed path (such as "acme.io/foo")')],
            id="no-path",
        ),
        pytest.param(
            "Example.com/ingress", [invalid("Example.com", SUBDOMAIN)], id="invalid-domain"
        ),
        pytest.param("example.com/a b", [invalid("a b", DOMAIN_PATH)], id="space-in-path"),
        pytest.param("example.com/a?b#c", [invalid("a?b#c", DOMAIN_PATH)], id="query-in-path"),
        pytest.param(
            "Bad_Domain/a b",
            [invalid("Bad_Domain", SUBDOMAIN), invalid("a b", DOMAIN_PATH)],
            id="domain-and-path",
        ),
    ],
)
def test_invalid_ingress_class_controller(controller: str, expected: list[str]) -> None:
    assert problems(ingress_class(controller=controller)) == [
        ("spec.controller", reason) for reason in expected
    ]


@pytest.mark.parametrize(
    "parameters",
    [
        pytest.param(PARAMS, id="cluster-by-default"),
        pytest.param({"kind": "ConfigMap", "name": "cfg"}, id="core-group"),
        pytest.param({**PARAMS, "scope": "Cluster"}, id="cluster"),
        pytest.param({**PARAMS, "scope": "Namespace", "namespace": "infra"}, id="namespace"),
    ],
)
def test_valid_ingress_class_parameters(parameters: dict[str, str]) -> None:
    assert problems(ingress_class(controller=CONTROLLER, parameters=parameters)) == []


@pytest.mark.parametrize(
    ("override", "expected"),
    [
        pytest.param(
            {"apiGroup": "Bad_Group"},
            [("apiGroup", invalid("Bad_Group", SUBDOMAIN))],
            id="api-group-invalid",
        ),
        pytest.param(
            {"apiGroup": ""}, [("apiGroup", invalid("", SUBDOMAIN))], id="api-group-empty"
        ),
        pytest.param({"kind": None}, [("kind", "Required value")], id="kind-missing"),
        pytest.param({"name": ""}, [("name", "Required value")], id="name-missing"),
        pytest.param({"kind": ".."}, [("kind", invalid("..", "may not be '..'"))], id="kind-dots"),
        pytest.param(
            {"name": "a/b%c"},
            [
                ("name", invalid("a/b%c", "may not contain '/'")),
                ("name", invalid("a/b%c", "may not contain '%'")),
            ],
            id="name-slash-percent",
        ),
        pytest.param(
            {"scope": "Global"},
            [("scope", 'Unsupported value: "Global": supported values: "Cluster", "Namespace"')],
            id="scope-unsupported",
        ),
        pytest.param(
            {"scope": "namespace", "namespace": "infra"},
            [
                (
                    "scope",
                    'Unsupported value: "namespace": supported values: "Cluster", "Namespace"',
                )
            ],
            id="scope-lowercase",
        ),
        pytest.param(
            {"scope": "Namespace"},
            [("namespace", "Required value: `parameters.scope` is set to 'Namespace'")],
            id="namespace-scope-without-namespace",
        ),
        pytest.param(
            {"scope": "Namespace", "namespace": "Bad_NS"},
            [("namespace", invalid("Bad_NS", LABEL))],
            id="namespace-invalid",
        ),
        pytest.param(
            {"scope": "Namespace", "namespace": "a.b"},
            [("namespace", invalid("a.b", "must not contain dots"))],
            id="namespace-dotted",
        ),
        pytest.param(
            {"scope": "Namespace", "namespace": ""},
            [("namespace", invalid("", LABEL))],
            id="namespace-empty",
        ),
        pytest.param(
            {"scope": "Cluster", "namespace": "infra"},
            [("namespace", "Forbidden: `parameters.scope` is set to 'Cluster'")],
            id="cluster-scope-with-namespace",
        ),
        pytest.param(
            {"namespace": "infra"},
            [("namespace", "Forbidden: `parameters.scope` is set to 'Cluster'")],
            id="default-scope-with-namespace",
        ),
    ],
)
def test_invalid_ingress_class_parameters(
    override: dict[str, Any], expected: list[Problem]
) -> None:
    parameters = {key: value for key, value in {**PARAMS, **override}.items() if value is not None}
    assert problems(ingress_class(controller=CONTROLLER, parameters=parameters)) == [
        (f"spec.parameters.{field}", reason) for field, reason in expected
    ]


def test_ingress_class_namespace_is_dropped_not_validated() -> None:
    # rest.BeforeCreate clears metadata.namespace of cluster-scoped objects.
    doc = ingress_class(metadata={"name": "x", "namespace": "Not A Namespace"}, controller="a/b")
    assert problems(doc) == []


# --- ObjectMeta ----------------------------------------------------------------------------

KIND_BUILDERS = {
    "Ingress": lambda metadata: valid_ingress(metadata=metadata),
    "IngressClass": lambda metadata: ingress_class(metadata=metadata, controller=CONTROLLER),
    "Service": lambda metadata: service(metadata=metadata, ports=[{"port": 80}]),
    "EndpointSlice": lambda metadata: endpoint_slice(metadata=metadata),
    "Secret": lambda metadata: secret(metadata=metadata),
}


@pytest.mark.parametrize("kind", list(KIND_BUILDERS))
@pytest.mark.parametrize(
    "metadata", [pytest.param({}, id="no-name"), pytest.param({"name": ""}, id="empty-name")]
)
def test_name_is_required(kind: str, metadata: dict[str, Any]) -> None:
    assert problems(KIND_BUILDERS[kind](metadata)) == [
        ("metadata.name", "Required value: name or generateName is required")
    ]


def test_name_is_required_without_metadata() -> None:
    doc = valid_ingress()
    del doc["metadata"]
    assert problems(doc) == [("metadata.name", "Required value: name or generateName is required")]


@pytest.mark.parametrize(
    ("kind", "name"),
    [
        pytest.param("Ingress", "my.ingress", id="ingress-dotted"),
        pytest.param("IngressClass", "example.com", id="ingress-class-dotted"),
        pytest.param("Service", "my-svc", id="service"),
        pytest.param("EndpointSlice", "my-svc.abc12", id="endpoint-slice-dotted"),
        pytest.param("Secret", "tls.example.com", id="secret-dotted"),
        pytest.param("Ingress", host_of_length(253), id="ingress-253-bytes"),
        pytest.param("Service", "a" * 63, id="service-63-bytes"),
    ],
)
def test_valid_names(kind: str, name: str) -> None:
    assert problems(KIND_BUILDERS[kind]({"name": name})) == []


@pytest.mark.parametrize(
    ("kind", "name", "details"),
    [
        pytest.param("Ingress", "Bad_Name", [SUBDOMAIN], id="ingress"),
        pytest.param("Ingress", "x.", [SUBDOMAIN], id="ingress-trailing-dot"),
        pytest.param("Ingress", host_of_length(254), [MAX_253], id="ingress-254-bytes"),
        pytest.param("IngressClass", "Bad_Name", [SUBDOMAIN], id="ingress-class"),
        pytest.param("EndpointSlice", "Bad_Name", [SUBDOMAIN], id="endpoint-slice"),
        pytest.param("Secret", "Bad_Name", [SUBDOMAIN], id="secret"),
        # Service names are DNS-1035 labels: no dots, no leading digit, at most 63 bytes.
        pytest.param("Service", "my.svc", [DNS1035], id="service-dotted"),
        pytest.param("Service", "1svc", [DNS1035], id="service-leading-digit"),
        pytest.param("Service", "Svc", [DNS1035], id="service-uppercase"),
        pytest.param("Service", "a" * 64, [MAX_63], id="service-64-bytes"),
    ],
)
def test_invalid_names(kind: str, name: str, details: list[str]) -> None:
    assert problems(KIND_BUILDERS[kind]({"name": name})) == [
        ("metadata.name", invalid(name, detail)) for detail in details
    ]


@pytest.mark.parametrize("kind", ["Ingress", "Service", "EndpointSlice", "Secret"])
@pytest.mark.parametrize(
    ("namespace", "details"),
    [
        pytest.param("Bad_NS", [LABEL], id="invalid"),
        pytest.param("team.a", ["must not contain dots"], id="dotted"),
        pytest.param("a" * 64, [MAX_63], id="64-chars"),
        pytest.param("-ns", [LABEL], id="leading-hyphen"),
    ],
)
def test_invalid_namespace(kind: str, namespace: str, details: list[str]) -> None:
    doc = KIND_BUILDERS[kind]({"name": "x", "namespace": namespace})
    assert problems(doc) == [("metadata.namespace", invalid(namespace, d)) for d in details]


def test_missing_namespace_defaults_and_valid_namespace_passes() -> None:
    assert problems(valid_ingress(metadata={"name": "x"})) == []
    assert problems(valid_ingress(metadata={"name": "x", "namespace": "a" * 63})) == []
    assert problems(valid_ingress(metadata={"name": "x", "namespace": ""})) == []


@pytest.mark.parametrize(
    "labels",
    [
        pytest.param({"app": "web"}, id="plain"),
        pytest.param({"app.kubernetes.io/name": "Web_1.x"}, id="prefixed"),
        pytest.param({"example.com/Key_1": ""}, id="empty-value"),
        pytest.param({"k" * 63: "v" * 63}, id="63-chars"),
        pytest.param({"a": "a"}, id="one-char"),
    ],
)
def test_valid_labels(labels: dict[str, str]) -> None:
    assert problems(valid_ingress(metadata={"name": "x", "labels": labels})) == []


@pytest.mark.parametrize(
    ("key", "details"),
    [
        pytest.param("bad key", [NAME_PART], id="space"),
        pytest.param("-app", [NAME_PART], id="leading-hyphen"),
        pytest.param("app_", [NAME_PART], id="trailing-underscore"),
        pytest.param("k" * 64, ["name part " + MAX_63], id="name-64-chars"),
        pytest.param("/app", ["prefix part must be non-empty"], id="empty-prefix"),
        pytest.param(
            "Example.com/app", ["prefix part " + SUBDOMAIN], id="uppercase-prefix-in-labels"
        ),
        pytest.param(
            host_of_length(254) + "/app", ["prefix part " + MAX_253], id="prefix-254-bytes"
        ),
        pytest.param("a/b/c", [QUALIFIED_3_PARTS], id="two-slashes"),
        # Go's IsQualifiedName adds the regex error to "must be non-empty" for an empty name.
        pytest.param(
            "example.com/", ["name part must be non-empty", NAME_PART], id="empty-name-part"
        ),
        pytest.param("", ["name part must be non-empty", NAME_PART], id="empty-key"),
    ],
)
def test_invalid_label_key(key: str, details: list[str]) -> None:
    doc = valid_ingress(metadata={"name": "x", "labels": {key: "v"}})
    assert problems(doc) == [("metadata.labels", invalid(key, detail)) for detail in details]


@pytest.mark.parametrize(
    ("value", "details"),
    [
        pytest.param("bad value", [LABEL_VALUE], id="space"),
        pytest.param("-v", [LABEL_VALUE], id="leading-hyphen"),
        pytest.param("a/b", [LABEL_VALUE], id="slash"),
        pytest.param("v" * 64, [MAX_63], id="64-chars"),
        pytest.param("v" * 63 + "-", [MAX_63, LABEL_VALUE], id="64-chars-trailing-hyphen"),
    ],
)
def test_invalid_label_value(value: str, details: list[str]) -> None:
    doc = valid_ingress(metadata={"name": "x", "labels": {"app": value}})
    assert problems(doc) == [("metadata.labels", invalid(value, detail)) for detail in details]


@pytest.mark.parametrize(
    "key",
    [
        "note",
        "example.com/note",
        # Annotation keys are checked lower-cased, so upper case is fine anywhere.
        "Example.COM/Note",
        "NOTE",
        LEGACY_CLASS,
    ],
)
def test_valid_annotation_key(key: str) -> None:
    assert problems(valid_ingress(metadata={"name": "x", "annotations": {key: "any value"}})) == []


@pytest.mark.parametrize(
    ("key", "details"),
    [
        pytest.param("Bad Key", [NAME_PART], id="space"),
        pytest.param("/note", ["prefix part must be non-empty"], id="empty-prefix"),
        pytest.param("a/b/c", [QUALIFIED_3_PARTS], id="two-slashes"),
        pytest.param("Bad_Prefix/note", ["prefix part " + SUBDOMAIN], id="bad-prefix"),
        pytest.param(
            "example.com/", ["name part must be non-empty", NAME_PART], id="empty-name-part"
        ),
    ],
)
def test_invalid_annotation_key(key: str, details: list[str]) -> None:
    doc = valid_ingress(metadata={"name": "x", "annotations": {key: "v"}})
    # The value shown is the key as written, not lower-cased.
    assert problems(doc) == [("metadata.annotations", invalid(key, detail)) for detail in details]


ANNOTATIONS_LIMIT = 256 * 1024


def test_annotations_of_256_kib_are_valid() -> None:
    annotations = {"a": "x" * (ANNOTATIONS_LIMIT - 1)}
    assert problems(valid_ingress(metadata={"name": "x", "annotations": annotations})) == []


@pytest.mark.parametrize(
    "annotations",
    [
        pytest.param({"a": "x" * ANNOTATIONS_LIMIT}, id="one-byte-over"),
        pytest.param({"a": "x" * 200_000, "b": "y" * 70_000}, id="summed-over-keys"),
        # Bytes, not characters: 87,382 three-byte characters are 262,146 bytes.
        pytest.param({"a": "\u20ac" * 87_382}, id="utf8-bytes"),
    ],
)
def test_annotations_over_256_kib_are_too_long(annotations: dict[str, str]) -> None:
    doc = valid_ingress(metadata={"name": "x", "annotations": annotations})
    assert problems(doc) == [("metadata.annotations", TOO_LONG.format(ANNOTATIONS_LIMIT))]


@pytest.mark.parametrize("generation", [0, 1, 2**62])
def test_valid_generation(generation: int) -> None:
    assert problems(valid_ingress(metadata={"name": "x", "generation": generation})) == []


@pytest.mark.parametrize("generation", [-1, -(2**63)])
def test_negative_generation(generation: int) -> None:
    doc = valid_ingress(metadata={"name": "x", "generation": generation})
    assert problems(doc) == [
        ("metadata.generation", f"Invalid value: {generation}: must be greater than or equal to 0")
    ]


# --- Service -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param({"ports": [{"port": 80}]}, id="one-unnamed-port"),
        pytest.param(
            {"ports": [{"name": "http", "port": 80}, {"name": "https", "port": 443}]},
            id="named-ports",
        ),
        pytest.param({"clusterIP": "None"}, id="headless-without-ports"),
        pytest.param({"type": "ExternalName", "externalName": "db.example.com"}, id="external"),
        pytest.param(
            {"type": "ExternalName", "externalName": "db.example.com."},
            id="external-trailing-dot",
        ),
        pytest.param({"type": "NodePort", "ports": [{"port": 80}]}, id="node-port"),
        pytest.param({"type": "LoadBalancer", "ports": [{"port": 80}]}, id="load-balancer"),
        pytest.param({"type": "ClusterIP", "ports": [{"port": 80}]}, id="cluster-ip"),
        pytest.param(
            {
                "ports": [
                    {"name": "dns", "port": 53, "protocol": "UDP"},
                    {"name": "dns-tcp", "port": 53, "protocol": "TCP"},
                    {"name": "sctp", "port": 53, "protocol": "SCTP"},
                ]
            },
            id="same-port-other-protocols",
        ),
    ],
)
def test_valid_service(spec: dict[str, Any]) -> None:
    assert problems(service(**spec)) == []


def test_service_ports_are_required() -> None:
    assert problems(service()) == [("spec.ports", "Required value")]
    assert problems(service(ports=[])) == [("spec.ports", "Required value")]
    assert problems(service(type="NodePort", clusterIP="10.0.0.1")) == [
        ("spec.ports", "Required value")
    ]


def test_every_port_of_a_multi_port_service_needs_a_name() -> None:
    doc = service(ports=[{"port": 80}, {"name": "https", "port": 443}, {"port": 8080}])
    assert problems(doc) == [
        ("spec.ports[0].name", "Required value"),
        ("spec.ports[2].name", "Required value"),
    ]


@pytest.mark.parametrize(
    ("name", "details"),
    [
        pytest.param("HTTP", [LABEL], id="uppercase"),
        pytest.param("http_alt", [LABEL], id="underscore"),
        pytest.param("a.b", ["must not contain dots"], id="dotted"),
        pytest.param("a" * 64, [MAX_63], id="64-chars"),
    ],
)
def test_invalid_service_port_name(name: str, details: list[str]) -> None:
    assert problems(service(ports=[{"name": name, "port": 80}])) == [
        ("spec.ports[0].name", invalid(name, detail)) for detail in details
    ]


def test_duplicate_service_port_names() -> None:
    doc = service(
        ports=[
            {"name": "http", "port": 80},
            {"name": "http", "port": 81},
            {"name": "http", "port": 82},
        ]
    )
    assert problems(doc) == [
        ("spec.ports[1].name", 'Duplicate value: "http"'),
        ("spec.ports[2].name", 'Duplicate value: "http"'),
    ]


@pytest.mark.parametrize("port", [1, 80, 65535])
def test_valid_service_port_number(port: int) -> None:
    assert problems(service(ports=[{"port": port, "targetPort": 8080}])) == []


@pytest.mark.parametrize("port", [0, -1, 65536])
def test_invalid_service_port_number(port: int) -> None:
    assert problems(service(ports=[{"port": port, "targetPort": 8080}])) == [
        ("spec.ports[0].port", f"Invalid value: {port}: {PORT_RANGE}")
    ]


def test_invalid_service_port_number_is_also_the_defaulted_target_port() -> None:
    # SetDefaults_Service: an absent targetPort becomes the port, then it is validated too.
    assert problems(service(ports=[{"port": 65536}])) == [
        ("spec.ports[0].port", f"Invalid value: 65536: {PORT_RANGE}"),
        ("spec.ports[0].targetPort", f"Invalid value: 65536: {PORT_RANGE}"),
    ]


@pytest.mark.parametrize("protocol", ["HTTP", "tcp", "ICMP"])
def test_unsupported_service_port_protocol(protocol: str) -> None:
    assert problems(service(ports=[{"port": 80, "protocol": protocol}])) == [
        (
            "spec.ports[0].protocol",
            f'Unsupported value: "{protocol}": supported values: "SCTP", "TCP", "UDP"',
        )
    ]


def test_duplicate_service_port_and_protocol() -> None:
    # Go reports the map key, a core.ServicePort, with %#v.
    doc = service(ports=[{"name": "a", "port": 80}, {"name": "b", "port": 80, "protocol": "TCP"}])
    assert problems(doc) == [
        (
            "spec.ports[1]",
            'Duplicate value: core.ServicePort{Name:"", Protocol:"TCP", '
            "AppProtocol:(*string)(nil), Port:80, "
            'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
        )
    ]


@pytest.mark.parametrize(
    "target_port",
    [
        pytest.param(8080, id="number"),
        pytest.param(1, id="one"),
        pytest.param(65535, id="max"),
        pytest.param("http", id="name"),
        pytest.param("web-8080", id="name-with-digits"),
        # SetDefaults_Service replaces 0 and "" by the port before validation.
        pytest.param(0, id="zero-defaults-to-port"),
        pytest.param("", id="empty-defaults-to-port"),
    ],
)
def test_valid_service_target_port(target_port: int | str) -> None:
    assert problems(service(ports=[{"port": 80, "targetPort": target_port}])) == []


@pytest.mark.parametrize(
    ("target_port", "reasons"),
    [
        pytest.param(-1, [f"Invalid value: -1: {PORT_RANGE}"], id="negative"),
        pytest.param(65536, [f"Invalid value: 65536: {PORT_RANGE}"], id="too-big"),
        pytest.param(
            "HTTP",
            [
                invalid(
                    "HTTP",
                    "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)",
                ),
                invalid("HTTP", "must contain at least one letter (a-z)"),
            ],
            id="uppercase-name",
        ),
        pytest.param(
            "8080", [invalid("8080", "must contain at least one letter (a-z)")], id="digit-string"
        ),
        pytest.param(
            "web--api", [invalid("web--api", "must not contain consecutive hyphens")], id="hyphens"
        ),
        pytest.param(
            "a-very-long-port-name",
            [invalid("a-very-long-port-name", "must be no more than 15 characters")],
            id="too-long-name",
        ),
    ],
)
def test_invalid_service_target_port(target_port: int | str, reasons: list[str]) -> None:
    assert problems(service(ports=[{"port": 80, "targetPort": target_port}])) == [
        ("spec.ports[0].targetPort", reason) for reason in reasons
    ]


@pytest.mark.parametrize("service_type", ["Headless", "clusterip", "NodePorts"])
def test_unsupported_service_type(service_type: str) -> None:
    assert problems(service(type=service_type, ports=[{"port": 80}])) == [
        (
            "spec.type",
            f'Unsupported value: "{service_type}": '
            'supported values: "ClusterIP", "ExternalName", "LoadBalancer", "NodePort"',
        )
    ]


@pytest.mark.parametrize(
    "spec",
    [
        pytest.param({}, id="absent"),
        pytest.param({"externalName": ""}, id="empty"),
        # Go trims one trailing dot first; nothing is left.
        pytest.param({"externalName": "."}, id="only-a-dot"),
    ],
)
def test_external_name_is_required(spec: dict[str, Any]) -> None:
    assert problems(service(type="ExternalName", **spec)) == [
        ("spec.externalName", "Required value")
    ]


@pytest.mark.parametrize(
    ("external_name", "shown", "details"),
    [
        pytest.param("Bad_Name", "Bad_Name", [SUBDOMAIN], id="invalid"),
        pytest.param("-db.example.com", "-db.example.com", [SUBDOMAIN], id="leading-hyphen"),
        pytest.param("db..example.com", "db..example.com", [SUBDOMAIN], id="empty-label"),
        # The value shown is the one checked: without its trailing dot.
        pytest.param("bad_name.", "bad_name", [SUBDOMAIN], id="invalid-with-trailing-dot"),
        pytest.param("db.example.com..", "db.example.com.", [SUBDOMAIN], id="two-trailing-dots"),
        pytest.param(host_of_length(254), host_of_length(254), [MAX_253], id="254-bytes"),
    ],
)
def test_invalid_external_name(external_name: str, shown: str, details: list[str]) -> None:
    assert problems(service(type="ExternalName", externalName=external_name)) == [
        ("spec.externalName", invalid(shown, detail)) for detail in details
    ]


def test_external_name_of_253_bytes_plus_trailing_dot_is_valid() -> None:
    doc = service(type="ExternalName", externalName=host_of_length(253) + ".")
    assert problems(doc) == []


@pytest.mark.parametrize("distribution", ["PreferClose", "PreferSameZone", "PreferSameNode"])
def test_valid_traffic_distribution(distribution: str) -> None:
    assert problems(service(ports=[{"port": 80}], trafficDistribution=distribution)) == []


@pytest.mark.parametrize("distribution", ["Random", "preferClose", ""])
def test_unsupported_traffic_distribution(distribution: str) -> None:
    assert problems(service(ports=[{"port": 80}], trafficDistribution=distribution)) == [
        (
            "spec.trafficDistribution",
            f'Unsupported value: "{distribution}": '
            'supported values: "PreferClose", "PreferSameNode", "PreferSameZone"',
        )
    ]


@pytest.mark.parametrize(
    "app_protocol", ["http", "h2c", "kubernetes.io/h2c", "kubernetes.io/ws", "example.com/My_Proto"]
)
def test_valid_service_app_protocol(app_protocol: str) -> None:
    assert problems(service(ports=[{"port": 80, "appProtocol": app_protocol}])) == []


@pytest.mark.parametrize(
    ("app_protocol", "details"),
    [
        pytest.param("my proto", [NAME_PART], id="space"),
        pytest.param("", ["name part must be non-empty", NAME_PART], id="empty"),
        pytest.param("a/b/c", [QUALIFIED_3_PARTS], id="two-slashes"),
        pytest.param("Kubernetes.io/h2c", ["prefix part " + SUBDOMAIN], id="uppercase-prefix"),
        pytest.param("/h2c", ["prefix part must be non-empty"], id="empty-prefix"),
    ],
)
def test_invalid_service_app_protocol(app_protocol: str, details: list[str]) -> None:
    assert problems(service(ports=[{"port": 80, "appProtocol": app_protocol}])) == [
        ("spec.ports[0].appProtocol", invalid(app_protocol, detail)) for detail in details
    ]


# --- EndpointSlice -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address_type", "addresses"),
    [
        pytest.param("IPv4", ["10.0.0.1", "192.0.2.7"], id="ipv4"),
        pytest.param("IPv4", ["010.000.000.001"], id="ipv4-leading-zeros"),
        pytest.param("IPv4", ["::ffff:10.0.0.1"], id="ipv4-mapped-ipv6-is-ipv4"),
        pytest.param("IPv6", ["2001:db8::1", "fd00::a"], id="ipv6"),
        pytest.param("FQDN", ["db.example.com"], id="fqdn"),
        pytest.param("FQDN", ["db.example.com."], id="fqdn-trailing-dot"),
    ],
)
def test_valid_endpoint_addresses(address_type: str, addresses: list[str]) -> None:
    doc = endpoint_slice(address_type=address_type, endpoints=[{"addresses": addresses}])
    assert problems(doc) == []


@pytest.mark.parametrize(
    ("address_type", "address", "reason"),
    [
        pytest.param(
            "IPv4", "2001:db8::1", invalid("2001:db8::1", "must be a valid IPv4 address"), id="v6"
        ),
        pytest.param(
            "IPv6", "10.0.0.1", invalid("10.0.0.1", "must be a valid IPv6 address"), id="v4"
        ),
        pytest.param(
            "IPv6",
            "::ffff:10.0.0.1",
            invalid("::ffff:10.0.0.1", "must be a valid IPv6 address"),
            id="ipv4-mapped-is-not-ipv6",
        ),
        pytest.param(
            "FQDN", "Bad_Host.example.com", invalid("Bad_Host.example.com", SUBDOMAIN), id="fqdn"
        ),
        pytest.param(
            "FQDN",
            "localhost",
            invalid("localhost", "should be a domain with at least two segments separated by dots"),
            id="fqdn-one-label",
        ),
        # IsFullyQualifiedDomainName also checks each label, and shows the bad label.
        pytest.param(
            "FQDN", "a" * 64 + ".example.com", invalid("a" * 64, MAX_63), id="fqdn-64-char-label"
        ),
    ],
)
def test_invalid_endpoint_address(address_type: str, address: str, reason: str) -> None:
    doc = endpoint_slice(address_type=address_type, endpoints=[{"addresses": [address]}])
    assert problems(doc) == [("endpoints[0].addresses[0]", reason)]


def test_endpoint_addresses_are_checked_per_index() -> None:
    doc = endpoint_slice(
        endpoints=[{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2", "fd00::1"]}]
    )
    assert problems(doc) == [
        ("endpoints[1].addresses[1]", invalid("fd00::1", "must be a valid IPv4 address"))
    ]


@pytest.mark.parametrize("address_type", ["IP", "ipv4", "Hostname"])
def test_unsupported_address_type(address_type: str) -> None:
    assert problems(endpoint_slice(address_type=address_type)) == [
        (
            "addressType",
            f'Unsupported value: "{address_type}": supported values: "FQDN", "IPv4", "IPv6"',
        )
    ]


def test_address_type_is_required() -> None:
    assert problems(endpoint_slice(address_type=None)) == [("addressType", "Required value")]


def test_endpoint_needs_an_address() -> None:
    doc = endpoint_slice(endpoints=[{"addresses": ["10.0.0.1"]}, {"addresses": []}, {}])
    assert problems(doc) == [
        ("endpoints[1].addresses", "Required value: must contain at least 1 address"),
        ("endpoints[2].addresses", "Required value: must contain at least 1 address"),
    ]


def test_endpoint_has_at_most_100_addresses() -> None:
    assert problems(endpoint_slice(endpoints=[{"addresses": ["10.0.0.1"] * 100}])) == []
    assert problems(endpoint_slice(endpoints=[{"addresses": ["10.0.0.1"] * 101}])) == [
        ("endpoints[0].addresses", "Too many: 101: must have at most 100 items")
    ]


def test_endpoint_slice_has_at_most_1000_endpoints() -> None:
    endpoint = {"addresses": ["10.0.0.1"]}
    assert problems(endpoint_slice(endpoints=[endpoint] * 1000)) == []
    assert problems(endpoint_slice(endpoints=[endpoint] * 1001)) == [
        ("endpoints", "Too many: 1001: must have at most 1000 items")
    ]


def test_too_many_endpoints_are_not_checked_one_by_one() -> None:
    # validateEndpoints returns after TooMany, before looking at any endpoint.
    assert problems(endpoint_slice(endpoints=[{}] * 1001)) == [
        ("endpoints", "Too many: 1001: must have at most 1000 items")
    ]


@pytest.mark.parametrize(
    ("hostname", "details"),
    [
        pytest.param("Pod_1", [LABEL], id="invalid"),
        pytest.param("pod.a", ["must not contain dots"], id="dotted"),
        pytest.param("p" * 64, [MAX_63], id="64-chars"),
        pytest.param("", [LABEL], id="empty"),
    ],
)
def test_invalid_endpoint_hostname(hostname: str, details: list[str]) -> None:
    doc = endpoint_slice(endpoints=[{"addresses": ["10.0.0.1"], "hostname": hostname}])
    assert problems(doc) == [
        ("endpoints[0].hostname", invalid(hostname, detail)) for detail in details
    ]


@pytest.mark.parametrize(
    ("node_name", "details"),
    [
        pytest.param("Node_1", [SUBDOMAIN], id="invalid"),
        pytest.param("node-1.", [SUBDOMAIN], id="trailing-dot"),
        pytest.param(host_of_length(254), [MAX_253], id="254-bytes"),
    ],
)
def test_invalid_endpoint_node_name(node_name: str, details: list[str]) -> None:
    doc = endpoint_slice(endpoints=[{"addresses": ["10.0.0.1"], "nodeName": node_name}])
    assert problems(doc) == [
        ("endpoints[0].nodeName", invalid(node_name, detail)) for detail in details
    ]


def test_valid_endpoint_hostname_and_node_name() -> None:
    endpoint = {"addresses": ["10.0.0.1"], "hostname": "pod-1", "nodeName": "node-1.zone-a"}
    assert problems(endpoint_slice(endpoints=[endpoint])) == []


@pytest.mark.parametrize(
    "ports",
    [
        pytest.param([{"port": 8080}], id="unnamed"),
        pytest.param([{"name": "http", "port": 80, "protocol": "TCP"}], id="named"),
        pytest.param(
            [{"name": "dns", "port": 53, "protocol": "UDP"}, {"name": "x", "port": 53}],
            id="two",
        ),
        pytest.param([{"name": "all"}], id="no-port-number"),
        pytest.param([{"appProtocol": "kubernetes.io/h2c", "port": 80}], id="app-protocol"),
    ],
)
def test_valid_endpoint_ports(ports: list[dict[str, Any]]) -> None:
    assert problems(endpoint_slice(ports=ports)) == []


@pytest.mark.parametrize(
    ("port", "expected"),
    [
        pytest.param({"name": "HTTP"}, [("name", invalid("HTTP", LABEL))], id="name-uppercase"),
        pytest.param(
            {"name": "a.b"}, [("name", invalid("a.b", "must not contain dots"))], id="name-dotted"
        ),
        pytest.param(
            {"protocol": "HTTP"},
            [("protocol", 'Unsupported value: "HTTP": supported values: "SCTP", "TCP", "UDP"')],
            id="protocol",
        ),
        # ingresslib-specific: Go's validatePorts does not range-check `port`.
        pytest.param({"port": 0}, [("port", f"Invalid value: 0: {PORT_RANGE}")], id="port-0"),
        pytest.param(
            {"port": 65536}, [("port", f"Invalid value: 65536: {PORT_RANGE}")], id="port-65536"
        ),
        pytest.param(
            {"appProtocol": "my proto"},
            [("appProtocol", invalid("my proto", NAME_PART))],
            id="app-protocol",
        ),
    ],
)
def test_invalid_endpoint_port(port: dict[str, Any], expected: list[Problem]) -> None:
    assert problems(endpoint_slice(ports=[port])) == [
        (f"ports[0].{field}", reason) for field, reason in expected
    ]


def test_duplicate_endpoint_port_names() -> None:
    ports: list[dict[str, Any]] = [{"name": "http"}, {"name": "http"}, {"port": 1}, {"name": ""}]
    assert problems(endpoint_slice(ports=ports)) == [
        ("ports[1].name", 'Duplicate value: "http"'),
        ("ports[3].name", 'Duplicate value: ""'),
    ]


# --- Secret --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key",
    [
        pytest.param("tls.crt", id="dotted"),
        pytest.param("KEY_NAME", id="upper-underscore"),
        pytest.param("key-name", id="hyphen"),
        pytest.param(".dotfile", id="leading-dot"),
        pytest.param("a..b", id="inner-dot-dot"),
        pytest.param("x..", id="trailing-dot-dot"),
        pytest.param("k" * 253, id="253-chars"),
    ],
)
def test_valid_secret_data_key(key: str) -> None:
    assert problems(secret(data={key: b64("v")})) == []


@pytest.mark.parametrize(
    ("key", "details"),
    [
        pytest.param("bad key", [CONFIG_KEY], id="space"),
        pytest.param("a/b", [CONFIG_KEY], id="slash"),
        pytest.param(".", ["must not be '.'"], id="dot"),
        pytest.param("..", ["must not be '..'"], id="dot-dot"),
        pytest.param("..x", ["must not start with '..'"], id="dot-dot-prefix"),
        pytest.param("../x", [CONFIG_KEY, "must not start with '..'"], id="parent-path"),
        pytest.param("k" * 254, [MAX_253], id="254-chars"),
    ],
)
def test_invalid_secret_data_key(key: str, details: list[str]) -> None:
    assert problems(secret(data={key: b64("v")})) == [
        (f"data[{key}]", invalid(key, detail)) for detail in details
    ]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param({"data": {"tls.crt": b64("cert"), "tls.key": b64("key")}}, id="data"),
        pytest.param({"stringData": {"tls.crt": "cert", "tls.key": "key"}}, id="string-data"),
        pytest.param(
            {"data": {"tls.crt": b64("cert")}, "stringData": {"tls.key": "key"}}, id="merged"
        ),
        pytest.param({"data": {"tls.crt": "", "tls.key": ""}}, id="empty-values-exist"),
    ],
)
def test_valid_tls_secret(body: dict[str, Any]) -> None:
    assert problems(secret(type="kubernetes.io/tls", **body)) == []


@pytest.mark.parametrize(
    ("data", "missing"),
    [
        pytest.param({}, ["tls.crt", "tls.key"], id="neither"),
        pytest.param({"tls.crt": b64("cert")}, ["tls.key"], id="no-key"),
        pytest.param({"tls.key": b64("key")}, ["tls.crt"], id="no-cert"),
        pytest.param({"tls.pem": b64("x")}, ["tls.crt", "tls.key"], id="other-keys"),
    ],
)
def test_tls_secret_requires_cert_and_key(data: dict[str, Any], missing: list[str]) -> None:
    assert problems(secret(type="kubernetes.io/tls", data=data)) == [
        (f"data[{key}]", "Required value") for key in missing
    ]


@pytest.mark.parametrize("secret_type", [None, "Opaque", "example.com/custom"])
def test_other_secret_types_require_no_keys(secret_type: str | None) -> None:
    body: dict[str, Any] = {} if secret_type is None else {"type": secret_type}
    assert problems(secret(**body)) == []


def test_string_data_is_merged_into_data_overriding_it() -> None:
    loaded = load_manifests(
        secret(
            type="kubernetes.io/tls",
            data={"tls.crt": b64("old cert"), "extra": b64("kept")},
            stringData={"tls.crt": "new cert", "tls.key": "key"},
        )
    )
    (loaded_secret,) = loaded.secrets
    assert dict(loaded_secret.data) == {
        "tls.crt": b"new cert",
        "extra": b"kept",
        "tls.key": b"key",
    }


def test_string_data_keys_are_validated_as_data_keys() -> None:
    assert problems(secret(stringData={"bad key": "v", "..": "w"})) == [
        ("data[bad key]", invalid("bad key", CONFIG_KEY)),
        ("data[..]", invalid("..", "must not be '..'")),
    ]


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        pytest.param("abc", "illegal base64 data: Incorrect padding", id="padding"),
        pytest.param("a!bc", "illegal base64 data: Only base64 data is allowed", id="alphabet"),
        pytest.param(5, "expected base64 string, got integer", id="integer"),
        pytest.param(["YQ=="], "expected base64 string, got array", id="array"),
    ],
)
def test_secret_data_that_is_not_base64(value: int | list[str] | str, reason: str) -> None:
    assert problems(secret(data={"ok": b64("v"), "k": value})) == [("data[k]", reason)]


def test_secret_that_does_not_decode_is_not_validated() -> None:
    # The apiserver rejects the body before validation; so does the loader.
    doc = secret(metadata={"name": "Bad_Name"}, type="kubernetes.io/tls", data={"k": "abc"})
    assert problems(doc) == [("data[k]", "illegal base64 data: Incorrect padding")]


SECRET_LIMIT = 1024 * 1024


def test_secret_data_of_1_mib_is_valid() -> None:
    assert problems(secret(data={"a": b64(b"x" * (SECRET_LIMIT - 1)), "b": b64("y")})) == []


def test_secret_data_over_1_mib_is_too_long() -> None:
    doc = secret(data={"a": b64(b"x" * SECRET_LIMIT), "b": b64("y")})
    assert problems(doc) == [("data", TOO_LONG.format(SECRET_LIMIT))]


# --- Service: externalIPs and status.loadBalancer (what --publish-service reads) ------------

LB_PORTS = [{"port": 80}]


def test_external_ips_and_load_balancer_status_load() -> None:
    doc = service(type="LoadBalancer", ports=LB_PORTS, externalIPs=["203.0.113.7", "2001:db8::1"])
    doc["status"] = {"loadBalancer": {"ingress": [{"ip": "198.51.100.1"}, {"hostname": "lb.test"}]}}
    loaded = cast(Service, load_manifests(doc)[0])
    assert loaded.spec.external_ips == ("203.0.113.7", "2001:db8::1")
    assert [(i.ip, i.hostname) for i in loaded.status.load_balancer.ingress] == [
        ("198.51.100.1", ""),
        ("", "lb.test"),
    ]
    assert loaded.to_dict()["status"] == doc["status"]
    assert loaded.to_dict()["spec"]["externalIPs"] == doc["spec"]["externalIPs"]


@pytest.mark.parametrize(
    ("address", "detail"),
    [
        # "IsValidIPForLegacyField"
        ("x", "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
        # "ValidateNonSpecialIP"
        ("0.0.0.0", "may not be unspecified (0.0.0.0)"),
        ("127.0.0.2", "may not be in the loopback range (127.0.0.0/8, ::1/128)"),
        ("169.254.1.1", "may not be in the link-local range (169.254.0.0/16, fe80::/10)"),
        (
            "224.0.0.5",
            "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)",
        ),
    ],
)
def test_external_ips_are_checked(address: str, detail: str) -> None:
    doc = service(ports=LB_PORTS, externalIPs=["203.0.113.7", address])
    assert problems(doc) == [("spec.externalIPs[1]", invalid(address, detail))]


def test_service_load_balancer_status_is_checked_like_an_ingress_status() -> None:
    doc = service(type="LoadBalancer", ports=LB_PORTS)
    doc["status"] = {
        "loadBalancer": {"ingress": [{"ip": "1.2.3."}, {"hostname": "10.0.0.1"}, {"ip": "::1"}]}
    }
    assert problems(doc) == [
        (
            "status.loadBalancer.ingress[0].ip",
            invalid("1.2.3.", "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"),
        ),
        (
            "status.loadBalancer.ingress[1].hostname",
            invalid("10.0.0.1", "must be a DNS name, not an IP address"),
        ),
    ]
