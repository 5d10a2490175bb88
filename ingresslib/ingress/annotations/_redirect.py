"""`permanent-redirect(-code)` and `temporal-redirect(-code)`: `return <code> <url>;`.

redirect/redirect.go: a `temporal-redirect` wins over a `permanent-redirect`; its code
is `temporal-redirect-code` when within 300-307, else 302; the permanent one's is
`permanent-redirect-code` within 300-308, else 301. A temporal URL whose scheme is not
http(s) is refused (the parser's error is skipped by `Extract`: no redirect); a
validation error of any of them refuses the Ingress. The template writes
`return {{ $location.Redirect.Code }} {{ $location.Redirect.URL }};` in the location: the
URL as written, without the request's path or query.
"""

from __future__ import annotations

import urllib.parse

import attrs

from ingresslib.ingress.annotations._values import (
    NGINX_PREFIX,
    URL_CHARS,
    AnnotationReader,
    Ignored,
    Invalid,
    nginx_annotations,
    validate_regex,
)
from ingresslib.plugins._annotations import (
    NOTHING,
    PHASE_REWRITE,
    AnnotationContext,
    Contribution,
)
from ingresslib.resources._networking import Ingress
from ingresslib.rules._steps import Answer, Step, StepState

__all__ = ["FixedRedirect", "RedirectPlugin"]

_TEMPORAL_DEFAULT, _PERMANENT_DEFAULT = 302, 301


@attrs.frozen
class FixedRedirect(Step):
    """`return <status> <location>;`.

    Attributes:
        status: the redirect status.
        location: the Location, as written.
    """

    status: int
    location: str

    def run(self, state: StepState) -> Answer | None:
        """Always answer the redirect."""
        del state
        return Answer(self.status, location=self.location)


@attrs.frozen
class RedirectPlugin:
    """`temporal-redirect` (wins), `permanent-redirect`, and their codes."""

    name: str = "nginx.ingress.kubernetes.io/redirect"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = nginx_annotations(
        "permanent-redirect",
        "permanent-redirect-code",
        "temporal-redirect",
        "temporal-redirect-code",
    )
    phase: int = PHASE_REWRITE
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """The FixedRedirect step."""
        del context
        reader = AnnotationReader(ingress)
        url_validator = validate_regex(URL_CHARS)
        try:
            temporal = reader.string("temporal-redirect", url_validator)
            if temporal:
                code = _code(reader, "temporal-redirect-code", 307, _TEMPORAL_DEFAULT)
                scheme = urllib.parse.urlsplit(temporal).scheme
                if not scheme.startswith("http"):
                    # isValidURL: "only http and https are valid protocols".
                    problem = reader.warning(
                        "temporal-redirect",
                        f"only http and https are valid protocols ({scheme}): no redirect",
                    )
                    return Contribution(problems=(problem,))
                return Contribution(filters=(FixedRedirect(code, temporal),))
            permanent = reader.string("permanent-redirect", url_validator)
            code = _code(reader, "permanent-redirect-code", 308, _PERMANENT_DEFAULT)
        except Invalid as error:
            return reader.refuse(error.annotation, error.reason)
        except Ignored as error:
            # "invalid content": Parse returns the error and Extract skips the annotation.
            return Contribution(
                problems=(reader.warning(error.annotation, f"{error.reason}: no redirect"),)
            )
        if not permanent:
            return NOTHING
        return Contribution(filters=(FixedRedirect(code, permanent),))


def _code(reader: AnnotationReader, name: str, highest: int, default: int) -> int:
    code = reader.integer(name)
    if code is None or code < 300 or code > highest:
        return default
    return code
