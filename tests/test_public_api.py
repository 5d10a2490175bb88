"""The package's public names, pinned; and every module declares `__all__`.

`PUBLIC_ALL` pins the exact `__all__` of every public module (no part of its name starts with
"_"): a name added, removed or renamed is a change of the public API, made here on purpose.
The routing one will change with the route-IR redesign (issue 11): pin the new one then.
"""

from __future__ import annotations

import ast
import importlib
import pkgutil
import types
from pathlib import Path

import pytest

import ingresslib

#: The exact `__all__` of each public module, sorted.
PUBLIC_ALL: dict[str, list[str]] = {
    "ingresslib": [
        "Backend",
        "Decision",
        "DecisionPolicy",
        "EndpointSlice",
        "Explanation",
        "FrozenMap",
        "GRPCRoute",
        "Gateway",
        "GatewayClass",
        "GatewayNotFoundError",
        "GatewayStatusReport",
        "HTTPRoute",
        "Ingress",
        "IngressBackend",
        "IngressClass",
        "ManifestError",
        "ManifestProblem",
        "Namespace",
        "ObjectMeta",
        "PathType",
        "ReferenceGrant",
        "Request",
        "Resource",
        "ResourceSet",
        "RouteMatch",
        "RouteTable",
        "RouteTableError",
        "Secret",
        "Service",
        "SkippedDocument",
        "UnsupportedKindWarning",
        "WeightedBackend",
        "__version__",
        "gateway_status",
        "load_manifests",
    ],
    "ingresslib.gatewayapi": [
        "AttachedListener",
        "BackendResolution",
        "FULL_REGEX_MATCHER",
        "GatewayAttachment",
        "GatewayFrontEnd",
        "GatewayNotFoundError",
        "GatewayStatusReport",
        "ListenerState",
        "NAMESPACE_NAME_LABEL",
        "ParentAttachment",
        "ParentKey",
        "Route",
        "SUPPORTED_PROTOCOLS",
        "attach",
        "gateway_status",
        "parse_duration",
        "reference_permitted",
        "resolve_backend",
        "rule_problems",
        "select_gateway",
    ],
    "ingresslib.aiohttp": [
        "DECISION_KEY",
        "HOP_BY_HOP",
        "Handler",
        "MATCH_KEY",
        "ReverseProxy",
        "TableHolder",
        "decide",
        "ingress_middleware",
        "request_of",
        "response_of",
    ],
    "ingresslib.asgi": [
        "ASGIApp",
        "DECISION_SCOPE_KEY",
        "Forwarder",
        "HTTPForwarder",
        "IngressMiddleware",
        "Limiter",
        "MATCH_SCOPE_KEY",
        "Message",
        "Receive",
        "SSL_REDIRECT_ANNOTATION",
        "Scope",
        "Send",
        "TrustedProxies",
        "client_address",
    ],
    "ingresslib.cli": [
        "main",
        "run",
    ],
    "ingresslib.endpoints": [
        "AffinityMode",
        "Balancer",
        "BalancerBase",
        "CookieAffinity",
        "Endpoint",
        "EndpointIndex",
        "EndpointSet",
        "EndpointState",
        "HealthPolicy",
        "LeastRequest",
        "Maglev",
        "PeakEwma",
        "RandomBalancer",
        "Resolution",
        "RingHash",
        "RoundRobin",
        "SmoothWeightedRoundRobin",
        "Unresolved",
        "UnresolvedReason",
        "WeightedRandom",
        "hash64",
        "persistent_cookie_value",
        "resolve_endpoints",
    ],
    "ingresslib.kubernetes": [
        "Backoff",
        "GATEWAY_API_KINDS",
        "GatewayStatusWriter",
        "KINDS",
        "KindSpec",
        "LeaderElector",
        "Snapshot",
        "SnapshotCallback",
        "StatusWriter",
        "StatusWriterStats",
        "Watcher",
        "WatcherStats",
    ],
    "ingresslib.plugins": [
        "ANNOTATIONS_ENTRY_POINT_GROUP",
        "AnnotationContext",
        "AnnotationPlugin",
        "AnnotationPluginError",
        "AnnotationProblem",
        "CompiledPath",
        "Contribution",
        "ENTRY_POINT_GROUP",
        "HostWidePlugin",
        "NOTHING",
        "ObjectRef",
        "PHASE_ACCESS",
        "PHASE_CONTENT",
        "PHASE_PREACCESS",
        "PHASE_REWRITE",
        "PHASE_REWRITE_LUA",
        "PHASE_SERVER_REWRITE",
        "PathMatcher",
        "PathMatcherError",
        "annotation_field",
        "annotation_plugins",
        "available_path_matchers",
        "get_path_matcher",
        "register_annotation_plugin",
        "register_path_matcher",
    ],
    "ingresslib.ratelimit": [
        "AsyncRedisLimiter",
        "ConcurrencyLimiter",
        "Decision",
        "FailurePolicy",
        "FixedWindow",
        "Hold",
        "LimitReq",
        "MemoryLimiter",
        "QuotaPolicy",
        "RateAlgorithm",
        "RedisLimiter",
        "RefusalHeaders",
        "SlidingWindow",
        "TokenBucket",
        "ratelimit_header",
        "ratelimit_policy_header",
        "retry_after_header",
    ],
    "ingresslib.resources": [
        "AllowedListeners",
        "AllowedRoutes",
        "BackendObjectReference",
        "BackendRef",
        "CommonRouteSpec",
        "Condition",
        "DEFAULT_CLASS_ANNOTATION",
        "Endpoint",
        "EndpointConditions",
        "EndpointHints",
        "EndpointPort",
        "EndpointSlice",
        "ForNode",
        "ForZone",
        "Fraction",
        "FrontendTLSConfig",
        "FrontendTLSValidation",
        "FrozenMap",
        "GATEWAY_API_VERSIONS",
        "GROUP",
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
        "HTTPIngressPath",
        "HTTPIngressRuleValue",
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
        "Ingress",
        "IngressBackend",
        "IngressClass",
        "IngressClassParametersReference",
        "IngressClassSpec",
        "IngressLoadBalancerIngress",
        "IngressLoadBalancerStatus",
        "IngressPortStatus",
        "IngressRule",
        "IngressServiceBackend",
        "IngressSpec",
        "IngressStatus",
        "IngressTLS",
        "IntOrString",
        "LEGACY_CLASS_ANNOTATION",
        "LabelSelector",
        "LabelSelectorRequirement",
        "Listener",
        "ListenerNamespaces",
        "ListenerStatus",
        "ListenerTLSConfig",
        "LocalObjectReference",
        "LocalParametersReference",
        "MANIFEST_SUFFIXES",
        "ManifestError",
        "ManifestProblem",
        "NAMESPACE_NAME_LABEL",
        "Namespace",
        "NamespaceSpec",
        "NamespaceStatus",
        "ObjectMeta",
        "ObjectReference",
        "ParametersReference",
        "ParentReference",
        "PathType",
        "ReferenceGrant",
        "ReferenceGrantFrom",
        "ReferenceGrantSpec",
        "ReferenceGrantTo",
        "Resource",
        "ResourceSet",
        "RouteGroupKind",
        "RouteNamespaces",
        "RouteParentStatus",
        "RouteStatus",
        "SERVICE_NAME_LABEL",
        "Secret",
        "SecretObjectReference",
        "Service",
        "ServiceBackendPort",
        "ServiceLoadBalancerIngress",
        "ServiceLoadBalancerStatus",
        "ServicePort",
        "ServiceSpec",
        "ServiceStatus",
        "SkippedDocument",
        "SupportedFeature",
        "TLSConfig",
        "TLSPortConfig",
        "TLS_CERT_KEY",
        "TLS_PRIVATE_KEY_KEY",
        "TLS_SECRET_TYPE",
        "TypedLocalObjectReference",
        "UnsupportedKindWarning",
        "age_key",
        "load_manifests",
    ],
    "ingresslib.routing": [
        "Action",
        "Candidate",
        "Conflict",
        "DEFAULT_POLICY",
        "Decision",
        "DecisionPolicy",
        "Explanation",
        "LintFinding",
        "MatchedBy",
        "PATH_MATCHER_ANNOTATION",
        "Request",
        "RequestView",
        "Route",
        "RouteMatch",
        "RouteTable",
        "RouteTableError",
        "ScopedRouteTable",
        "ingress_view",
        "lint",
        "normalize_host",
    ],
    "ingresslib.rules": [
        "Answer",
        "Backend",
        "Balancing",
        "CORS",
        "ConnectionLimit",
        "ExternalAuth",
        "Filter",
        "HTTPSRedirect",
        "HeaderChanges",
        "HeaderMatch",
        "HeaderReader",
        "Match",
        "Mirror",
        "PathMatch",
        "PathModifier",
        "PatternError",
        "Policy",
        "QueryParamMatch",
        "Redirect",
        "RequestHeaders",
        "RequestRateLimit",
        "Respond",
        "ResponseHeaders",
        "Rewrite",
        "Rule",
        "RuleKind",
        "RuleSet",
        "Scope",
        "SessionCookie",
        "Source",
        "Step",
        "StepState",
        "StringMatchType",
        "Timeouts",
        "UpstreamProtocol",
        "WeightedBackend",
        "WildcardLabels",
        "compile_pattern",
        "gateway_covers",
        "host_covers",
        "intersect_hostnames",
        "is_ip_literal",
        "normalize_host",
        "replace_prefix",
        "wildcard_keys",
        "wildcard_parent",
    ],
    "ingresslib.ingress": [
        "IngressFrontEnd",
        "IngressKey",
        "IngressOptions",
        "MIGRATED_ANNOTATIONS",
        "Migration",
        "MigrationNote",
        "PATH_MATCHER_ANNOTATION",
        "SSL_REDIRECT_ANNOTATION",
        "backend_of",
        "ingress_rules",
        "migrate",
        "select_ingresses",
    ],
    "ingresslib.ingress.annotations": [
        "Annotated",
        "AnnotationInfo",
        "AnnotationStatus",
        "AppRoot",
        "AppRootPlugin",
        "BUILTIN_PLUGINS",
        "BackendProtocolPlugin",
        "BalancingPlugin",
        "BasicAuth",
        "BasicAuthPlugin",
        "BodySize",
        "BodySizePlugin",
        "CATALOGUE",
        "Canary",
        "CanaryPlugin",
        "CanaryPolicy",
        "ExternalAuthPlugin",
        "FixedRedirect",
        "LimitsPlugin",
        "NGINX_PREFIX",
        "NginxCORS",
        "NginxCORSPlugin",
        "ProxyTimeoutsPlugin",
        "RedirectPlugin",
        "RewritePlugin",
        "RewriteTarget",
        "Risk",
        "SSLRedirectPlugin",
        "SSL_REDIRECT_ANNOTATION",
        "ServerAliasPlugin",
        "SourceRangePlugin",
        "SourceRanges",
        "UpstreamVhostPlugin",
        "annotate",
        "annotation_status",
        "apply_host_plugins",
    ],
    "ingresslib.server": [
        "Address",
        "ClusterConfig",
        "ServeConfig",
        "Server",
        "Snapshot",
        "SnapshotSource",
        "SourceError",
        "assemble_snapshot",
        "build_snapshot",
        "loop_factory",
        "open_server",
        "parse_address",
        "parse_listener_port",
        "parse_rate_limit",
        "serve",
    ],
    "ingresslib.testing": [
        "Manifest",
        "Outcome",
        "endpoint_slice",
        "ingress",
        "ingress_class",
        "ingress_path",
        "ingress_rule",
        "ingress_tls",
        "normalize_request_host",
        "outcome_of",
        "reference_match",
        "reference_vhost",
        "service",
        "service_backend",
        "tls_secret",
    ],
    "ingresslib.tls": [
        "Certificate",
        "CertificateStore",
        "certificate_sources",
        "load_certificate",
        "sni_context",
    ],
    "ingresslib.proxy": [
        "ADMITTED",
        "Admission",
        "AuthOutcome",
        "BAD_GATEWAY",
        "BadRequest",
        "Canned",
        "EncodedSlashPolicy",
        "FORWARDING_FIELDS",
        "FailureKind",
        "GATEWAY_TIMEOUT",
        "HOP_BY_HOP",
        "INVALID_BACKEND",
        "NOT_FOUND",
        "NO_ENDPOINT",
        "PROTECTED_FROM_CONNECTION",
        "PathPolicy",
        "PolicyHandler",
        "PolicyRunner",
        "REQUEST_ONLY",
        "SERVER_OWNED",
        "TOO_MANY",
        "TrustedProxies",
        "UNAVAILABLE",
        "WEBSOCKET_HANDSHAKE",
        "auth_outcome",
        "auth_request",
        "canned",
        "choose_backend",
        "connection_tokens",
        "decision_response",
        "edit_headers",
        "escape_log_value",
        "failure_response",
        "forward_request_headers",
        "forward_response_headers",
        "is_upgrade",
        "is_websocket",
        "mirror_selected",
        "normalize_path",
        "request_changes",
        "response_changes",
        "split_target",
        "unresolved",
        "upstream_scheme",
        "validate_host",
        "websocket_close_code",
    ],
}

PACKAGE = Path(ingresslib.__file__).resolve().parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


#: Every module of the package, from its files (importing none).
FILES = {_module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def test_root_exports_exactly_the_public_api() -> None:
    assert set(ingresslib.__all__) == set(PUBLIC_ALL["ingresslib"])
    assert len(ingresslib.__all__) == len(PUBLIC_ALL["ingresslib"]), "no name listed twice"
    # Sub-packages appear as attributes once imported; everything else must be in __all__.
    stray = {
        name
        for name, value in vars(ingresslib).items()
        if not name.startswith("_")
        and name not in ingresslib.__all__
        and not (isinstance(value, types.ModuleType) and value.__name__.startswith("ingresslib."))
    }
    assert stray == set()


def test_every_module_declares_all_and_exports_what_it_has() -> None:
    modules = [
        info.name
        for info in pkgutil.walk_packages(ingresslib.__path__, prefix="ingresslib.")
        if info.name != "ingresslib.__main__"  # running it is its whole job
    ]
    assert "ingresslib.resources._loader" in modules
    for name in modules:
        module = importlib.import_module(name)
        exported = getattr(module, "__all__", None)
        assert exported is not None, f"{name} declares no __all__"
        missing = [item for item in exported if not hasattr(module, item)]
        assert not missing, f"{name}.__all__ names what it lacks: {missing}"


def test_manifest_error_is_a_value_error() -> None:
    assert issubclass(ingresslib.ManifestError, ValueError)


def test_every_public_module_is_pinned() -> None:
    public = {
        name
        for name in FILES
        if name != "ingresslib.__main__"  # `python -m ingresslib`, not imported
        and not any(part.startswith("_") for part in name.split("."))
    }
    assert sorted(PUBLIC_ALL) == sorted(public)


@pytest.mark.parametrize("name", sorted(PUBLIC_ALL))
def test_public_all_is_pinned(name: str) -> None:
    pinned = PUBLIC_ALL[name]
    assert pinned == sorted(pinned), "keep the pin sorted"
    module = importlib.import_module(name)
    exported = list(module.__all__)
    assert len(exported) == len(set(exported)), f"{name}.__all__ lists a name twice"
    assert sorted(exported) == pinned
    missing = [item for item in exported if not hasattr(module, item)]
    assert not missing, f"{name}.__all__ names what it lacks: {missing}"


@pytest.mark.parametrize("name", sorted(FILES))
def test_every_module_file_declares_a_literal_all(name: str) -> None:
    # Read, not imported: also for __main__, and for modules whose optional extra is missing.
    tree = ast.parse(FILES[name].read_text(), str(FILES[name]))
    values = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign | ast.AnnAssign)
        and any(
            isinstance(target, ast.Name) and target.id == "__all__"
            for target in (node.targets if isinstance(node, ast.Assign) else [node.target])
        )
    ]
    assert len(values) == 1, f"{name} declares __all__ {len(values)} times at its top level"
    value = values[0]
    assert isinstance(value, ast.List | ast.Tuple), f"{name}.__all__ is not a literal list"
    assert all(
        isinstance(item, ast.Constant) and isinstance(item.value, str) for item in value.elts
    )
