"""The Ingress front-end: networking.k8s.io/v1 Ingresses compiled into route rules.

Class selection, one rule per rule path with the Ingress's precedence (longest path, Exact
over Prefix, oldest Ingress), default backends as fallbacks, and the HTTPS redirect of TLS
hosts. `ingresslib.RouteTable.build` uses it; `IngressFrontEnd.rule_set()` gives the rules
themselves, e.g. to combine them with another front-end's.
"""

from ingresslib.ingress._frontend import (
    PATH_MATCHER_ANNOTATION,
    SSL_REDIRECT_ANNOTATION,
    IngressFrontEnd,
    IngressKey,
    IngressOptions,
    backend_of,
    ingress_rules,
    select_ingresses,
)
from ingresslib.ingress._migrate import MIGRATED_ANNOTATIONS, Migration, MigrationNote, migrate

__all__ = [
    "MIGRATED_ANNOTATIONS",
    "PATH_MATCHER_ANNOTATION",
    "SSL_REDIRECT_ANNOTATION",
    "IngressFrontEnd",
    "IngressKey",
    "IngressOptions",
    "Migration",
    "MigrationNote",
    "backend_of",
    "ingress_rules",
    "migrate",
    "select_ingresses",
]
