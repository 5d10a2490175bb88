"""`ssl-redirect`, `force-ssl-redirect`, `preserve-trailing-slash`: the HTTPS redirect.

internal/ingress/annotations/rewrite/main.go: `ssl-redirect` is a boolean ("This
annotation defines if the location section is only accessible via SSL"), default the
ConfigMap's `ssl-redirect` (true); a value that is not a boolean is a validation error the
parser answers with the default ("%s is invalid, defaulting to '%t'"). The docs: "By
default the controller redirects (308) to HTTPS if TLS is enabled for that ingress".
"""

from __future__ import annotations

import attrs

from ingresslib.ingress.annotations._values import (
    NGINX_PREFIX,
    AnnotationReader,
    Ignored,
    Invalid,
)
from ingresslib.plugins._annotations import (
    NOTHING,
    PHASE_REWRITE_LUA,
    AnnotationContext,
    AnnotationProblem,
    Contribution,
)
from ingresslib.resources._networking import Ingress
from ingresslib.rules._hosts import normalize_host
from ingresslib.rules._model import HTTPSRedirect

__all__ = [
    "FORCE_SSL_REDIRECT_ANNOTATION",
    "PRESERVE_TRAILING_SLASH_ANNOTATION",
    "SSL_REDIRECT_ANNOTATION",
    "SSLRedirectPlugin",
]

#: ingress-nginx's per-Ingress switch: "false" keeps plain HTTP on a TLS host (no redirect).
SSL_REDIRECT_ANNOTATION = NGINX_PREFIX + "ssl-redirect"
#: Redirect plain HTTP to https even without TLS for the host.
FORCE_SSL_REDIRECT_ANNOTATION = NGINX_PREFIX + "force-ssl-redirect"
#: Keep the trailing "/" of the request target in the HTTPS redirect.
PRESERVE_TRAILING_SLASH_ANNOTATION = NGINX_PREFIX + "preserve-trailing-slash"


@attrs.frozen
class SSLRedirectPlugin:
    """`ssl-redirect` (default true), `force-ssl-redirect`, `preserve-trailing-slash`.

    lua_ingress.lua, `redirect_to_https`: "if location_config.force_ssl_redirect and
    ngx.var.pass_access_scheme == "http" then return true end ... return
    location_config.ssl_redirect and certificate_configured_for_current_request()";
    then "do not append a trailing slash on redirects unless enabled by annotations".
    """

    name: str = "nginx.ingress.kubernetes.io/ssl-redirect"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = frozenset(
        {
            SSL_REDIRECT_ANNOTATION,
            FORCE_SSL_REDIRECT_ANNOTATION,
            PRESERVE_TRAILING_SLASH_ANNOTATION,
        }
    )
    phase: int = PHASE_REWRITE_LUA
    by_default: bool = True

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """The HTTPS redirect of the TLS hosts (or every host, when forced)."""
        del context
        reader = AnnotationReader(ingress)
        problems: list[AnnotationProblem] = []
        enabled = _boolean(reader, "ssl-redirect", True, problems)
        forced = _boolean(reader, "force-ssl-redirect", False, problems)
        preserve = _boolean(reader, "preserve-trailing-slash", False, problems)
        hosts = frozenset(
            name for tls in ingress.spec.tls for host in tls.hosts if (name := normalize_host(host))
        )
        if not forced and not (enabled and hosts):
            return Contribution(problems=tuple(problems)) if problems else NOTHING
        redirect = HTTPSRedirect(
            hosts if enabled else frozenset(), preserve_trailing_slash=preserve, force=forced
        )
        return Contribution(filters=(redirect,), problems=tuple(problems))


def _boolean(
    reader: AnnotationReader, name: str, default: bool, problems: list[AnnotationProblem]
) -> bool:
    """`GetBoolAnnotation` with ingress-nginx's fallback: "%s is invalid, defaulting to '%t'"."""
    try:
        value = reader.boolean(name)
    except (Invalid, Ignored) as error:
        problems.append(
            reader.warning(error.annotation, f"{error.reason}; using {str(default).lower()}")
        )
        return default
    return default if value is None else value
