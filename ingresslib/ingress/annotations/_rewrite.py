"""Paths and rewrites: rewrite-target, use-regex, app-root, x-forwarded-prefix, upstream-vhost.

ingress-nginx turns an Ingress path into an nginx `location` and these annotations into
directives of it (rootfs/etc/nginx/template/nginx.tmpl, template.go):

- `use-regex`, or a `rewrite-target` other than the path, makes *every* location of the
  server (the host, across all its Ingresses) a regular expression (`enforceRegexModifier`:
  "checks if the "rewrite-target" or "use-regex" annotation is used on any location path
  within a server"; `buildLocation`: ``~* "^%s"``): case-insensitive, anchored at the start
  only. nginx tries regex locations in the order of the configuration and the first match
  wins; the controller orders them by path length, longest first, then by path, greatest
  first (controller.go: two `sort.SliceStable`). Before that, `updateServerLocations`
  turns each Prefix path of an Ingress without regex into `path/` plus an exact `path`.
- `rewrite-target`: `rewrite "(?i)<path>" <target> break;` — the path is searched (not
  anchored) in the URI and the URI becomes the target with `$1`... the captures; the
  query is kept ("If a replacement string includes the new request arguments, the
  previous request arguments are appended after them": the target may not contain a
  "?", `RegexPathWithCapture`, so they always are). A target starting with `http://` or
  `https://` is a redirect (302). `x-forwarded-prefix` sets `X-Forwarded-Prefix` beside
  that rewrite, and only there (`buildProxyPass`).
- `app-root`: a server-level `if ($uri = /) { return 302 $scheme://$http_host<root>; }`:
  every request for "/" on the host, whichever Ingress's path it matches.
- `upstream-vhost`: `proxy_set_header Host "<value>"`.

Regular expressions are RE2 (the `re2` extra), never a backtracking engine: a pattern RE2
cannot compile (a PCRE lookaround) is reported, where nginx's PCRE would accept it.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

import attrs

from ingresslib.ingress.annotations._values import (
    NGINX_PREFIX,
    REGEX_PATH_WITH_CAPTURE,
    VALID_REGEX,
    AnnotationReader,
    Ignored,
    Invalid,
    validate_regex,
)
from ingresslib.plugins._annotations import (
    NOTHING,
    PHASE_CONTENT,
    PHASE_REWRITE,
    AnnotationContext,
    AnnotationProblem,
    Contribution,
)
from ingresslib.resources._networking import Ingress, PathType
from ingresslib.rules._filters import HeaderChanges, Rewrite
from ingresslib.rules._model import Match, PathMatch, Rule
from ingresslib.rules._patterns import NginxRegex, PatternError
from ingresslib.rules._steps import Answer, Step, StepState

__all__ = [
    "AppRoot",
    "AppRootPlugin",
    "RewritePlugin",
    "RewriteTarget",
    "UpstreamVhostPlugin",
    "nginx_locations",
    "regex_enforced",
]

_REWRITE_TARGET = NGINX_PREFIX + "rewrite-target"
_USE_REGEX = NGINX_PREFIX + "use-regex"
_APP_ROOT = NGINX_PREFIX + "app-root"
_X_FORWARDED_PREFIX = NGINX_PREFIX + "x-forwarded-prefix"
_UPSTREAM_VHOST = NGINX_PREFIX + "upstream-vhost"

_PATH_WITH_CAPTURE = validate_regex(REGEX_PATH_WITH_CAPTURE)
_X_FORWARDED_PREFIX_VALUE = validate_regex(REGEX_PATH_WITH_CAPTURE, remove_space=True)


@functools.lru_cache(maxsize=4096)
def _rewrite_regex(pattern: str) -> NginxRegex:
    """`rewrite "(?i)<pattern>" ...`: the compiled pattern, cached per location path.

    Raises:
        PatternError: RE2 is not installed or refuses the pattern.
    """
    return NginxRegex(pattern, case_insensitive=True)


@functools.lru_cache(maxsize=1024)
def _template(template: str) -> tuple[str | int, ...]:
    """A replacement as literal parts and capture numbers (`$0`...`$9`)."""
    parts: list[str | int] = []
    literal: list[str] = []
    index, length = 0, len(template)
    while index < length:
        char = template[index]
        if char == "$" and index + 1 < length and template[index + 1].isdigit():
            if literal:
                parts.append("".join(literal))
                literal = []
            parts.append(int(template[index + 1]))
            index += 2
            continue
        literal.append(char)
        index += 1
    if literal:
        parts.append("".join(literal))
    return tuple(parts)


def expand_captures(template: str, groups: Sequence[str | None]) -> str:
    """The nginx script captures: `$0`...`$9` in `template` -> the groups ("" if unset).

    ngx_http_script_compile: a "$" followed by one digit is a capture; "$" before
    anything else is kept as it is (the validator admits nothing but `$n` and names).
    """
    if "$" not in template:
        return template
    count = len(groups)
    return "".join(
        part if type(part) is str else (groups[part] if part < count else None) or ""  # type: ignore[operator,index]  # an int part
        for part in _template(template)
    )


@attrs.frozen
class RewriteTarget(Step):
    """`rewrite "(?i)<location path>" <target> break;`, and `X-Forwarded-Prefix`.

    The pattern is the path the rule matched (`StepState.matched`).

    Attributes:
        target: the replacement, with `$n` captures.
        forwarded_prefix: the `X-Forwarded-Prefix` value (captures too), or None.
    """

    target: str
    forwarded_prefix: str | None = None

    def run(self, state: StepState) -> Answer | None:
        """Rewrite the upstream path (or redirect, for an absolute target)."""
        pattern = state.matched or "/"
        if pattern == self.target:
            # buildProxyPass: "if the path in the ingress rule is equals to the target:
            # no special rewrite" (and no X-Forwarded-Prefix either).
            return None
        found = _rewrite_regex(pattern).captures(state.path)
        groups = () if found is None else found
        if self.forwarded_prefix is not None:
            # `proxy_set_header X-Forwarded-Prefix "<value>";` beside the rewrite.
            value = expand_captures(self.forwarded_prefix, groups)
            state.edit_request_headers(HeaderChanges(set=(("x-forwarded-prefix", value),)))
        if found is None:
            return None
        result = expand_captures(self.target, groups)
        if result.startswith(("http://", "https://")):
            # "If a replacement string starts with "http://", "https://", or "$scheme",
            # the processing stops and the redirect is returned to a client" (302), with
            # the request arguments appended.
            if state.query:
                state.reusable = False
                result = f"{result}?{state.query}"
            return Answer(302, location=result)
        if not result:
            # ngx_http_script_regex_end_code: "the rewritten URI has a zero length" -> 500.
            return Answer(500, reason="the rewritten URI has a zero length")
        state.upstream_path = result
        return None


@attrs.frozen
class AppRoot(Step):
    """`if ($uri = /) { return 302 $scheme://$http_host<root>; }`.

    Attributes:
        root: the application root path.
    """

    root: str

    def run(self, state: StepState) -> Answer | None:
        """Redirect a request for "/" to the root."""
        if state.path != "/":
            return None
        http_host = state.header("host") or state.host
        return Answer(302, location=f"{state.scheme}://{http_host}{self.root}")


def regex_enforced(ingress: Ingress) -> bool:
    """Whether an Ingress makes its hosts' locations regular expressions.

    `enforceRegexModifier`: `needsRewrite(location) || location.Rewrite.UseRegex`, where
    `needsRewrite` is a `rewrite-target` other than the location's path.
    """
    annotations = ingress.metadata.annotations
    # PERF: nearly every Ingress has neither annotation: two dict lookups.
    if _USE_REGEX not in annotations and _REWRITE_TARGET not in annotations:
        return False
    reader = AnnotationReader(ingress)
    try:
        if reader.boolean("use-regex"):
            return True
    except (Invalid, Ignored):
        pass
    target = _target(reader)
    if not target:
        return False
    return any(
        path.path != target
        for rule in ingress.spec.rules
        if rule.http is not None
        for path in rule.http.paths
    )


def _target(reader: AnnotationReader) -> str | None:
    try:
        return reader.string("rewrite-target", _PATH_WITH_CAPTURE)
    except (Invalid, Ignored):
        return None


def nginx_locations(rules: Sequence[Rule]) -> list[tuple[PathMatch, Rule]]:
    """The regex locations nginx has for a host's rules, in the order it tries them.

    `updateServerLocations`, then `buildLocation` with the regex enforced, then the
    controller's order (length, then path, both descending; stable: oldest Ingress first
    for equal paths).

    Args:
        rules: the host's path rules, in precedence order (oldest Ingress first).

    Returns:
        (the location as a "regex" path, the rule it belongs to), in nginx's order.
    """
    exact_paths = {
        match.path.value
        for rule in rules
        for match in rule.matches
        if match.path.path_type == PathType.EXACT
    }
    settings: dict[int, tuple[bool, str | None]] = {}
    seen: set[tuple[str, str | None]] = set()
    locations: list[tuple[str, str | None, Rule]] = []
    for rule in rules:
        ingress = rule.source.resource
        known = settings.get(id(ingress))
        if known is None:
            known = settings[id(ingress)] = _regex_settings(ingress)
        use_regex, target = known
        for match in rule.matches:
            path, path_type = match.path.value or "/", match.path.path_type
            # createServers: a path an older Ingress already has, with the same path
            # type, is not added again.
            if (path, path_type) in seen:
                continue
            seen.add((path, path_type))
            # "location / does not require any update"; "only Prefix locations could
            # require an additional location block"; "locations with rewrite or using
            # regular expressions are not modified" (needsRewrite: a target other than
            # this location's path).
            own = use_regex or (bool(target) and path != target)
            if path == "/" or path_type != PathType.PREFIX or own:
                locations.append((path, path_type, rule))
                continue
            # "normalize path. Must end in /", then "add exact location" unless "an
            # Exact location" of that path exists.
            locations.append((path if path.endswith("/") else path + "/", path_type, rule))
            if path not in exact_paths:
                locations.append((path, PathType.EXACT, rule))
    # controller.go: `sort.SliceStable(... Path > Path)` then `sort.SliceStable(... len(Path)
    # > len(Path))`. Go compares strings bytewise; Python's sorts are stable, reverse too.
    locations.sort(key=lambda item: item[0].encode(), reverse=True)
    locations.sort(key=lambda item: -len(item[0]))
    return [(PathMatch("regex", path, path_type), rule) for path, path_type, rule in locations]


def _regex_settings(ingress: object) -> tuple[bool, str | None]:
    """(`use-regex`, `rewrite-target`) of the Ingress a rule comes from."""
    if not isinstance(ingress, Ingress):
        return False, None
    reader = AnnotationReader(ingress)
    try:
        use_regex = bool(reader.boolean("use-regex"))
    except (Invalid, Ignored):
        use_regex = False
    return use_regex, _target(reader)


@attrs.frozen
class RewritePlugin:
    """`rewrite-target`, `use-regex` (host-wide) and `x-forwarded-prefix`."""

    name: str = "nginx.ingress.kubernetes.io/rewrite"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = frozenset({_REWRITE_TARGET, _USE_REGEX, _X_FORWARDED_PREFIX})
    phase: int = PHASE_REWRITE
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """The rewrite step of the Ingress's paths (use-regex acts in `host_rules`)."""
        del context
        reader = AnnotationReader(ingress)
        problems: list[AnnotationProblem] = []
        try:
            reader.boolean("use-regex")
        except (Invalid, Ignored) as error:
            problems.append(reader.warning(error.annotation, f"{error.reason}; using false"))
        try:
            target = reader.string("rewrite-target", _PATH_WITH_CAPTURE)
        except (Invalid, Ignored) as error:
            # rewrite/main.go: "%s is invalid, defaulting to empty".
            problems.append(reader.warning(error.annotation, f"{error.reason}; not rewriting"))
            target = None
        try:
            prefix = reader.string("x-forwarded-prefix", _X_FORWARDED_PREFIX_VALUE)
        except Invalid as error:
            # xforwardedprefix/main.go returns the validation error: Extract refuses the
            # Ingress ("ingress contains invalid annotation value").
            return reader.refuse(error.annotation, error.reason, problems)
        except Ignored:
            prefix = None
        filters: tuple[RewriteTarget, ...] = ()
        if target:
            try:
                for rule in ingress.spec.rules:
                    for path in rule.http.paths if rule.http is not None else ():
                        _rewrite_regex(path.path or "/")
            except PatternError as error:
                return reader.deny("rewrite-target", str(error), problems=problems)
            filters = (RewriteTarget(target, prefix),)
        return Contribution(filters=filters, problems=tuple(problems))

    def host_rules(self, host: str, rules: Sequence[Rule]) -> Sequence[Rule]:
        """Every location of the host a regex when one Ingress of it asks for it."""
        del host
        if not any(
            isinstance(rule.source.resource, Ingress) and regex_enforced(rule.source.resource)
            for rule in rules
        ):
            return rules
        # The table sorts a host's rules by precedence: the position is nginx's order.
        return [
            attrs.evolve(rule, matches=(Match(path),), precedence=(position,))
            for position, (path, rule) in enumerate(nginx_locations(rules))
        ]


@attrs.frozen
class AppRootPlugin:
    """`app-root`: "/" of the host redirects (302) to the application root."""

    name: str = "nginx.ingress.kubernetes.io/app-root"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = frozenset({_APP_ROOT})
    # Its step goes first on every rule of the host whatever the phase (`host_rules`);
    # listed after RewritePlugin so that its rule for "/" stays an exact path.
    phase: int = PHASE_REWRITE
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """The AppRoot step (made host-wide by `host_rules`)."""
        del context
        reader = AnnotationReader(ingress)
        try:
            root = reader.string("app-root", _PATH_WITH_CAPTURE)
        except (Invalid, Ignored) as error:
            return Contribution(problems=(reader.warning(error.annotation, error.reason),))
        if root is None:
            return NOTHING
        # rewrite/main.go: `url.ParseRequestURI`; "app-root only allows absolute paths".
        if not root.startswith("/") or "://" in root:
            return Contribution(
                problems=(
                    reader.warning(
                        "app-root", f"{root!r} is not an absolute path; ignored (as ingress-nginx)"
                    ),
                )
            )
        return Contribution(filters=(AppRoot(root),))

    def host_rules(self, host: str, rules: Sequence[Rule]) -> Sequence[Rule]:
        """The first app-root of the host on every rule of the host (it is server-wide)."""
        del host
        found: AppRoot | None = None
        # The template's `if`s follow the server's locations, longest path first.
        for rule in sorted(rules, key=_path_length):
            found = next((f for f in rule.filters if isinstance(f, AppRoot)), None)
            if found is not None:
                break
        if found is None:
            return rules
        changed = [
            attrs.evolve(
                rule, filters=(found, *(f for f in rule.filters if not isinstance(f, AppRoot)))
            )
            for rule in rules
        ]
        if not any(match.path.value in ("/", "") for rule in rules for match in rule.matches):
            # No path of the host matches "/" but the server's own location does (the
            # default backend): a rule for exactly "/" that only answers the redirect.
            model = next(rule for rule in rules if found in rule.filters)
            changed.append(
                attrs.evolve(
                    model,
                    field=f"metadata.annotations[{_APP_ROOT}]",
                    matches=(Match(PathMatch("exact", "/", PathType.EXACT)),),
                    filters=(found,),
                    precedence=(*max(rule.precedence for rule in rules), 1),
                )
            )
        return changed


@attrs.frozen
class UpstreamVhostPlugin:
    """`upstream-vhost`: `proxy_set_header Host "<value>"`."""

    name: str = "nginx.ingress.kubernetes.io/upstream-vhost"
    prefix: str = NGINX_PREFIX
    annotations: frozenset[str] = frozenset({_UPSTREAM_VHOST})
    phase: int = PHASE_CONTENT
    by_default: bool = False

    def contribute(self, ingress: Ingress, context: AnnotationContext) -> Contribution:
        """A Rewrite of the Host sent upstream."""
        del context
        reader = AnnotationReader(ingress)
        try:
            value = reader.string("upstream-vhost", _validate_server_name)
        except Invalid as error:
            # upstreamvhost/main.go returns the validation error: the Ingress is refused.
            return reader.refuse(error.annotation, error.reason)
        except Ignored:
            return NOTHING
        if value is None:
            return NOTHING
        return Contribution(filters=(Rewrite(hostname=value),))


def _path_length(rule: Rule) -> int:
    return -max((len(match.path.value) for match in rule.matches), default=0)


def _validate_server_name(value: str) -> None:
    """`ValidateServerName`: `IsValidRegex` characters after trimming."""
    if not VALID_REGEX.match(value.strip()):
        raise ValueError(f"value {value.strip()} is invalid server name")
