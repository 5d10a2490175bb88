"""gateway.networking.k8s.io/v1 (Gateway API v1.6, standard channel): the route and gateway kinds.

GatewayClass, Gateway, HTTPRoute, GRPCRoute and ReferenceGrant, with the types they are made of.
Class names are the Go type names of `sigs.k8s.io/gateway-api/apis/v1`; field names are the
snake_case spelling of the JSON names (`parentRefs` -> `parent_refs`, `from` -> `from_`), mapped
by the converter. The quotes are the Go type comments of `apis/v1/*_types.go` (v1.6.1).

Only the fields of the standard-channel CRDs are modelled: the apiserver prunes the others
(`retry`, `sessionPersistence`, `externalAuth`, `useDefaultGateways`, `defaultScope` are
experimental in v1.6), so they are never part of a stored object.

Absent fields follow the package's rule (a Go plain string is ``""``, a Go pointer is
``None``), except where the CRD schema has a default: the apiserver applies it on every write
and read, so the field is never absent, and its Python default is the CRD's default
(`HTTPBackendRef.weight` is 1, `ParentReference.kind` is "Gateway", an `HTTPRouteMatch` without
a path matches the prefix "/"...). A field the API requires is written by `to_dict()` even when
empty (`group: ""` is the core group).
"""

from __future__ import annotations

import datetime
from typing import ClassVar

import attrs

from ingresslib.resources._frozenmap import FrozenMap
from ingresslib.resources._meta import REQUIRED, Condition, LabelSelector, ResourceBase

__all__ = [
    "GATEWAY_API_VERSIONS",
    "GROUP",
    "AllowedListeners",
    "AllowedRoutes",
    "BackendObjectReference",
    "BackendRef",
    "CommonRouteSpec",
    "Fraction",
    "FrontendTLSConfig",
    "FrontendTLSValidation",
    "GRPCBackendRef",
    "GRPCHeaderMatch",
    "GRPCMethodMatch",
    "GRPCRoute",
    "GRPCRouteFilter",
    "GRPCRouteMatch",
    "GRPCRouteRule",
    "GRPCRouteSpec",
    "GRPCRouteStatus",
    "Gateway",
    "GatewayBackendTLS",
    "GatewayClass",
    "GatewayClassSpec",
    "GatewayClassStatus",
    "GatewayInfrastructure",
    "GatewaySpec",
    "GatewaySpecAddress",
    "GatewayStatus",
    "GatewayStatusAddress",
    "GatewayTLSConfig",
    "HTTPBackendRef",
    "HTTPCORSFilter",
    "HTTPHeader",
    "HTTPHeaderFilter",
    "HTTPHeaderMatch",
    "HTTPPathMatch",
    "HTTPPathModifier",
    "HTTPQueryParamMatch",
    "HTTPRequestMirrorFilter",
    "HTTPRequestRedirectFilter",
    "HTTPRoute",
    "HTTPRouteFilter",
    "HTTPRouteMatch",
    "HTTPRouteRule",
    "HTTPRouteSpec",
    "HTTPRouteStatus",
    "HTTPRouteTimeouts",
    "HTTPURLRewriteFilter",
    "Listener",
    "ListenerNamespaces",
    "ListenerStatus",
    "ListenerTLSConfig",
    "LocalObjectReference",
    "LocalParametersReference",
    "ObjectReference",
    "ParametersReference",
    "ParentReference",
    "ReferenceGrant",
    "ReferenceGrantFrom",
    "ReferenceGrantSpec",
    "ReferenceGrantTo",
    "RouteGroupKind",
    "RouteNamespaces",
    "RouteParentStatus",
    "RouteStatus",
    "SecretObjectReference",
    "SupportedFeature",
    "TLSConfig",
    "TLSPortConfig",
]

#: The API group of the Gateway API kinds.
GROUP = "gateway.networking.k8s.io"

#: The versions the v1.6.1 standard CRDs serve, per kind (the model is the v1 form; every
#: served version has the same schema, so an object of another version loads as v1).
GATEWAY_API_VERSIONS: dict[str, tuple[str, ...]] = {
    "GatewayClass": (f"{GROUP}/v1", f"{GROUP}/v1beta1"),
    "Gateway": (f"{GROUP}/v1", f"{GROUP}/v1beta1"),
    "HTTPRoute": (f"{GROUP}/v1", f"{GROUP}/v1beta1"),
    "GRPCRoute": (f"{GROUP}/v1",),
    "ReferenceGrant": (f"{GROUP}/v1", f"{GROUP}/v1beta1"),
}

_EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)


def _pending(*types: str) -> tuple[Condition, ...]:
    # The CRDs' status default: `{lastTransitionTime: "1970-01-01T00:00:00Z",
    # message: Waiting for controller, reason: Pending, status: Unknown, type: Accepted}`.
    return tuple(
        Condition(
            type=type_,
            status="Unknown",
            reason="Pending",
            message="Waiting for controller",
            last_transition_time=_EPOCH,
        )
        for type_ in types
    )


def _empty_map() -> FrozenMap[str, str]:
    return FrozenMap()


# --- references (object_reference_types.go, shared_types.go) -----------------------------


@attrs.frozen
class LocalObjectReference:
    """LocalObjectReference identifies an API object within the namespace of the referrer.

    "The API object must be valid in the cluster; the Group and Kind must be registered in the
    cluster for this reference to be valid."

    Attributes:
        group: "Group is the group of the referent. For example, "gateway.networking.k8s.io".
            When unspecified or empty string, core API group is inferred."
        kind: "Kind is kind of the referent. For example "HTTPRoute" or "Service"."
        name: "Name is the name of the referent."
    """

    group: str = attrs.field(default="", metadata=REQUIRED)
    kind: str = attrs.field(default="", metadata=REQUIRED)
    name: str = attrs.field(default="", metadata=REQUIRED)


@attrs.frozen
class SecretObjectReference:
    """SecretObjectReference identifies an API object including its namespace, defaulting to Secret.

    Attributes:
        group: "Group is the group of the referent. For example, "gateway.networking.k8s.io".
            When unspecified or empty string, core API group is inferred." (default "")
        kind: "Kind is kind of the referent. For example "Secret"." (default "Secret")
        name: "Name is the name of the referent."
        namespace: "Namespace is the namespace of the referenced object. When unspecified, the
            local namespace is inferred. Note that when a namespace different than the local
            namespace is specified, a ReferenceGrant object is required in the referent
            namespace to allow that namespace's owner to accept the reference."
    """

    group: str = ""
    kind: str = "Secret"
    name: str = attrs.field(default="", metadata=REQUIRED)
    namespace: str | None = None


@attrs.frozen
class ObjectReference:
    """ObjectReference identifies an API object including its namespace.

    Attributes:
        group: "Group is the group of the referent. For example, "gateway.networking.k8s.io".
            When set to the empty string, core API group is inferred."
        kind: "Kind is kind of the referent. For example "ConfigMap" or "Service"."
        name: "Name is the name of the referent."
        namespace: "Namespace is the namespace of the referenced object. When unspecified, the
            local namespace is inferred."
    """

    group: str = attrs.field(default="", metadata=REQUIRED)
    kind: str = attrs.field(default="", metadata=REQUIRED)
    name: str = attrs.field(default="", metadata=REQUIRED)
    namespace: str | None = None


@attrs.frozen
class BackendObjectReference:
    """BackendObjectReference defines how an ObjectReference that is specific to BackendRef.

    "References to objects with invalid Group and Kind are not valid, and must be rejected by
    the implementation, with appropriate Conditions set on the containing object."

    Attributes:
        group: "Group is the group of the referent. For example, "gateway.networking.k8s.io".
            When unspecified or empty string, core API group is inferred." (default "")
        kind: "Kind is the Kubernetes resource kind of the referent. For example "Service".
            Defaults to "Service" when not specified."
        name: "Name is the name of the referent."
        namespace: "Namespace is the namespace of the backend. When unspecified, the local
            namespace is inferred. Note that when a namespace different than the local
            namespace is specified, a ReferenceGrant object is required in the referent
            namespace to allow that namespace's owner to accept the reference."
        port: "Port specifies the destination port number to use for this resource. Port is
            required when the referent is a Kubernetes Service. In this case, the port number
            is the service port number, not the target port."
    """

    group: str = ""
    kind: str = "Service"
    name: str = attrs.field(default="", metadata=REQUIRED)
    namespace: str | None = None
    port: int | None = None


@attrs.frozen
class BackendRef(BackendObjectReference):
    """BackendRef defines how a Route should forward a request to a Kubernetes resource.

    "Note that when a namespace different than the local namespace is specified, a
    ReferenceGrant object is required in the referent namespace to allow that namespace's
    owner to accept the reference."

    Attributes:
        weight: "Weight specifies the proportion of requests forwarded to the referenced
            backend. This is computed as weight/(sum of all weights in this BackendRefs list).
            For non-zero values, there may be some epsilon from the exact proportion defined
            here depending on the precision an implementation supports. Weight is not a
            percentage and the sum of weights does not need to equal 100. If only one backend
            is specified and it has a weight greater than 0, 100% of the traffic is forwarded
            to that backend. If weight is set to 0, no traffic should be forwarded for this
            entry. If unspecified, weight defaults to 1."
    """

    weight: int = 1


@attrs.frozen
class ParentReference:
    """ParentReference identifies an API object (usually a Gateway) that can be considered a parent.

    "... a parent of this resource (usually a route)."

    Attributes:
        group: "Group is the group of the referent. When unspecified,
            "gateway.networking.k8s.io" is inferred."
        kind: "Kind is kind of the referent. ... Defaults to "Gateway" when not specified."
        namespace: "Namespace is the namespace of the referent. When unspecified, this refers
            to the local namespace of the Route."
        name: "Name is the name of the referent."
        section_name: "SectionName is the name of a section within the target resource. In the
            following resources, SectionName is interpreted as the following: * Gateway:
            Listener name. When both Port (experimental) and SectionName are specified, the
            name and port of the selected listener must match both specified values."
        port: "Port is the network port this Route targets. It can be interpreted differently
            based on the type of parent resource. When the parent resource is a Gateway, this
            targets all listeners listening on the specified port that also support this kind
            of Route(and select this Route)."
    """

    group: str = GROUP
    kind: str = "Gateway"
    namespace: str | None = None
    name: str = attrs.field(default="", metadata=REQUIRED)
    section_name: str | None = None
    port: int | None = None


@attrs.frozen
class CommonRouteSpec:
    """CommonRouteSpec defines the common attributes that all Routes MUST include within their spec.

    Attributes:
        parent_refs: "ParentRefs references the resources (usually Gateways) that a Route wants
            to be attached to. Note that the referenced parent resource needs to allow this
            for the attachment to be complete. For Gateways, that means the Gateway needs to
            allow attachment from Routes of this kind and namespace."
    """

    parent_refs: tuple[ParentReference, ...] = ()


@attrs.frozen
class RouteParentStatus:
    """RouteParentStatus describes the status of a route with respect to an associated Parent.

    Attributes:
        parent_ref: "ParentRef corresponds with a ParentRef in the spec that this
            RouteParentStatus struct describes the status of."
        controller_name: "ControllerName is a domain/path string that indicates the name of
            the controller that wrote this status. This corresponds with the controllerName
            field on GatewayClass."
        conditions: "Conditions describes the status of the route with respect to the Gateway.
            Note that the route's availability is also subject to the Gateway's own status
            conditions and listener status." (Accepted, ResolvedRefs, PartiallyInvalid)
    """

    parent_ref: ParentReference = attrs.field(factory=ParentReference, metadata=REQUIRED)
    controller_name: str = attrs.field(default="", metadata=REQUIRED)
    conditions: tuple[Condition, ...] = ()


@attrs.frozen
class RouteStatus:
    """RouteStatus defines the common attributes that all Routes MUST include within their status.

    Attributes:
        parents: "Parents is a list of parent resources (usually Gateways) that are associated
            with the route, and the status of the route with respect to each parent. When this
            route attaches to a parent, the controller that manages the parent must add an
            entry to this list when the controller first sees the route and should update the
            entry as appropriate when the route or gateway is modified."
    """

    parents: tuple[RouteParentStatus, ...] = attrs.field(default=(), metadata=REQUIRED)


@attrs.frozen
class Fraction:
    """`Fraction`: numerator/denominator (RequestMirror's `fraction`; denominator default 100)."""

    numerator: int = attrs.field(default=0, metadata=REQUIRED)
    denominator: int = 100


# --- GatewayClass (gatewayclass_types.go) -------------------------------------------------


@attrs.frozen
class ParametersReference:
    """ParametersReference identifies an API object containing controller-specific configuration.

    "... resource within the cluster."

    Attributes:
        group: "Group is the group of the referent."
        kind: "Kind is kind of the referent."
        name: "Name is the name of the referent."
        namespace: "Namespace is the namespace of the referent. This field is required when
            referring to a Namespace-scoped resource and MUST be unset when referring to a
            Cluster-scoped resource."
    """

    group: str = attrs.field(default="", metadata=REQUIRED)
    kind: str = attrs.field(default="", metadata=REQUIRED)
    name: str = attrs.field(default="", metadata=REQUIRED)
    namespace: str | None = None


@attrs.frozen
class GatewayClassSpec:
    """GatewayClassSpec reflects the configuration of a class of Gateways.

    Attributes:
        controller_name: "ControllerName is the name of the controller that is managing
            Gateways of this class. The value of this field MUST be a domain prefixed path.
            Example: "example.net/gateway-controller". This field is not mutable and cannot be
            empty."
        parameters_ref: "ParametersRef is a reference to a resource that contains the
            configuration parameters corresponding to the GatewayClass. This is optional if
            the controller does not require any additional configuration."
        description: "Description helps describe a GatewayClass with more details."
    """

    controller_name: str = attrs.field(default="", metadata=REQUIRED)
    parameters_ref: ParametersReference | None = None
    description: str | None = None


@attrs.frozen
class SupportedFeature:
    """`SupportedFeature`: one entry of `status.supportedFeatures` of a GatewayClass."""

    name: str = attrs.field(default="", metadata=REQUIRED)


def _gateway_class_conditions() -> tuple[Condition, ...]:
    return _pending("Accepted")


@attrs.frozen
class GatewayClassStatus:
    """GatewayClassStatus is the current status for the GatewayClass.

    Attributes:
        conditions: "Conditions is the current status from the controller for this
            GatewayClass. Controllers should prefer to publish conditions using values of
            GatewayClassConditionType for the type of each Condition." (default: Accepted,
            Unknown, Pending, "Waiting for controller")
        supported_features: "SupportedFeatures is the set of features the GatewayClass
            support. It MUST be sorted in ascending alphabetical order by the Name key."
    """

    conditions: tuple[Condition, ...] = attrs.field(factory=_gateway_class_conditions)
    supported_features: tuple[SupportedFeature, ...] = ()


@attrs.frozen
class GatewayClass(ResourceBase):
    """A gateway.networking.k8s.io/v1 GatewayClass (cluster-scoped).

    "GatewayClass describes a class of Gateways available to the user for creating Gateway
    resources. It is recommended that this resource be used as a template for Gateways. This
    means that a Gateway is based on the state of the GatewayClass at the time it was created
    and changes to the GatewayClass or associated parameters are not propagated down to
    existing Gateways."
    """

    api_version: ClassVar[str] = f"{GROUP}/v1"
    kind: ClassVar[str] = "GatewayClass"
    namespaced: ClassVar[bool] = False

    spec: GatewayClassSpec = attrs.field(factory=GatewayClassSpec, metadata=REQUIRED)
    status: GatewayClassStatus = attrs.field(factory=GatewayClassStatus)


# --- Gateway (gateway_types.go) -------------------------------------------------------------


@attrs.frozen
class RouteGroupKind:
    """RouteGroupKind indicates the group and kind of a Route resource.

    Attributes:
        group: "Group is the group of the Route." (default "gateway.networking.k8s.io")
        kind: "Kind is the kind of the Route."
    """

    group: str = GROUP
    kind: str = attrs.field(default="", metadata=REQUIRED)


@attrs.frozen
class RouteNamespaces:
    """RouteNamespaces indicate which namespaces Routes should be selected from.

    Attributes:
        from_: "From indicates where Routes will be selected for this Gateway. Possible values
            are: * All: Routes in all namespaces may be used by this Gateway. * Selector:
            Routes in namespaces selected by the selector may be used by this Gateway. *
            Same: Only Routes in the same namespace may be used by this Gateway." (JSON
            `from`, default "Same")
        selector: "Selector must be specified when From is set to "Selector". In that case,
            only Routes in Namespaces matching this Selector will be selected by this Gateway.
            This field is ignored for other values of "From"."
    """

    from_: str = "Same"
    selector: LabelSelector | None = None


def _route_namespaces() -> RouteNamespaces:
    return RouteNamespaces()


@attrs.frozen
class AllowedRoutes:
    """AllowedRoutes defines which Routes may be attached to this Listener.

    Attributes:
        namespaces: "Namespaces indicates namespaces from which Routes may be attached to this
            Listener. This is restricted to the namespace of this Gateway by default."
        kinds: "Kinds specifies the groups and kinds of Routes that are allowed to bind to this
            Gateway Listener. When unspecified or empty, the kinds of Routes selected are
            determined using the Listener protocol."
    """

    namespaces: RouteNamespaces = attrs.field(factory=_route_namespaces)
    kinds: tuple[RouteGroupKind, ...] = ()


@attrs.frozen
class ListenerTLSConfig:
    """ListenerTLSConfig describes a TLS configuration for a listener.

    Attributes:
        mode: "Mode defines the TLS behavior for the TLS session initiated by the client.
            There are two possible modes: - Terminate: The TLS session between the downstream
            client and the Gateway is terminated at the Gateway. ... - Passthrough: The TLS
            session is NOT terminated by the Gateway." (default "Terminate")
        certificate_refs: "CertificateRefs contains a series of references to Kubernetes
            objects that contains TLS certificates and private keys. These certificates are
            used to establish a TLS handshake for requests that match the hostname of the
            associated listener."
        options: "Options are a list of key/value pairs to enable extended TLS configuration
            for each implementation."
    """

    mode: str = "Terminate"
    certificate_refs: tuple[SecretObjectReference, ...] = ()
    options: FrozenMap[str, str] = attrs.field(factory=_empty_map)


def _allowed_routes() -> AllowedRoutes:
    return AllowedRoutes()


@attrs.frozen
class Listener:
    """Listener embodies the concept of a logical endpoint where a Gateway accepts connections.

    Attributes:
        name: "Name is the name of the Listener. This name MUST be unique within a Gateway."
        hostname: "Hostname specifies the virtual hostname to match for protocol types that
            define this concept. When unspecified, all hostnames are matched. This field is
            ignored for protocols that don't require hostname based matching."
        port: "Port is the network port. Multiple listeners may use the same port, subject to
            the Listener compatibility rules."
        protocol: "Protocol specifies the network protocol this listener expects to receive."
        tls: "TLS is the TLS configuration for the Listener. This field is required if the
            Protocol field is "HTTPS" or "TLS". It is invalid to set this field if the Protocol
            field is "HTTP", "TCP", or "UDP"."
        allowed_routes: "AllowedRoutes defines the types of routes that MAY be attached to a
            Listener and the trusted namespaces where those Route resources MAY be present."
            (default `{namespaces: {from: Same}}`)
    """

    name: str = attrs.field(default="", metadata=REQUIRED)
    hostname: str | None = None
    port: int = attrs.field(default=0, metadata=REQUIRED)
    protocol: str = attrs.field(default="", metadata=REQUIRED)
    tls: ListenerTLSConfig | None = None
    allowed_routes: AllowedRoutes = attrs.field(factory=_allowed_routes)


@attrs.frozen
class GatewaySpecAddress:
    """GatewaySpecAddress describes an address that can be bound to a Gateway.

    Attributes:
        type: "Type of the address." (default "IPAddress")
        value: "When a value is unspecified, an implementation SHOULD automatically assign an
            address matching the requested type if possible."
    """

    type: str = "IPAddress"
    value: str = ""


@attrs.frozen
class LocalParametersReference:
    """LocalParametersReference identifies an object of controller-specific configuration.

    "... resource within the namespace."

    Attributes:
        group: "Group is the group of the referent."
        kind: "Kind is kind of the referent."
        name: "Name is the name of the referent."
    """

    group: str = attrs.field(default="", metadata=REQUIRED)
    kind: str = attrs.field(default="", metadata=REQUIRED)
    name: str = attrs.field(default="", metadata=REQUIRED)


@attrs.frozen
class GatewayInfrastructure:
    """GatewayInfrastructure defines infrastructure level attributes about a Gateway instance.

    Attributes:
        labels: "Labels that SHOULD be applied to any resources created in response to this
            Gateway."
        annotations: "Annotations that SHOULD be applied to any resources created in response
            to this Gateway."
        parameters_ref: "ParametersRef is a reference to a resource that contains the
            configuration parameters corresponding to the Gateway."
    """

    labels: FrozenMap[str, str] = attrs.field(factory=_empty_map)
    annotations: FrozenMap[str, str] = attrs.field(factory=_empty_map)
    parameters_ref: LocalParametersReference | None = None


@attrs.frozen
class ListenerNamespaces:
    """ListenerNamespaces indicate which namespaces ListenerSets should be selected from.

    Attributes:
        from_: "From indicates where ListenerSets can attach to this Gateway. Possible values
            are: * Same: Only ListenerSets in the same namespace may be attached to this
            Gateway. * Selector: ListenerSets in namespaces selected by the selector may be
            attached to this Gateway. * All: ListenerSets in all namespaces may be attached to
            this Gateway. * None: Only listeners defined in the Gateway's spec are allowed"
            (JSON `from`, default "None")
        selector: "Selector must be specified when From is set to "Selector"."
    """

    from_: str = "None"
    selector: LabelSelector | None = None


def _listener_namespaces() -> ListenerNamespaces:
    return ListenerNamespaces()


@attrs.frozen
class AllowedListeners:
    """AllowedListeners defines which ListenerSets can be attached to this Gateway.

    Attributes:
        namespaces: "Namespaces defines which namespaces ListenerSets can be attached to this
            Gateway. The default value None means no ListenerSets may be attached."
    """

    namespaces: ListenerNamespaces = attrs.field(factory=_listener_namespaces)


@attrs.frozen
class FrontendTLSValidation:
    """FrontendTLSValidation holds configuration information to validate the frontend.

    "... that can be used to validate the frontend initiating the TLS connection."

    Attributes:
        ca_certificate_refs: "CACertificateRefs contains one or more references to Kubernetes
            objects that contain a PEM-encoded TLS CA certificate bundle, which is used as a
            trust anchor to validate the certificates presented by the client."
        mode: "FrontendValidationMode defines the mode for validating the client certificate.
            There are two possible modes: - AllowValidOnly: In this mode, the gateway will
            accept connections only if the client presents a valid certificate. ... -
            AllowInsecureFallback: In this mode, the gateway will accept connections even if
            the client certificate is not presented or fails verification." (default
            "AllowValidOnly")
    """

    ca_certificate_refs: tuple[ObjectReference, ...] = attrs.field(default=(), metadata=REQUIRED)
    mode: str = "AllowValidOnly"


@attrs.frozen
class TLSConfig:
    """TLSConfig describes TLS configuration that can apply to multiple Listeners of a Gateway.

    Attributes:
        validation: "Validation holds configuration information for validating the frontend
            (client). Setting this field will result in mutual authentication when connecting
            to the gateway."
    """

    validation: FrontendTLSValidation | None = None


@attrs.frozen
class TLSPortConfig:
    """`TLSPortConfig`: the frontend TLS configuration of the listeners on one port.

    Attributes:
        port: "The Port indicates the Port Number to which the TLS configuration will be
            applied. This configuration will be applied to all Listeners handling HTTPS
            traffic that match this port."
        tls: "TLS store the configuration that will be applied to all Listeners handling HTTPS
            traffic and matching given port."
    """

    port: int = attrs.field(default=0, metadata=REQUIRED)
    tls: TLSConfig = attrs.field(factory=TLSConfig, metadata=REQUIRED)


@attrs.frozen
class FrontendTLSConfig:
    """FrontendTLSConfig specifies frontend tls configuration for gateway.

    Attributes:
        default: "Default specifies the default client certificate validation configuration
            for all Listeners handling HTTPS traffic, unless a per-port configuration is
            defined."
        per_port: "PerPort specifies tls configuration assigned per port. Per port
            configuration is optional. Once set this configuration overrides the default
            configuration for all Listeners handling HTTPS traffic that match this port."
    """

    default: TLSConfig = attrs.field(factory=TLSConfig, metadata=REQUIRED)
    per_port: tuple[TLSPortConfig, ...] = ()


@attrs.frozen
class GatewayBackendTLS:
    """GatewayBackendTLS describes backend TLS configuration for gateway.

    Attributes:
        client_certificate_ref: "ClientCertificateRef references an object that contains a
            client certificate and its associated private key. It can reference standard
            Kubernetes resources, i.e., Secret, or implementation-specific custom resources."
    """

    client_certificate_ref: SecretObjectReference | None = None


@attrs.frozen
class GatewayTLSConfig:
    """GatewayTLSConfig specifies frontend and backend tls configuration for gateway. (`spec.tls`).

    The TLS configuration of one listener is `ListenerTLSConfig` (`spec.listeners[i].tls`).

    Attributes:
        backend: "Backend describes TLS configuration for gateway when connecting to
            backends."
        frontend: "Frontend describes TLS config when client connects to Gateway. Support:
            Core for Default configuration. Support: Extended for PerPort configuration."
    """

    backend: GatewayBackendTLS | None = None
    frontend: FrontendTLSConfig | None = None


@attrs.frozen
class GatewaySpec:
    """GatewaySpec defines the desired state of Gateway.

    Attributes:
        gateway_class_name: "GatewayClassName used for this Gateway. This is the name of a
            GatewayClass resource."
        listeners: "Listeners associated with this Gateway. Listeners define logical endpoints
            that are bound on this Gateway's addresses. At least one Listener MUST be
            specified."
        addresses: "Addresses requested for this Gateway. This is optional and behavior can
            depend on the implementation."
        infrastructure: "Infrastructure defines infrastructure level attributes about this
            Gateway instance."
        allowed_listeners: "AllowedListeners defines which ListenerSets can be attached to
            this Gateway. The default value is to allow no ListenerSets."
        tls: "TLS specifies frontend and backend tls configuration for entire gateway."
    """

    gateway_class_name: str = attrs.field(default="", metadata=REQUIRED)
    listeners: tuple[Listener, ...] = attrs.field(default=(), metadata=REQUIRED)
    addresses: tuple[GatewaySpecAddress, ...] = ()
    infrastructure: GatewayInfrastructure | None = None
    allowed_listeners: AllowedListeners | None = None
    tls: GatewayTLSConfig | None = None


@attrs.frozen
class GatewayStatusAddress:
    """GatewayStatusAddress describes a network address that is bound to a Gateway.

    Attributes:
        type: "Type of the address." (default "IPAddress")
        value: "Value of the address. The validity of the values will depend on the type and
            support by the controller. Examples: `1.2.3.4`, `128::1`, `my-ip-address`."
    """

    type: str = "IPAddress"
    value: str = attrs.field(default="", metadata=REQUIRED)


@attrs.frozen
class ListenerStatus:
    """ListenerStatus is the status associated with a Listener.

    Attributes:
        name: "Name is the name of the Listener that this status corresponds to."
        supported_kinds: "SupportedKinds is the list indicating the Kinds supported by this
            listener. This MUST represent the kinds supported by an implementation for that
            Listener configuration."
        attached_routes: "AttachedRoutes represents the total number of Routes that have been
            successfully attached to this Listener."
        conditions: "Conditions describe the current condition of this listener."
    """

    name: str = attrs.field(default="", metadata=REQUIRED)
    supported_kinds: tuple[RouteGroupKind, ...] = ()
    attached_routes: int = attrs.field(default=0, metadata=REQUIRED)
    conditions: tuple[Condition, ...] = attrs.field(default=(), metadata=REQUIRED)


def _gateway_conditions() -> tuple[Condition, ...]:
    return _pending("Accepted", "Programmed")


@attrs.frozen
class GatewayStatus:
    """GatewayStatus defines the observed state of Gateway.

    Attributes:
        addresses: "Addresses lists the network addresses that have been bound to the
            Gateway."
        conditions: "Conditions describe the current conditions of the Gateway." (default:
            Accepted and Programmed, Unknown, Pending, "Waiting for controller")
        listeners: "Listeners provide status for each unique listener port defined in the
            Spec."
        attached_listener_sets: "AttachedListenerSets represents the total number of
            ListenerSets that have been successfully attached to this Gateway."
    """

    addresses: tuple[GatewayStatusAddress, ...] = ()
    conditions: tuple[Condition, ...] = attrs.field(factory=_gateway_conditions)
    listeners: tuple[ListenerStatus, ...] = ()
    attached_listener_sets: int | None = None


@attrs.frozen
class Gateway(ResourceBase):
    """A gateway.networking.k8s.io/v1 Gateway.

    "Gateway represents an instance of a service-traffic handling infrastructure by binding
    Listeners to a set of IP addresses."
    """

    api_version: ClassVar[str] = f"{GROUP}/v1"
    kind: ClassVar[str] = "Gateway"

    spec: GatewaySpec = attrs.field(factory=GatewaySpec, metadata=REQUIRED)
    status: GatewayStatus = attrs.field(factory=GatewayStatus)


# --- HTTPRoute (httproute_types.go) ---------------------------------------------------------


@attrs.frozen
class HTTPPathMatch:
    """HTTPPathMatch describes how to select a HTTP route by matching the HTTP request path.

    Attributes:
        type: "Type specifies how to match against the path Value. Support: Core (Exact,
            PathPrefix) Support: Implementation-specific (RegularExpression)" (default
            "PathPrefix")
        value: "Value of the HTTP path to match against." (default "/")
    """

    type: str = "PathPrefix"
    value: str = "/"


@attrs.frozen
class HTTPHeaderMatch:
    """HTTPHeaderMatch describes how to select a HTTP route by matching HTTP request headers.

    Attributes:
        type: "Type specifies how to match against the value of the header." (default
            "Exact")
        name: "Name is the name of the HTTP Header to be matched. Name matching MUST be case-
            insensitive. (See https://tools.ietf.org/html/rfc7230#section-3.2). If multiple
            entries specify equivalent header names, only the first entry with an equivalent
            name MUST be considered for a match."
        value: "Value is the value of HTTP Header to be matched."
    """

    type: str = "Exact"
    name: str = attrs.field(default="", metadata=REQUIRED)
    value: str = attrs.field(default="", metadata=REQUIRED)


@attrs.frozen
class HTTPQueryParamMatch:
    """HTTPQueryParamMatch describes how to select a HTTP route by matching HTTP query parameters.

    Attributes:
        type: "Type specifies how to match against the value of the query parameter."
            (default "Exact")
        name: "Name is the name of the HTTP query param to be matched. This must be an exact
            string match. (See https://tools.ietf.org/html/rfc7230#section-2.7.3). If
            multiple entries specify equivalent query param names, only the first entry with
            an equivalent name MUST be considered for a match."
        value: "Value is the value of HTTP query param to be matched."
    """

    type: str = "Exact"
    name: str = attrs.field(default="", metadata=REQUIRED)
    value: str = attrs.field(default="", metadata=REQUIRED)


def _path_match() -> HTTPPathMatch:
    return HTTPPathMatch()


@attrs.frozen
class HTTPRouteMatch:
    """HTTPRouteMatch defines the predicate used to match requests to a given action.

    "Multiple match types are ANDed together, i.e. the match will evaluate to true only if all
    conditions are satisfied."

    Attributes:
        path: "Path specifies a HTTP request path matcher. If this field is not specified, a
            default prefix match on the "/" path is provided."
        headers: "Headers specifies HTTP request header matchers. Multiple match values are
            ANDed together, meaning, a request must match all the specified headers to select
            the route."
        query_params: "QueryParams specifies HTTP query parameter matchers. Multiple match
            values are ANDed together, meaning, a request must match all the specified query
            parameters to select the route."
        method: "Method specifies HTTP method matcher. When specified, this route will be
            matched only if the request has the specified method."
    """

    path: HTTPPathMatch = attrs.field(factory=_path_match)
    headers: tuple[HTTPHeaderMatch, ...] = ()
    query_params: tuple[HTTPQueryParamMatch, ...] = ()
    method: str | None = None


@attrs.frozen
class HTTPHeader:
    """HTTPHeader represents an HTTP Header name and value as defined by RFC 7230.

    Attributes:
        name: "Name is the name of the HTTP Header to be matched. Name matching MUST be case-
            insensitive."
        value: "Value is the value of HTTP Header to be matched."
    """

    name: str = attrs.field(default="", metadata=REQUIRED)
    value: str = attrs.field(default="", metadata=REQUIRED)


@attrs.frozen
class HTTPHeaderFilter:
    """HTTPHeaderFilter defines a filter that modifies the headers of an HTTP request or response.

    "Only one action for a given header name is permitted. Filters specifying multiple actions
    of the same or different type for any one header name are invalid."

    Attributes:
        set: "Set overwrites the request with the given header (name, value) before the
            action."
        add: "Add adds the given header(s) (name, value) to the request before the action. It
            appends to any existing values associated with the header name."
        remove: "Remove the given header(s) from the HTTP request before the action. The value
            of Remove is a list of HTTP header names. Note that the header names are case-
            insensitive."
    """

    set: tuple[HTTPHeader, ...] = ()
    add: tuple[HTTPHeader, ...] = ()
    remove: tuple[str, ...] = ()


@attrs.frozen
class HTTPPathModifier:
    """HTTPPathModifier defines configuration for path modifiers.

    Attributes:
        type: "Type defines the type of path modifier. Additional types may be added in a
            future release of the API." (ReplaceFullPath, ReplacePrefixMatch)
        replace_full_path: "ReplaceFullPath specifies the value with which to replace the full
            path of a request during a rewrite or redirect."
        replace_prefix_match: "ReplacePrefixMatch specifies the value with which to replace
            the prefix match of a request during a rewrite or redirect. For example, a request
            to "/foo/bar" with a prefix match of "/foo" and a ReplacePrefixMatch of "/xyz"
            would be modified to "/xyz/bar"."
    """

    type: str = attrs.field(default="", metadata=REQUIRED)
    replace_full_path: str | None = None
    replace_prefix_match: str | None = None


@attrs.frozen
class HTTPRequestRedirectFilter:
    """HTTPRequestRedirect defines a filter that redirects a request.

    "This filter MUST NOT be used on the same Route rule as a HTTPURLRewrite filter."

    Attributes:
        scheme: "Scheme is the scheme to be used in the value of the `Location` header in the
            response. When empty, the scheme of the request is used."
        hostname: "Hostname is the hostname to be used in the value of the `Location` header
            in the response. When empty, the hostname in the `Host` header of the request is
            used."
        path: "Path defines parameters used to modify the path of the incoming request. The
            modified path is then used to construct the `Location` header. When empty, the
            request path is used as-is."
        port: "Port is the port to be used in the value of the `Location` header in the
            response. If no port is specified, the redirect port MUST be derived using the
            following rules: * If redirect scheme is not-empty, the redirect port MUST be the
            well-known port associated with the redirect scheme. ... * If redirect scheme is
            empty, the redirect port MUST be the Gateway Listener port."
        status_code: "StatusCode is the HTTP status code to be used in response." (default
            302)
    """

    scheme: str | None = None
    hostname: str | None = None
    path: HTTPPathModifier | None = None
    port: int | None = None
    status_code: int = 302


@attrs.frozen
class HTTPURLRewriteFilter:
    """HTTPURLRewriteFilter defines a filter that modifies a request during forwarding.

    "At most one of these filters may be used on a Route rule. This MUST NOT be used on the
    same Route rule as a HTTPRequestRedirect filter."

    Attributes:
        hostname: "Hostname is the value to be used to replace the Host header value during
            forwarding."
        path: "Path defines a path rewrite."
    """

    hostname: str | None = None
    path: HTTPPathModifier | None = None


@attrs.frozen
class HTTPRequestMirrorFilter:
    """HTTPRequestMirrorFilter defines configuration for the RequestMirror filter.

    Attributes:
        backend_ref: "BackendRef references a resource where mirrored requests are sent.
            Mirrored requests must be sent only to a single destination endpoint within this
            BackendRef, irrespective of how many endpoints are present within this
            BackendRef."
        percent: "Percent represents the percentage of requests that should be mirrored to
            BackendRef. Its minimum value is 0 (indicating 0% of requests) and its maximum
            value is 100 (indicating 100% of requests). Only one of Fraction or Percent may be
            specified. If neither field is specified, 100% of requests will be mirrored."
        fraction: "Fraction represents the fraction of requests that should be mirrored to
            BackendRef. Only one of Fraction or Percent may be specified. If neither field is
            specified, 100% of requests will be mirrored."
    """

    backend_ref: BackendObjectReference = attrs.field(
        factory=BackendObjectReference, metadata=REQUIRED
    )
    percent: int | None = None
    fraction: Fraction | None = None


@attrs.frozen
class HTTPCORSFilter:
    """HTTPCORSFilter defines a filter that that configures Cross-Origin Request Sharing (CORS).

    Attributes:
        allow_origins: "AllowOrigins indicates whether the response can be shared with
            requested resource from the given `Origin`."
        allow_credentials: "AllowCredentials indicates whether the actual cross-origin request
            allows to include credentials."
        allow_methods: "AllowMethods indicates which HTTP methods are supported for accessing
            the requested resource."
        allow_headers: "AllowHeaders indicates which HTTP request headers are supported for
            accessing the requested resource."
        expose_headers: "ExposeHeaders indicates which HTTP response headers can be exposed to
            client-side scripts in response to a cross-origin request."
        max_age: "MaxAge indicates the duration (in seconds) for the client to cache the
            results of a "preflight" request." (default 5)
    """

    allow_origins: tuple[str, ...] = ()
    allow_credentials: bool | None = None
    allow_methods: tuple[str, ...] = ()
    allow_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age: int = 5


@attrs.frozen
class HTTPRouteFilter:
    """HTTPRouteFilter defines processing steps of the request or response lifecycle.

    "... that must be completed during the request or response lifecycle."

    "HTTPRouteFilters are meant as an extension point to express processing that may be done
    in Gateway implementations." Exactly the member named by `type` is set.

    Attributes:
        type: "Type identifies the type of filter to apply. As with other API fields, types
            are classified into three conformance levels." (RequestHeaderModifier,
            ResponseHeaderModifier, RequestMirror, RequestRedirect, URLRewrite, ExtensionRef,
            CORS)
        request_header_modifier: "RequestHeaderModifier defines a schema for a filter that
            modifies request headers."
        response_header_modifier: "ResponseHeaderModifier defines a schema for a filter that
            modifies response headers."
        request_mirror: "RequestMirror defines a schema for a filter that mirrors requests.
            Requests are sent to the specified destination, but responses from that
            destination are ignored."
        request_redirect: "RequestRedirect defines a schema for a filter that responds to the
            request with an HTTP redirection."
        url_rewrite: "URLRewrite defines a schema for a filter that modifies a request during
            forwarding."
        cors: "CORS defines a schema for a filter that responds to the cross-origin request
            based on HTTP response header."
        extension_ref: "ExtensionRef is an optional, implementation-specific extension to the
            "filter" behavior."
    """

    type: str = attrs.field(default="", metadata=REQUIRED)
    request_header_modifier: HTTPHeaderFilter | None = None
    response_header_modifier: HTTPHeaderFilter | None = None
    request_mirror: HTTPRequestMirrorFilter | None = None
    request_redirect: HTTPRequestRedirectFilter | None = None
    url_rewrite: HTTPURLRewriteFilter | None = None
    cors: HTTPCORSFilter | None = None
    extension_ref: LocalObjectReference | None = None


@attrs.frozen
class HTTPBackendRef(BackendRef):
    """HTTPBackendRef defines how a HTTPRoute forwards a HTTP request.

    Attributes:
        filters: "Filters defined at this level should be executed if and only if the request
            is being forwarded to the backend defined here."
    """

    filters: tuple[HTTPRouteFilter, ...] = ()


@attrs.frozen
class HTTPRouteTimeouts:
    """HTTPRouteTimeouts defines timeouts that can be configured for an HTTPRoute.

    Durations are Gateway API `Duration` strings ("GEP-2257": `^([0-9]{1,5}(h|m|s|ms)){1,4}$`).

    Attributes:
        request: "Request specifies the maximum duration for a gateway to respond to an HTTP
            request. If the gateway has not been able to respond before this deadline is met,
            the gateway MUST return a timeout error. ... Setting a timeout to the zero
            duration (e.g. "0s") SHOULD disable the timeout completely."
        backend_request: "BackendRequest specifies a timeout for an individual request from
            the gateway to a backend. This covers the time from when the request first starts
            being sent from the gateway to when the full response has been received from the
            backend."
    """

    request: str | None = None
    backend_request: str | None = None


def _default_matches() -> tuple[HTTPRouteMatch, ...]:
    return (HTTPRouteMatch(),)


@attrs.frozen
class HTTPRouteRule:
    """HTTPRouteRule: matches, filters and backendRefs.

    "HTTPRouteRule defines semantics for matching an HTTP request based on conditions
    (matches), processing it (filters), and forwarding the request to an API object
    (backendRefs)."

    Attributes:
        name: "Name is the name of the route rule. This name MUST be unique within a Route if
            it is set."
        matches: "Matches define conditions used for matching the rule against incoming HTTP
            requests. Each match is independent, i.e. this rule will be matched if **any** one
            of the matches is satisfied." (default: one match, the prefix "/")
        filters: "Filters define the filters that are applied to requests that match this
            rule."
        backend_refs: "BackendRefs defines the backend(s) where matching requests should be
            sent."
        timeouts: "Timeouts defines the timeouts that can be configured for an HTTP request."
    """

    name: str | None = None
    matches: tuple[HTTPRouteMatch, ...] = attrs.field(factory=_default_matches)
    filters: tuple[HTTPRouteFilter, ...] = ()
    backend_refs: tuple[HTTPBackendRef, ...] = ()
    timeouts: HTTPRouteTimeouts | None = None


def _default_rules() -> tuple[HTTPRouteRule, ...]:
    return (HTTPRouteRule(),)


@attrs.frozen
class HTTPRouteSpec(CommonRouteSpec):
    """HTTPRouteSpec defines the desired state of HTTPRoute.

    Attributes:
        hostnames: "Hostnames defines a set of hostnames that should match against the HTTP
            Host header to select a HTTPRoute used to process the request."
        rules: "Rules are a list of HTTP matchers, filters and actions." (default: one rule
            matching the prefix "/")
    """

    hostnames: tuple[str, ...] = ()
    rules: tuple[HTTPRouteRule, ...] = attrs.field(factory=_default_rules)


@attrs.frozen
class HTTPRouteStatus(RouteStatus):
    """HTTPRouteStatus defines the observed state of HTTPRoute.."""


@attrs.frozen
class HTTPRoute(ResourceBase):
    """A gateway.networking.k8s.io/v1 HTTPRoute.

    "HTTPRoute provides a way to route HTTP requests. This includes the capability to match
    requests by hostname, path, header, or query param. Filters can be used to specify
    additional processing steps. Backends specify where matching requests should be routed."
    """

    api_version: ClassVar[str] = f"{GROUP}/v1"
    kind: ClassVar[str] = "HTTPRoute"

    spec: HTTPRouteSpec = attrs.field(factory=HTTPRouteSpec, metadata=REQUIRED)
    status: HTTPRouteStatus = attrs.field(factory=HTTPRouteStatus)


# --- GRPCRoute (grpcroute_types.go) ---------------------------------------------------------


@attrs.frozen
class GRPCMethodMatch:
    """GRPCMethodMatch: how to select a gRPC route by the request's service and/or method.

    "At least one of Service and Method MUST be a non-empty string."

    Attributes:
        type: "Type specifies how to match against the service and/or method. Support: Core
            (Exact with service and method specified) Support: Implementation-specific (Exact
            with method specified but no service specified) Support: Implementation-specific
            (RegularExpression)" (default "Exact")
        service: "Value of the service to match against. If left empty or omitted, will match
            any service."
        method: "Value of the method to match against. If left empty or omitted, will match
            all services."
    """

    type: str = "Exact"
    service: str | None = None
    method: str | None = None


@attrs.frozen
class GRPCHeaderMatch:
    """GRPCHeaderMatch describes how to select a gRPC route by matching gRPC request headers.

    Attributes:
        type: "Type specifies how to match against the value of the header." (default
            "Exact")
        name: "Name is the name of the gRPC Header to be matched. If multiple entries specify
            equivalent header names, only the first entry with an equivalent name MUST be
            considered for a match."
        value: "Value is the value of the gRPC Header to be matched."
    """

    type: str = "Exact"
    name: str = attrs.field(default="", metadata=REQUIRED)
    value: str = attrs.field(default="", metadata=REQUIRED)


@attrs.frozen
class GRPCRouteMatch:
    """GRPCRouteMatch defines the predicate used to match requests to a given action.

    "Multiple match types are ANDed together, i.e. the match will evaluate to true only if all
    conditions are satisfied."

    Attributes:
        method: "Method specifies a gRPC request service/method matcher. If this field is not
            specified, all services and methods will match."
        headers: "Headers specifies gRPC request header matchers. Multiple match values are
            ANDed together, meaning, a request MUST match all the specified headers to select
            the route."
    """

    method: GRPCMethodMatch | None = None
    headers: tuple[GRPCHeaderMatch, ...] = ()


@attrs.frozen
class GRPCRouteFilter:
    """GRPCRouteFilter defines processing steps of the request or response lifecycle.

    "... that must be completed during the request or response lifecycle."

    Attributes:
        type: "Type identifies the type of filter to apply." (RequestHeaderModifier,
            ResponseHeaderModifier, RequestMirror, ExtensionRef)
        request_header_modifier: "RequestHeaderModifier defines a schema for a filter that
            modifies request headers."
        response_header_modifier: "ResponseHeaderModifier defines a schema for a filter that
            modifies response headers."
        request_mirror: "RequestMirror defines a schema for a filter that mirrors requests.
            Requests are sent to the specified destination, but responses from that
            destination are ignored."
        extension_ref: "ExtensionRef is an optional, implementation-specific extension to the
            "filter" behavior."
    """

    type: str = attrs.field(default="", metadata=REQUIRED)
    request_header_modifier: HTTPHeaderFilter | None = None
    response_header_modifier: HTTPHeaderFilter | None = None
    request_mirror: HTTPRequestMirrorFilter | None = None
    extension_ref: LocalObjectReference | None = None


@attrs.frozen
class GRPCBackendRef(BackendRef):
    """GRPCBackendRef defines how a GRPCRoute forwards a gRPC request.

    Attributes:
        filters: "Filters defined at this level MUST be executed if and only if the request is
            being forwarded to the backend defined here."
    """

    filters: tuple[GRPCRouteFilter, ...] = ()


@attrs.frozen
class GRPCRouteRule:
    """GRPCRouteRule: matches, filters and backendRefs.

    "GRPCRouteRule defines the semantics for matching a gRPC request based on conditions
    (matches), processing it (filters), and forwarding the request to an API object
    (backendRefs)."

    Attributes:
        name: "Name is the name of the route rule. This name MUST be unique within a Route if
            it is set."
        matches: "Matches define conditions used for matching the rule against incoming gRPC
            requests. Each match is independent, i.e. this rule will be matched if **any** one
            of the matches is satisfied. ... If no matches are specified, the implementation
            MUST match every gRPC request."
        filters: "Filters define the filters that are applied to requests that match this
            rule."
        backend_refs: "BackendRefs defines the backend(s) where matching requests should be
            sent."
    """

    name: str | None = None
    matches: tuple[GRPCRouteMatch, ...] = ()
    filters: tuple[GRPCRouteFilter, ...] = ()
    backend_refs: tuple[GRPCBackendRef, ...] = ()


@attrs.frozen
class GRPCRouteSpec(CommonRouteSpec):
    """GRPCRouteSpec defines the desired state of GRPCRoute.

    Attributes:
        hostnames: "Hostnames defines a set of hostnames to match against the GRPC Host header
            to select a GRPCRoute to process the request."
        rules: "Rules are a list of GRPC matchers, filters and actions."
    """

    hostnames: tuple[str, ...] = ()
    rules: tuple[GRPCRouteRule, ...] = ()


@attrs.frozen
class GRPCRouteStatus(RouteStatus):
    """GRPCRouteStatus defines the observed state of GRPCRoute.."""


@attrs.frozen
class GRPCRoute(ResourceBase):
    """A gateway.networking.k8s.io/v1 GRPCRoute.

    "GRPCRoute provides a way to route gRPC requests. This includes the capability to match
    requests by hostname, gRPC service, gRPC method, or HTTP/2 header. Filters can be used to
    specify additional processing steps. Backends specify where matching requests will be
    routed."
    """

    api_version: ClassVar[str] = f"{GROUP}/v1"
    kind: ClassVar[str] = "GRPCRoute"

    spec: GRPCRouteSpec = attrs.field(factory=GRPCRouteSpec, metadata=REQUIRED)
    status: GRPCRouteStatus = attrs.field(factory=GRPCRouteStatus)


# --- ReferenceGrant (referencegrant_types.go) ---------------------------------------------


@attrs.frozen
class ReferenceGrantFrom:
    """ReferenceGrantFrom describes trusted namespaces and kinds.

    Attributes:
        group: "Group is the group of the referent. When empty, the Kubernetes core API group
            is inferred."
        kind: "Kind is the kind of the referent. Although implementations may support
            additional resources, the following types are part of the "Core" support level
            for this field." (Gateway, GRPCRoute, HTTPRoute, TLSRoute, TCPRoute, UDPRoute)
        namespace: "Namespace is the namespace of the referent."
    """

    group: str = attrs.field(default="", metadata=REQUIRED)
    kind: str = attrs.field(default="", metadata=REQUIRED)
    namespace: str = attrs.field(default="", metadata=REQUIRED)


@attrs.frozen
class ReferenceGrantTo:
    """ReferenceGrantTo describes what Kinds are allowed as targets of the references.

    Attributes:
        group: "Group is the group of the referent. When empty, the Kubernetes core API group
            is inferred."
        kind: "Kind is the kind of the referent. Although implementations may support
            additional resources, the following types are part of the "Core" support level
            for this field: * Secret when used to permit a SecretObjectReference * Service
            when used to permit a BackendObjectReference"
        name: "Name is the name of the referent. When unspecified, this policy refers to all
            resources of the specified Group and Kind in the local namespace."
    """

    group: str = attrs.field(default="", metadata=REQUIRED)
    kind: str = attrs.field(default="", metadata=REQUIRED)
    name: str | None = None


@attrs.frozen
class ReferenceGrantSpec:
    """ReferenceGrantSpec identifies a cross namespace relationship that is trusted for Gateway API.

    Attributes:
        from_: "From describes the trusted namespaces and kinds that can reference the
            resources described in "To". Each entry in this list MUST be considered to be an
            additional place that references can be valid from, or to put this another way,
            entries MUST be combined using OR." (JSON `from`)
        to: "To describes the resources that may be referenced by the resources described in
            "From". Each entry in this list MUST be considered to be an additional place that
            references can be valid to, or to put this another way, entries MUST be combined
            using OR."
    """

    from_: tuple[ReferenceGrantFrom, ...] = attrs.field(default=(), metadata=REQUIRED)
    to: tuple[ReferenceGrantTo, ...] = attrs.field(default=(), metadata=REQUIRED)


@attrs.frozen
class ReferenceGrant(ResourceBase):
    """A gateway.networking.k8s.io ReferenceGrant (served as v1 and v1beta1; modelled as v1).

    "ReferenceGrant identifies kinds of resources in other namespaces that are trusted to
    reference the specified kinds of resources in the same namespace as the policy. Each
    ReferenceGrant can be used to represent a unique trust relationship. Additional Reference
    Grants can be used to add to the set of trusted sources of inbound references for the
    namespace they are defined within."
    """

    api_version: ClassVar[str] = f"{GROUP}/v1"
    kind: ClassVar[str] = "ReferenceGrant"

    spec: ReferenceGrantSpec = attrs.field(factory=ReferenceGrantSpec, metadata=REQUIRED)
