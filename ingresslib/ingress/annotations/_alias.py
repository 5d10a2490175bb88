"""`server-alias`: more names for the hosts of an Ingress.

alias/main.go: the comma-separated names (trimmed, deduplicated, sorted); a validation
error refuses the Ingress. controller.go: the first Ingress (oldest first) with aliases
for a host gives that server its aliases ("Aliases already configured for server %q,
skipping"); an alias that is itself a server's name, or the host itself, is dropped. An
alias is another `server_name` of the same server block: it serves every path of the
host, whichever Ingress defines it (the Ingress front-end applies this).
"""

from __future__ import annotations

import attrs

from ingresslib.ingress.annotations._values import (
    NGINX_PREFIX,
    AnnotationReader,
    Ignored,
    Invalid,
    nginx_annotations,
    validate_server_names,
)
from ingresslib.plugins._annotations import (
    NOTHING,
    PHASE_SERVER_REWRITE,
    AnnotationContext,
    Contribution,
)
from ingresslib.resources._networking import Ingress

__all__ = ["ServerAliasPlugin"]


@attrs.frozen
class ServerAliasPlugin:
    """The `server_aliases` of an Ingress."""

    name: str = "nginx.ingress.kubernetes.io/server-alias"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = nginx_annotations("server-alias")
    phase: int = PHASE_SERVER_REWRITE
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """The aliases, sorted as `sets.String.List()` gives them."""
        del context
        reader = AnnotationReader(ingress)
        try:
            value = reader.string("server-alias", validate_server_names)
        except Invalid as error:
            return reader.refuse(error.annotation, error.reason)
        except Ignored:
            return NOTHING
        if value is None:
            return NOTHING
        aliases = sorted({item.strip().lower() for item in value.split(",") if item.strip()})
        return Contribution(server_aliases=tuple(aliases))
