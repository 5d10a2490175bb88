r"""`enable-cors` and `cors-*`: ingress-nginx's CORS, as its template writes it.

The "CORS" template (nginx.tmpl) and `buildCorsOriginRegex` (template.go):

    {{ buildCorsOriginRegex $cors.CorsAllowOrigin }}   # origin "*": set $http_origin *;
                                                       #   set $cors 'true';
                                                       # a list: if ($http_origin ~*
                                                       #   ((o1)|(o2))$ ) { set $cors 'true'; }
    if ($request_method = 'OPTIONS') { set $cors ${cors}options; }
    if ($cors = "true") { more_set_headers 'Access-Control-Allow-Origin: $http_origin'; ...}
    if ($cors = "trueoptions") { ... more_set_headers 'Content-Length: 0'; return 204; }

So with the default origin `*` every request gets the headers (Allow-Origin `*`, also
with credentials) and every OPTIONS request is answered 204 here; with a list, only an
`Origin` the list matches does. The match is nginx's: case-insensitive, anchored at the
end only (`(https://a\.com)$`), a `*` standing for one DNS label (`[A-Za-z0-9\-]+`).
Defaults (cors/main.go): methods "GET, PUT, POST, DELETE, PATCH, OPTIONS", credentials
true, max-age 1728000, the headers `defaultCorsHeaders`.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs

from ingresslib.ingress.annotations._values import (
    HEADERS_VARIABLE,
    NGINX_PREFIX,
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
    AnnotationProblem,
    Contribution,
)
from ingresslib.resources._networking import Ingress
from ingresslib.rules._steps import Answer, Step, StepState

__all__ = ["NginxCORS", "NginxCORSPlugin", "origin_pattern"]

DEFAULT_METHODS = "GET, PUT, POST, DELETE, PATCH, OPTIONS"
DEFAULT_HEADERS = (
    "DNT,Keep-Alive,User-Agent,X-Requested-With,If-Modified-Since,Cache-Control,"
    "Content-Type,Range,Authorization"
)
DEFAULT_MAX_AGE = 1728000

_ORIGIN_LIST = re.compile(r"^((((([a-z]+://)?(\*\.)?[A-Za-z0-9\-.]*(:\d+)?,?)|null)+)|\*)?$")
_ORIGIN = re.compile(r"^([a-z]+://(\*\.)?[A-Za-z0-9\-.]*(:\d+)?|\*|null)?$")
_METHODS = re.compile(r"^([A-Za-z]+,?\s?)+$")
_EXPOSE = re.compile(r"^(([A-Za-z0-9\-\_]+|\*),?\s?)+$")


def origin_pattern(origins: tuple[str, ...]) -> re.Pattern[str]:
    r"""`buildCorsOriginRegex` for a list of origins (not `*`), as a Python pattern.

    `buildOriginRegex`: `regexp.QuoteMeta(origin)`, then the first `\*` becomes
    `[A-Za-z0-9\-]+`; the alternatives are joined with "|" and anchored with `$`.
    """
    parts = []
    for origin in origins:
        quoted = re.escape(origin).replace(r"\*", r"[A-Za-z0-9\-]+", 1)
        parts.append(f"({quoted})")
    return re.compile("(" + "|".join(parts) + r")\Z", re.IGNORECASE)


@attrs.frozen
class NginxCORS(Step):
    """The CORS headers, and the 204 of an OPTIONS request, for an allowed origin.

    Attributes:
        origins: ("*",) or the allowed origins.
        credentials: send `Access-Control-Allow-Credentials: true`.
        methods: the `Access-Control-Allow-Methods` value.
        headers: the `Access-Control-Allow-Headers` value.
        expose: the `Access-Control-Expose-Headers` value ("" for none).
        max_age: the `Access-Control-Max-Age` value.
    """

    origins: tuple[str, ...] = ("*",)
    credentials: bool = True
    methods: str = DEFAULT_METHODS
    headers: str = DEFAULT_HEADERS
    expose: str = ""
    max_age: int = DEFAULT_MAX_AGE
    _pattern: re.Pattern[str] | None = attrs.field(init=False, eq=False, repr=False)
    _rest: tuple[tuple[str, str], ...] = attrs.field(init=False, eq=False, repr=False)

    def __attrs_post_init__(self) -> None:
        pattern = None if self.origins == ("*",) else origin_pattern(self.origins)
        object.__setattr__(self, "_pattern", pattern)
        # PERF: every field but Allow-Origin is the same for every request.
        rest = []
        if self.credentials:
            rest.append(("access-control-allow-credentials", "true"))
        rest.append(("access-control-allow-methods", self.methods))
        rest.append(("access-control-allow-headers", self.headers))
        if self.expose:
            rest.append(("access-control-expose-headers", self.expose))
        rest.append(("access-control-max-age", str(self.max_age)))
        object.__setattr__(self, "_rest", tuple(rest))

    def run(self, state: StepState) -> Answer | None:
        """Set the headers; answer an OPTIONS request 204."""
        if self._pattern is None:
            origin = "*"
        else:
            sent = state.header("origin")
            if not sent or self._pattern.search(sent) is None:
                return None
            origin = sent
        fields = (("access-control-allow-origin", origin), *self._rest)
        if state.method == "OPTIONS":
            return Answer(204, headers=(*fields, *_PREFLIGHT), reason="CORS preflight")
        state.set_response_headers(fields)
        return None


#: The template's extra fields of the 204 it answers an OPTIONS request with.
_PREFLIGHT = (("content-type", "text/plain charset=UTF-8"), ("content-length", "0"))


@attrs.frozen
class NginxCORSPlugin:
    """`enable-cors` and the `cors-*` annotations (origin, methods, headers, credentials...)."""

    name: str = "nginx.ingress.kubernetes.io/cors"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = nginx_annotations(
        "enable-cors",
        "cors-allow-origin",
        "cors-allow-methods",
        "cors-allow-headers",
        "cors-allow-credentials",
        "cors-expose-headers",
        "cors-max-age",
    )
    phase: int = PHASE_REWRITE
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """The NginxCORS step when `enable-cors` is true."""
        del context
        reader = AnnotationReader(ingress)
        problems: list[AnnotationProblem] = []

        def warn(error: Invalid | Ignored, fallback: str) -> None:
            problems.append(reader.warning(error.annotation, f"{error.reason}; using {fallback}"))

        try:
            enabled = bool(reader.boolean("enable-cors"))
        except (Invalid, Ignored) as error:
            warn(error, "false")
            enabled = False
        if not enabled:
            return Contribution(problems=tuple(problems)) if problems else NOTHING
        origins: list[str] = []
        try:
            listed = reader.string(
                "cors-allow-origin", validate_regex(_ORIGIN_LIST, remove_space=True)
            )
        except (Invalid, Ignored) as error:
            warn(error, "*")
            listed = None
        if listed is None:
            origins = ["*"]
        else:
            for item in listed.split(","):
                origin = item.strip()
                if not origin:
                    continue
                if origin == "*":
                    origins = ["*"]
                    break
                if not _ORIGIN.match(origin):
                    problems.append(
                        reader.warning("cors-allow-origin", f"incorrect origin {origin!r}: skipped")
                    )
                    continue
                origins.append(origin)
        if not origins:
            # The template writes `buildCorsOriginRegex` only `if $cors.CorsAllowOrigin`:
            # with no valid origin, no request gets the headers.
            return Contribution(problems=tuple(problems))
        headers = _string(reader, "cors-allow-headers", HEADERS_VARIABLE, DEFAULT_HEADERS, warn)
        methods = _string(reader, "cors-allow-methods", _METHODS, DEFAULT_METHODS, warn)
        expose = _string(reader, "cors-expose-headers", _EXPOSE, "", warn)
        try:
            credentials = reader.boolean("cors-allow-credentials")
        except (Invalid, Ignored) as error:
            warn(error, "true")
            credentials = None
        try:
            max_age = reader.integer("cors-max-age")
        except (Invalid, Ignored) as error:
            warn(error, str(DEFAULT_MAX_AGE))
            max_age = None
        step = NginxCORS(
            origins=tuple(origins),
            credentials=True if credentials is None else credentials,
            methods=methods,
            headers=headers,
            expose=expose,
            max_age=DEFAULT_MAX_AGE if max_age is None else max_age,
        )
        return Contribution(filters=(step,), problems=tuple(problems))


def _string(
    reader: AnnotationReader,
    name: str,
    pattern: re.Pattern[str],
    default: str,
    warn: Callable[[Invalid | Ignored, str], None],
) -> str:
    """cors/main.go: `if err != nil || !regex.MatchString(value) { value = default }`."""
    try:
        value = reader.string(name, validate_regex(pattern, remove_space=True))
    except (Invalid, Ignored) as error:
        warn(error, repr(default) if default else "none")
        return default
    if value is None or not pattern.match(value):
        return default
    return value
