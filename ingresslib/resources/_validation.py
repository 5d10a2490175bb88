"""Validation of the modelled kinds, following the kube-apiserver.

Ingress and IngressClass follow `pkg/apis/networking/validation/validation.go` of
kubernetes/kubernetes (v1.34) as it runs on create, with the default feature gates; the
Go code each rule implements is quoted beside it. Service, EndpointSlice and Secret get the
basic structural rules of `pkg/apis/core/validation` and `pkg/apis/discovery/validation`.

Each validator returns `(field path, reason)` pairs, the reason formatted as Go's
`field.Error.ErrorBody()` formats it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterable, Sequence

from ingresslib.resources import _validators as v
from ingresslib.resources._core import (
    TLS_CERT_KEY,
    TLS_PRIVATE_KEY_KEY,
    TLS_SECRET_TYPE,
    Namespace,
    Secret,
    Service,
    ServiceLoadBalancerIngress,
)
from ingresslib.resources._discovery import Endpoint, EndpointSlice
from ingresslib.resources._gateway import (
    Gateway,
    GatewayClass,
    GRPCRoute,
    HTTPRoute,
    ReferenceGrant,
)
from ingresslib.resources._meta import ObjectMeta, ResourceBase
from ingresslib.resources._networking import (
    LEGACY_CLASS_ANNOTATION,
    HTTPIngressPath,
    Ingress,
    IngressBackend,
    IngressClass,
    IngressLoadBalancerIngress,
    IngressStatus,
    PathType,
    TypedLocalObjectReference,
)

__all__ = ["FieldProblem", "validate_resource"]

#: A field path and the reason, e.g. `("spec.rules[0].host", 'Invalid value: "A": ...')`.
FieldProblem = tuple[str, str]
NameValidator = Callable[[str], list[str]]


# --- field.Error formatting -------------------------------------------------------------


_GO_ESCAPES = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
               "\t": "\\t", "\v": "\\v", "\\": "\\\\", '"': '\\"'}  # fmt: skip


def go_quote(value: str) -> str:
    """Go's `strconv.Quote` (`%q`): printable runes kept, the rest escaped as Go escapes them."""
    out = []
    for char in value:
        code = ord(char)
        if char in _GO_ESCAPES:
            out.append(_GO_ESCAPES[char])
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        elif char.isprintable():
            out.append(char)
        elif code <= 0xFFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _quote(value: object) -> str:
    # Go formats strings with %q, integers and booleans with %v.
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def required(path: str, detail: str = "") -> FieldProblem:
    """`field.Required`."""
    return (path, f"Required value: {detail}" if detail else "Required value")


def invalid(path: str, value: object, detail: str) -> FieldProblem:
    """`field.Invalid`."""
    shown = value if isinstance(value, _Verbatim) else _quote(value)
    return (path, f"Invalid value: {shown}: {detail}" if detail else f"Invalid value: {shown}")


def not_supported(path: str, value: object, supported: Iterable[str]) -> FieldProblem:
    """`field.NotSupported`."""
    options = ", ".join(_quote(item) for item in supported)
    return (path, f"Unsupported value: {_quote(value)}: supported values: {options}")


def forbidden(path: str, detail: str) -> FieldProblem:
    """`field.Forbidden`."""
    return (path, f"Forbidden: {detail}")


def too_long(path: str, max_length: int) -> FieldProblem:
    """`field.TooLong`."""
    # field.TooLong since Kubernetes 1.32: "may not be more than %d bytes".
    return (path, f"Too long: may not be more than {max_length} bytes")


def too_many(path: str, actual: int, max_items: int) -> FieldProblem:
    """`field.TooMany`."""
    return (path, f"Too many: {actual}: must have at most {max_items} items")


def duplicate(path: str, value: object) -> FieldProblem:
    """`field.Duplicate`."""
    return (path, f"Duplicate value: {_quote(value)}")


class _Verbatim(str):
    """A bad value Go prints with %#v (not quoted)."""

    __slots__ = ()


def _each(path: str, value: object, messages: Iterable[str]) -> list[FieldProblem]:
    return [invalid(path, value, message) for message in messages]


def _size(value: str) -> int:
    return len(value.encode("utf-8", "surrogatepass"))


# --- ObjectMeta ---------------------------------------------------------------------------

_TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024


def validate_object_meta(
    meta: ObjectMeta, *, namespaced: bool, name_fn: NameValidator
) -> list[FieldProblem]:
    """`ValidateObjectMeta` on create: name, namespace, generation, labels, annotations."""
    problems: list[FieldProblem] = []
    if not meta.name:
        problems.append(required("metadata.name", "name or generateName is required"))
    else:
        problems += _each("metadata.name", meta.name, name_fn(meta.name))
    if namespaced:
        if not meta.namespace:
            problems.append(required("metadata.namespace"))
        else:
            problems += _each(
                "metadata.namespace", meta.namespace, v.is_dns1123_label(meta.namespace)
            )
    if meta.generation is not None and meta.generation < 0:
        problems.append(
            invalid("metadata.generation", meta.generation, "must be greater than or equal to 0")
        )
    for key, value in meta.labels.items():
        problems += _each("metadata.labels", key, v.is_qualified_name(key))
        problems += _each("metadata.labels", value, v.is_label_value(value))
    total = 0
    for key, value in meta.annotations.items():
        # "for k := range annotations { ... IsQualifiedName(strings.ToLower(k)) ..."
        problems += _each("metadata.annotations", key, v.is_qualified_name(key.lower()))
        total += _size(key) + _size(value)
    if total > _TOTAL_ANNOTATION_SIZE_LIMIT:
        problems.append(too_long("metadata.annotations", _TOTAL_ANNOTATION_SIZE_LIMIT))
    return problems


# --- Ingress ------------------------------------------------------------------------------

_INVALID_PATH_SEQUENCES = ("//", "/./", "/../", "%2f", "%2F")
_INVALID_PATH_SUFFIXES = ("/..", "/.")


def validate_ingress(ingress: Ingress) -> list[FieldProblem]:
    """`ValidateIngressCreate`, plus `ValidateIngressLoadBalancerStatus` for a status."""
    # "ValidateIngressName = apimachineryvalidation.NameIsDNSSubdomain"
    problems = validate_object_meta(
        ingress.metadata, namespaced=True, name_fn=v.is_dns1123_subdomain
    )
    spec = ingress.spec
    # "if len(spec.Rules) == 0 && spec.DefaultBackend == nil {
    #     errMsg := fmt.Sprintf("either `%s` or `rules` must be specified", "defaultBackend")"
    if not spec.rules and spec.default_backend is None:
        problems.append(
            invalid(
                "spec",
                _Verbatim("[]networking.IngressRule(nil)"),
                "either `defaultBackend` or `rules` must be specified",
            )
        )
    if spec.default_backend is not None:
        problems += _validate_backend(spec.default_backend, "spec.defaultBackend")
    for i, rule in enumerate(spec.rules):
        path = f"spec.rules[{i}]"
        if rule.host:
            # "if isIP := (netutils.ParseIPSloppy(ih.Host) != nil); isIP {
            #     ... field.Invalid(..., "must be a DNS name, not an IP address"))"
            if v.parse_ip_sloppy(rule.host) is not None:
                problems.append(
                    invalid(f"{path}.host", rule.host, "must be a DNS name, not an IP address")
                )
            # "if strings.Contains(ih.Host, "*") { ... IsWildcardDNS1123Subdomain ...
            #  } else { ... IsDNS1123Subdomain ..."
            check = v.is_wildcard_dns1123_subdomain if "*" in rule.host else v.is_dns1123_subdomain
            problems += _each(f"{path}.host", rule.host, check(rule.host))
        if rule.http is not None:
            # "if len(httpIngressRuleValue.Paths) == 0 { field.Required(fldPath.Child("paths"), "")"
            if not rule.http.paths:
                problems.append(required(f"{path}.http.paths"))
            for j, http_path in enumerate(rule.http.paths):
                problems += _validate_http_path(http_path, f"{path}.http.paths[{j}]")
    for i, tls in enumerate(spec.tls):
        for j, host in enumerate(tls.hosts):
            check = v.is_wildcard_dns1123_subdomain if "*" in host else v.is_dns1123_subdomain
            problems += _each(f"spec.tls[{i}].hosts[{j}]", host, check(host))
        # "if !opts.AllowInvalidSecretName { for _, msg := range validateTLSSecretName(...)"
        if tls.secret_name:
            problems += _each(
                f"spec.tls[{i}].secretName",
                tls.secret_name,
                v.is_dns1123_subdomain(tls.secret_name),
            )
    if spec.ingress_class_name is not None:
        problems += _each(
            "spec.ingressClassName",
            spec.ingress_class_name,
            v.is_dns1123_subdomain(spec.ingress_class_name),
        )
    # "if annotationIsSet && ingress.Spec.IngressClassName != nil &&
    #     annotationVal != *ingress.Spec.IngressClassName {
    #     annotationPath := field.NewPath("annotations").Child(annotationIngressClass)"
    legacy = ingress.metadata.annotations.get(LEGACY_CLASS_ANNOTATION)
    if (
        legacy is not None
        and spec.ingress_class_name is not None
        and legacy != spec.ingress_class_name
    ):
        problems.append(
            invalid(
                f"annotations.{LEGACY_CLASS_ANNOTATION}",
                legacy,
                "must match `ingressClassName` when both are specified",
            )
        )
    problems += _validate_ingress_status(ingress.status)
    return problems


def _validate_http_path(http_path: HTTPIngressPath, path: str) -> list[FieldProblem]:
    # "if path.PathType == nil { return append(allErrs, field.Required(fldPath.Child("pathType"),
    #     "pathType must be specified")) }"
    if http_path.path_type is None:
        return [required(f"{path}.pathType", "pathType must be specified")]
    problems: list[FieldProblem] = []
    value = http_path.path
    if http_path.path_type in (PathType.EXACT, PathType.PREFIX):
        # "if !strings.HasPrefix(path.Path, "/") { ... "must be an absolute path" }"
        if not value.startswith("/"):
            problems.append(invalid(f"{path}.path", value, "must be an absolute path"))
        if value:
            # "for _, invalidSeq := range invalidPathSequences { if strings.Contains(...) {
            #     ... fmt.Sprintf("must not contain '%s'", invalidSeq)"
            problems += [
                invalid(f"{path}.path", value, f"must not contain '{sequence}'")
                for sequence in _INVALID_PATH_SEQUENCES
                if sequence in value
            ]
            # "for _, invalidSuff := range invalidPathSuffixes { if strings.HasSuffix(...) {
            #     ... fmt.Sprintf("cannot end with '%s'", invalidSuff)"
            problems += [
                invalid(f"{path}.path", value, f"cannot end with '{suffix}'")
                for suffix in _INVALID_PATH_SUFFIXES
                if value.endswith(suffix)
            ]
    elif http_path.path_type == PathType.IMPLEMENTATION_SPECIFIC:
        # "if len(path.Path) > 0 { if !strings.HasPrefix(path.Path, "/") { ..."
        if value and not value.startswith("/"):
            problems.append(invalid(f"{path}.path", value, "must be an absolute path"))
    else:
        problems.append(not_supported(f"{path}.pathType", http_path.path_type, PathType.ALL))
    problems += _validate_backend(http_path.backend, f"{path}.backend")
    return problems


def _validate_backend(backend: IngressBackend, path: str) -> list[FieldProblem]:
    """`validateIngressBackend`, with `AllowRelaxedServiceNameValidation` off (the default)."""
    if backend.resource is not None and backend.service is not None:
        return [invalid(path, "", "cannot set both resource and service backends")]
    if backend.resource is not None:
        return _validate_typed_reference(backend.resource, f"{path}.resource")
    if backend.service is None:
        return [invalid(path, "", "resource or service backend is required")]
    problems: list[FieldProblem] = []
    service = backend.service
    if not service.name:
        problems.append(required(f"{path}.service.name"))
    else:
        # "ValidateServiceName = apimachineryvalidation.NameIsDNS1035Label"
        problems += _each(f"{path}.service.name", service.name, v.is_dns1035_label(service.name))
    port = service.port
    has_name, has_number = bool(port.name), port.number != 0
    if has_name and has_number:
        problems.append(invalid(path, "", "cannot set both port name & port number"))
    elif has_name:
        problems += _each(f"{path}.service.port.name", port.name, v.is_valid_port_name(port.name))
    elif has_number:
        problems += _each(
            f"{path}.service.port.number", port.number, v.is_valid_port_num(port.number)
        )
    else:
        problems.append(required(path, "port name or number is required"))
    return problems


def _validate_typed_reference(ref: TypedLocalObjectReference, path: str) -> list[FieldProblem]:
    """`validateIngressTypedLocalObjectReference`."""
    problems: list[FieldProblem] = []
    if ref.api_group is not None:
        problems += _each(f"{path}.apiGroup", ref.api_group, v.is_dns1123_subdomain(ref.api_group))
    for field, value in (("kind", ref.kind), ("name", ref.name)):
        if not value:
            problems.append(required(f"{path}.{field}"))
        else:
            problems += _each(f"{path}.{field}", value, v.is_path_segment_name(value))
    return problems


def _validate_ingress_status(status: IngressStatus) -> list[FieldProblem]:
    """`ValidateIngressLoadBalancerStatus` (the status subresource's rules)."""
    return _validate_load_balancer_ingress(status.load_balancer.ingress)


def _validate_load_balancer_ingress(
    items: Sequence[IngressLoadBalancerIngress | ServiceLoadBalancerIngress],
) -> list[FieldProblem]:
    """`status.loadBalancer.ingress` of an Ingress or a Service.

    The same rules for both (`ValidateIngressLoadBalancerStatus`, `ValidateLoadBalancerStatus`).
    """
    problems: list[FieldProblem] = []
    for i, item in enumerate(items):
        path = f"status.loadBalancer.ingress[{i}]"
        if item.ip:
            problems += _each(f"{path}.ip", item.ip, v.is_valid_ip(item.ip))
        if item.hostname:
            problems += _each(
                f"{path}.hostname", item.hostname, v.is_dns1123_subdomain(item.hostname)
            )
            if v.parse_ip_sloppy(item.hostname) is not None:
                problems.append(
                    invalid(
                        f"{path}.hostname", item.hostname, "must be a DNS name, not an IP address"
                    )
                )
    return problems


# --- IngressClass -------------------------------------------------------------------------

_MAX_CONTROLLER_LENGTH = 250
_SCOPES = ("Cluster", "Namespace")


def validate_ingress_class(ingress_class: IngressClass) -> list[FieldProblem]:
    """`ValidateIngressClass`."""
    problems = validate_object_meta(
        ingress_class.metadata, namespaced=False, name_fn=v.is_dns1123_subdomain
    )
    controller = ingress_class.spec.controller
    if not controller:
        problems.append(required("spec.controller"))
    else:
        # "if len(spec.Controller) > maxLenIngressClassController { field.TooLong(...)"
        if _size(controller) > _MAX_CONTROLLER_LENGTH:
            problems.append(too_long("spec.controller", _MAX_CONTROLLER_LENGTH))
        problems += [
            invalid("spec.controller", bad, message)
            for bad, message in v.is_domain_prefixed_path(controller)
        ]
    params = ingress_class.spec.parameters
    if params is None:
        return problems
    path = "spec.parameters"
    if params.api_group is not None:
        problems += _each(
            f"{path}.apiGroup", params.api_group, v.is_dns1123_subdomain(params.api_group)
        )
    for field, value in (("kind", params.kind), ("name", params.name)):
        if not value:
            problems.append(required(f"{path}.{field}"))
        else:
            problems += _each(f"{path}.{field}", value, v.is_path_segment_name(value))
    # SetDefaults_IngressClass: "if obj.Spec.Parameters != nil && obj.Spec.Parameters.Scope == nil
    #     { obj.Spec.Parameters.Scope = &IngressClassParametersReferenceScopeCluster }"
    scope = params.scope if params.scope is not None else "Cluster"
    if scope not in _SCOPES:
        problems.append(not_supported(f"{path}.scope", scope, _SCOPES))
    elif scope == "Namespace":
        if params.namespace is None:
            problems.append(
                required(f"{path}.namespace", "`parameters.scope` is set to 'Namespace'")
            )
        else:
            problems += _each(
                f"{path}.namespace", params.namespace, v.is_dns1123_label(params.namespace)
            )
    elif params.namespace is not None:
        problems.append(forbidden(f"{path}.namespace", "`parameters.scope` is set to 'Cluster'"))
    return problems


# --- Service ------------------------------------------------------------------------------

_SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
_PROTOCOLS = ("SCTP", "TCP", "UDP")
_TRAFFIC_DISTRIBUTIONS = ("PreferClose", "PreferSameNode", "PreferSameZone")


def validate_service(service: Service) -> list[FieldProblem]:
    """The structural rules of `ValidateService` that routing depends on."""
    # "ValidateServiceName = apimachineryvalidation.NameIsDNS1035Label"
    problems = validate_object_meta(service.metadata, namespaced=True, name_fn=v.is_dns1035_label)
    spec = service.spec
    if spec.type and spec.type not in _SERVICE_TYPES:
        problems.append(not_supported("spec.type", spec.type, _SERVICE_TYPES))
    service_type = service.effective_type
    if service_type == "ExternalName":
        # "if len(service.Spec.ExternalName) == 0 {
        #     allErrs = append(allErrs, field.Required(specPath.Child("externalName"), ""))"
        # "cleanExternalName := strings.TrimSuffix(service.Spec.ExternalName, ".")"
        name = spec.external_name.removesuffix(".")
        if not name:
            problems.append(required("spec.externalName"))
        else:
            problems += _each("spec.externalName", name, v.is_dns1123_subdomain(name))
    elif not spec.ports and spec.cluster_ip != "None":
        # "if len(service.Spec.Ports) == 0 && !isHeadlessService(service) &&
        #     service.Spec.Type != core.ServiceTypeExternalName { field.Required(...ports, "")"
        problems.append(required("spec.ports"))
    names: set[str] = set()
    seen: set[tuple[int, str]] = set()
    for i, port in enumerate(spec.ports):
        path = f"spec.ports[{i}]"
        if len(spec.ports) > 1 and not port.name:
            problems.append(required(f"{path}.name"))
        elif port.name:
            problems += _each(f"{path}.name", port.name, v.is_dns1123_label(port.name))
            if port.name in names:
                problems.append(duplicate(f"{path}.name", port.name))
            names.add(port.name)
        problems += _each(f"{path}.port", port.port, v.is_valid_port_num(port.port))
        protocol = port.protocol or "TCP"
        if protocol not in _PROTOCOLS:
            problems.append(not_supported(f"{path}.protocol", protocol, _PROTOCOLS))
        if (port.port, protocol) in seen:
            # Go reports the map key it built, a core.ServicePort, with %#v.
            problems.append(
                (
                    path,
                    f'Duplicate value: core.ServicePort{{Name:"", Protocol:{go_quote(protocol)}, '
                    f"AppProtocol:(*string)(nil), Port:{port.port}, "
                    'TargetPort:intstr.IntOrString{Type:0, IntVal:0, StrVal:""}, NodePort:0}',
                )
            )
        seen.add((port.port, protocol))
        # SetDefaults_Service: "if sp.TargetPort == intstr.FromInt32(0) ||
        #     sp.TargetPort == intstr.FromString("") { sp.TargetPort = intstr.FromInt32(sp.Port) }"
        target = port.target_port
        if target in (None, 0, ""):
            target = port.port
        if isinstance(target, str):
            problems += _each(f"{path}.targetPort", target, v.is_valid_port_name(target))
        elif isinstance(target, int):
            problems += _each(f"{path}.targetPort", target, v.is_valid_port_num(target))
        if port.app_protocol is not None:
            problems += _each(
                f"{path}.appProtocol", port.app_protocol, v.is_qualified_name(port.app_protocol)
            )
    if (
        spec.traffic_distribution is not None
        and spec.traffic_distribution not in _TRAFFIC_DISTRIBUTIONS
    ):
        problems.append(
            not_supported(
                "spec.trafficDistribution", spec.traffic_distribution, _TRAFFIC_DISTRIBUTIONS
            )
        )
    # "for i, ip := range service.Spec.ExternalIPs { ... if errs := IsValidIPForLegacyField(...);
    #     len(errs) != 0 { ... } else { allErrs = append(allErrs, ValidateNonSpecialIP(ip, ...)"
    for i, ip in enumerate(spec.external_ips):
        path = f"spec.externalIPs[{i}]"
        errors = v.is_valid_ip(ip)
        if errors:
            problems += _each(path, ip, errors)
        else:
            problems += [invalid(path, ip, m) for m in _special_ip_errors(ip, allow_loopback=False)]
    # ValidateServiceStatusUpdate -> ValidateLoadBalancerStatus.
    problems += _validate_load_balancer_ingress(service.status.load_balancer.ingress)
    return problems


# --- EndpointSlice ------------------------------------------------------------------------

_ADDRESS_TYPES = ("FQDN", "IPv4", "IPv6")
_MAX_ENDPOINTS = 1000
_MAX_ADDRESSES = 100
_MAX_PORTS = 20000


def validate_endpoint_slice(
    slice_: EndpointSlice, *, allow_loopback_endpoints: bool = False
) -> list[FieldProblem]:
    """The structural rules of `ValidateEndpointSlice`.

    Args:
        slice_: the slice.
        allow_loopback_endpoints: accept 127.0.0.0/8 and ::1 addresses, which the
            apiserver refuses (for local development and tests only).
    """
    problems = validate_object_meta(
        slice_.metadata, namespaced=True, name_fn=v.is_dns1123_subdomain
    )
    if not slice_.address_type:
        problems.append(required("addressType"))
    elif slice_.address_type not in _ADDRESS_TYPES:
        problems.append(not_supported("addressType", slice_.address_type, _ADDRESS_TYPES))
    # "if len(endpoints) > maxEndpoints { allErrs = append(allErrs, field.TooMany(...)); return }"
    if len(slice_.endpoints) > _MAX_ENDPOINTS:
        problems.append(too_many("endpoints", len(slice_.endpoints), _MAX_ENDPOINTS))
        endpoints: tuple[Endpoint, ...] = ()
    else:
        endpoints = slice_.endpoints
    for i, endpoint in enumerate(endpoints):
        path = f"endpoints[{i}]"
        if not endpoint.addresses:
            problems.append(required(f"{path}.addresses", "must contain at least 1 address"))
        elif len(endpoint.addresses) > _MAX_ADDRESSES:
            problems.append(too_many(f"{path}.addresses", len(endpoint.addresses), _MAX_ADDRESSES))
        for j, address in enumerate(endpoint.addresses):
            problems += [
                invalid(f"{path}.addresses[{j}]", bad, message)
                for bad, message in _address_errors(
                    slice_.address_type, address, allow_loopback=allow_loopback_endpoints
                )
            ]
        if endpoint.hostname is not None:
            problems += _each(
                f"{path}.hostname", endpoint.hostname, v.is_dns1123_label(endpoint.hostname)
            )
        if endpoint.node_name is not None:
            problems += _each(
                f"{path}.nodeName", endpoint.node_name, v.is_dns1123_subdomain(endpoint.node_name)
            )
    ports = slice_.ports
    if len(ports) > _MAX_PORTS:
        problems.append(too_many("ports", len(ports), _MAX_PORTS))
        ports = ()
    names: set[str] = set()
    for i, port in enumerate(ports):
        path = f"ports[{i}]"
        if port.name:
            problems += _each(f"{path}.name", port.name, v.is_dns1123_label(port.name))
        name = port.name or ""
        if name in names:
            problems.append(duplicate(f"{path}.name", name))
        names.add(name)
        if port.protocol is not None and port.protocol not in _PROTOCOLS:
            problems.append(not_supported(f"{path}.protocol", port.protocol, _PROTOCOLS))
        if port.port is not None:
            problems += _each(f"{path}.port", port.port, v.is_valid_port_num(port.port))
        if port.app_protocol is not None:
            problems += _each(
                f"{path}.appProtocol", port.app_protocol, v.is_qualified_name(port.app_protocol)
            )
    return problems


def _is_ipv4(address: str) -> bool:
    # Go: "ip.To4() != nil": IPv4, and IPv4-mapped IPv6 (::ffff:a.b.c.d), are IPv4.
    ip = v.parse_ip_sloppy(address)
    if ip is None:
        return False
    return ip.version == 4 or getattr(ip, "ipv4_mapped", None) is not None


def _address_errors(
    address_type: str, address: str, *, allow_loopback: bool = False
) -> list[tuple[str, str]]:
    if address_type == "IPv4" and not _is_ipv4(address):
        return [(address, "must be a valid IPv4 address")]
    if address_type == "IPv6" and (v.parse_ip_sloppy(address) is None or _is_ipv4(address)):
        return [(address, "must be a valid IPv6 address")]
    if address_type == "FQDN":
        return v.is_fully_qualified_domain_name(address)
    if address_type in ("IPv4", "IPv6"):
        return [(address, m) for m in _special_ip_errors(address, allow_loopback=allow_loopback)]
    return []


def _special_ip_errors(address: str, *, allow_loopback: bool) -> list[str]:
    """`ValidateNonSpecialIP`: endpoints may not point at special-purpose addresses."""
    ip = v.parse_ip_sloppy(address)
    if ip is None:  # pragma: no cover - checked by the caller
        return []
    mapped = getattr(ip, "ipv4_mapped", None)
    ip = mapped if mapped is not None else ip
    errors = []
    # "if ip.IsUnspecified() { ... fmt.Sprintf("may not be unspecified (%v)", ipToCheck)"
    if ip.is_unspecified:
        errors.append(f"may not be unspecified ({address})")
    if ip.is_loopback and not allow_loopback:
        errors.append("may not be in the loopback range (127.0.0.0/8, ::1/128)")
    # Go's IsLinkLocalUnicast: 169.254.0.0/16 and fe80::/10.
    if ip.is_link_local and not ip.is_multicast:
        errors.append("may not be in the link-local range (169.254.0.0/16, fe80::/10)")
    # Go's IsLinkLocalMulticast: 224.0.0.0/24 and ff02::/16.
    if ip in _LINK_LOCAL_MULTICAST_V4 or ip in _LINK_LOCAL_MULTICAST_V6:
        errors.append("may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)")
    return errors


_LINK_LOCAL_MULTICAST_V4 = ipaddress.ip_network("224.0.0.0/24")
_LINK_LOCAL_MULTICAST_V6 = ipaddress.ip_network("ff02::/16")


# --- Secret -------------------------------------------------------------------------------

_MAX_SECRET_SIZE = 1024 * 1024


def validate_secret(secret: Secret) -> list[FieldProblem]:
    """The structural rules of `ValidateSecret`, with the kubernetes.io/tls keys."""
    problems = validate_object_meta(
        secret.metadata, namespaced=True, name_fn=v.is_dns1123_subdomain
    )
    total = 0
    for key, value in secret.data.items():
        problems += _each(f"data[{key}]", key, v.is_config_map_key(key))
        total += len(value)
    if total > _MAX_SECRET_SIZE:
        problems.append(too_long("data", _MAX_SECRET_SIZE))
    if secret.type == TLS_SECRET_TYPE:
        # "case core.SecretTypeTLS: if _, exists := secret.Data[core.TLSCertKey]; !exists {
        #     allErrs = append(allErrs, field.Required(dataPath.Key(core.TLSCertKey), ""))"
        for key in (TLS_CERT_KEY, TLS_PRIVATE_KEY_KEY):
            if key not in secret.data:
                problems.append(required(f"data[{key}]"))
    return problems


# --- Namespace ------------------------------------------------------------------------------


def validate_namespace(namespace: Namespace) -> list[FieldProblem]:
    """`ValidateNamespace` on create: the name is a DNS-1123 label; finalizers are qualified."""
    # "ValidateNamespaceName = apimachineryvalidation.ValidateNamespaceName" (IsDNS1123Label)
    problems = validate_object_meta(
        namespace.metadata, namespaced=False, name_fn=v.is_dns1123_label
    )
    for i, finalizer in enumerate(namespace.spec.finalizers):
        # "ValidateFinalizerName": a qualified name (the standard-name rule is not checked).
        problems += _each(f"spec.finalizers[{i}]", finalizer, v.is_qualified_name(finalizer))
    return problems


# --- Gateway API (the metadata; the CRD schemas and rules: _crd) ------------------------------


def validate_custom_resource_meta(resource: ResourceBase) -> list[FieldProblem]:
    """`ValidateObjectMetaAccessor` as the apiserver runs it for custom resources.

    "validation.NameIsDNSSubdomain" names them; the schema and the CEL rules of the CRD are
    checked on the object's JSON form before it is structured (see `_crd`).
    """
    return validate_object_meta(
        resource.metadata, namespaced=resource.namespaced, name_fn=v.is_dns1123_subdomain
    )


_VALIDATORS: dict[type[ResourceBase], Callable[..., list[FieldProblem]]] = {
    Ingress: validate_ingress,
    IngressClass: validate_ingress_class,
    Service: validate_service,
    EndpointSlice: validate_endpoint_slice,
    Secret: validate_secret,
    Namespace: validate_namespace,
    GatewayClass: validate_custom_resource_meta,
    Gateway: validate_custom_resource_meta,
    HTTPRoute: validate_custom_resource_meta,
    GRPCRoute: validate_custom_resource_meta,
    ReferenceGrant: validate_custom_resource_meta,
}


def validate_resource(
    resource: ResourceBase, *, allow_loopback_endpoints: bool = False
) -> list[FieldProblem]:
    """Validate any modelled resource; `[]` when it is valid."""
    if isinstance(resource, EndpointSlice):
        return validate_endpoint_slice(resource, allow_loopback_endpoints=allow_loopback_endpoints)
    return _VALIDATORS[type(resource)](resource)
