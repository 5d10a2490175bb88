"""ingress-nginx's annotations (`nginx.ingress.kubernetes.io/*`) as annotation plugins.

`BUILTIN_PLUGINS` lists the plugins in nginx's phase order; `annotation_status()` says,
for any annotation of ingress-nginx v1.15.1 (`CATALOGUE`), whether ingresslib implements
it, refuses it (the snippets) or does not implement it yet (docs/annotations.md).
"""

from typing import Literal

from ingresslib.ingress.annotations._access import (
    BasicAuth,
    BasicAuthPlugin,
    SourceRangePlugin,
    SourceRanges,
)
from ingresslib.ingress.annotations._alias import ServerAliasPlugin
from ingresslib.ingress.annotations._backend_protocol import BackendProtocolPlugin
from ingresslib.ingress.annotations._balancing import BalancingPlugin
from ingresslib.ingress.annotations._canary import Canary, CanaryPlugin, CanaryPolicy
from ingresslib.ingress.annotations._catalogue import CATALOGUE, AnnotationInfo, Risk
from ingresslib.ingress.annotations._cors import NginxCORS, NginxCORSPlugin
from ingresslib.ingress.annotations._external_auth import ExternalAuthPlugin
from ingresslib.ingress.annotations._limits import (
    BodySize,
    BodySizePlugin,
    LimitsPlugin,
    ProxyTimeoutsPlugin,
)
from ingresslib.ingress.annotations._redirect import FixedRedirect, RedirectPlugin
from ingresslib.ingress.annotations._rewrite import (
    AppRoot,
    AppRootPlugin,
    RewritePlugin,
    RewriteTarget,
    UpstreamVhostPlugin,
)
from ingresslib.ingress.annotations._run import Annotated, annotate, apply_host_plugins
from ingresslib.ingress.annotations._ssl import SSL_REDIRECT_ANNOTATION, SSLRedirectPlugin
from ingresslib.ingress.annotations._values import NGINX_PREFIX
from ingresslib.plugins._annotations import AnnotationPlugin

__all__ = [
    "BUILTIN_PLUGINS",
    "CATALOGUE",
    "NGINX_PREFIX",
    "SSL_REDIRECT_ANNOTATION",
    "Annotated",
    "AnnotationInfo",
    "AnnotationStatus",
    "AppRoot",
    "AppRootPlugin",
    "BackendProtocolPlugin",
    "BalancingPlugin",
    "BasicAuth",
    "BasicAuthPlugin",
    "BodySize",
    "BodySizePlugin",
    "Canary",
    "CanaryPlugin",
    "CanaryPolicy",
    "ExternalAuthPlugin",
    "FixedRedirect",
    "LimitsPlugin",
    "NginxCORS",
    "NginxCORSPlugin",
    "ProxyTimeoutsPlugin",
    "RedirectPlugin",
    "RewritePlugin",
    "RewriteTarget",
    "Risk",
    "SSLRedirectPlugin",
    "ServerAliasPlugin",
    "SourceRangePlugin",
    "SourceRanges",
    "UpstreamVhostPlugin",
    "annotate",
    "annotation_status",
    "apply_host_plugins",
]

#: ingresslib's own plugins, in phase order (then the order nginx applies them in).
BUILTIN_PLUGINS: tuple[AnnotationPlugin, ...] = (
    # host-wide first: a canary Ingress's paths become its main paths' alternative.
    CanaryPlugin(),
    # server names.
    ServerAliasPlugin(),
    # find-config: client_max_body_size against Content-Length (413).
    BodySizePlugin(),
    # rewrite phase, in the template's order: the CORS `if`s, `return` (redirects), the
    # `rewrite` of rewrite-target; app-root's server-level `if` goes first (host_rules).
    NginxCORSPlugin(),
    RedirectPlugin(),
    RewritePlugin(),
    AppRootPlugin(),
    # rewrite_by_lua: the HTTPS redirect.
    SSLRedirectPlugin(),
    # preaccess: limit_req, limit_conn.
    LimitsPlugin(),
    # access phase: allow/deny, then auth_basic.
    SourceRangePlugin(),
    BasicAuthPlugin(),
    ExternalAuthPlugin(),
    # content: proxy_set_header, the proxy's timeouts.
    UpstreamVhostPlugin(),
    ProxyTimeoutsPlugin(),
    # the balancer: cookie affinity, consistent hashing, load-balance.
    BalancingPlugin(),
    BackendProtocolPlugin(),
)

#: "implemented", "refused" (snippets) or "not implemented".
AnnotationStatus = Literal["implemented", "refused", "not implemented"]

_IMPLEMENTED = frozenset(name for plugin in BUILTIN_PLUGINS for name in plugin.annotations)


def annotation_status(name: str) -> AnnotationStatus:
    """The status of an ingress-nginx annotation (with or without its prefix)."""
    full = name if name.startswith(NGINX_PREFIX) else NGINX_PREFIX + name
    if full in _IMPLEMENTED:
        return "implemented"
    info = CATALOGUE.get(full[len(NGINX_PREFIX) :])
    if info is not None and info.risk == "Critical":
        return "refused"
    return "not implemented"
