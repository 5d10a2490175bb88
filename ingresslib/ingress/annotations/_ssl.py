"""`ssl-redirect`: the HTTPS redirect of an Ingress's TLS hosts.

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
    PHASE_SERVER_REWRITE,
    AnnotationContext,
    AnnotationProblem,
    Contribution,
)
from ingresslib.resources._networking import Ingress
from ingresslib.rules._hosts import normalize_host
from ingresslib.rules._model import HTTPSRedirect

__all__ = ["SSL_REDIRECT_ANNOTATION", "SSLRedirectPlugin"]

#: ingress-nginx's per-Ingress switch: "false" keeps plain HTTP on a TLS host (no redirect).
SSL_REDIRECT_ANNOTATION = NGINX_PREFIX + "ssl-redirect"


@attrs.frozen
class SSLRedirectPlugin:
    """`ssl-redirect` (default true): 308 to https for the Ingress's TLS hosts."""

    name: str = "nginx.ingress.kubernetes.io/ssl-redirect"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = frozenset({SSL_REDIRECT_ANNOTATION})
    phase: int = PHASE_SERVER_REWRITE
    by_default: bool = True

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """The HTTPS redirect of the TLS hosts, unless `ssl-redirect` is false."""
        del context
        if not ingress.spec.tls:
            return NOTHING
        reader = AnnotationReader(ingress)
        problems: tuple[AnnotationProblem, ...] = ()
        try:
            enabled = reader.boolean("ssl-redirect")
        except (Invalid, Ignored) as error:
            enabled = None
            problems = (reader.warning(error.annotation, f"{error.reason}; using true"),)
        if enabled is False:
            return Contribution(problems=problems)
        hosts = frozenset(
            name for tls in ingress.spec.tls for host in tls.hosts if (name := normalize_host(host))
        )
        return Contribution(filters=(HTTPSRedirect(hosts),) if hosts else (), problems=problems)
