"""Path matchers: how a path of an Ingress rule is compared with a request path.

`Exact` and `Prefix` are fixed by the Kubernetes API; `ImplementationSpecific` is "up to the
IngressClass", and ingresslib delegates it to a named `PathMatcher`. Built-ins:

- `prefix` (the default): the same as `Prefix`;
- `exact`: the same as `Exact`;
- `string-prefix`: nginx's plain string prefix (`/foo` matches `/foobar`);
- `regex`: an RE2 regular expression, anchored at the start and case-insensitive as
  ingress-nginx's `~*` locations are (needs the `re2` extra; never a backtracking engine);
- `full-regex`: an RE2 regular expression that must match the whole path, case-sensitive
  (Gateway API `RegularExpression` paths; the `re2` extra too).

Third parties add matchers with `register_path_matcher()` or through the entry-point group
`ingresslib.path_matchers` (the entry point names a `PathMatcher` instance or class).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from importlib import metadata
from typing import Any, Literal, Protocol, runtime_checkable

import attrs

from ingresslib.rules._patterns import NginxRegex, PatternError

__all__ = [
    "ENTRY_POINT_GROUP",
    "CompiledPath",
    "PathMatcher",
    "PathMatcherError",
    "available_path_matchers",
    "get_path_matcher",
    "register_path_matcher",
]

#: The entry-point group third-party path matchers register under.
ENTRY_POINT_GROUP = "ingresslib.path_matchers"

#: How the router indexes a compiled path.
#: "exact": a dict lookup on `key`; "prefix": a segment trie on `key` (element-wise);
#: "literal": `matches()` is called and the match ranks by `length` with exact and prefix
#: paths; "pattern": `matches()` is called only when no literal path matched.
PathKind = Literal["exact", "prefix", "literal", "pattern"]


class PathMatcherError(ValueError):
    """A path a matcher cannot compile, or a matcher that is not available."""


@attrs.frozen
class CompiledPath:
    """A rule path, ready for matching.

    Attributes:
        kind: how the router indexes it (see `PathKind`).
        key: the normalised path for "exact" and "prefix" (trailing slashes dropped for
            prefix); the path as written otherwise.
        length: the length that ranks it against other matching paths (longest wins).
        matches: for "literal" and "pattern" kinds, the predicate on a request path.
    """

    kind: PathKind
    key: str
    length: int
    matches: Callable[[str], bool] | None = attrs.field(default=None, eq=False)


@runtime_checkable
class PathMatcher(Protocol):
    """What a path-matcher plugin provides."""

    @property
    def name(self) -> str:
        """The name Ingresses and `RouteTable.build(implementation_specific=...)` use."""
        ...

    def compile(self, path: str) -> CompiledPath:
        """Compile one rule path; raise `PathMatcherError` (at build time) if it is unusable."""
        ...


def normalize_prefix(path: str) -> str:
    """`/foo/` -> `/foo`; `/` stays `/`: Prefix ignores a trailing slash."""
    stripped = path.rstrip("/")
    return stripped or "/"


@attrs.frozen
class _PrefixMatcher:
    name: str = "prefix"

    def compile(self, path: str) -> CompiledPath:
        key = normalize_prefix(path or "/")
        return CompiledPath(kind="prefix", key=key, length=len(key))


@attrs.frozen
class _ExactMatcher:
    name: str = "exact"

    def compile(self, path: str) -> CompiledPath:
        key = path or "/"
        return CompiledPath(kind="exact", key=key, length=len(key))


@attrs.frozen
class _StringPrefixMatcher:
    name: str = "string-prefix"

    def compile(self, path: str) -> CompiledPath:
        key = path or "/"
        return CompiledPath(kind="literal", key=key, length=len(key), matches=_startswith(key))


def _startswith(prefix: str) -> Callable[[str], bool]:
    def matches(request_path: str) -> bool:
        return request_path.startswith(prefix)

    return matches


@attrs.frozen
class _RegexMatcher:
    name: str = "regex"

    def compile(self, path: str) -> CompiledPath:
        pattern = path or "/"
        # ingress-nginx: `location ~* "^<path>"`: "^" then the path as written (so an
        # alternation binds looser than the anchor, as in nginx), case-insensitive,
        # searched in the URI's bytes.
        try:
            regex = NginxRegex("^" + pattern)
        except PatternError as error:
            raise PathMatcherError(str(error).replace("nginx regex", "regex path")) from None
        return CompiledPath(kind="pattern", key=pattern, length=len(pattern), matches=regex.found)


@attrs.frozen
class _FullRegexMatcher:
    """Gateway API `RegularExpression` paths: RE2, the whole path, case-sensitive."""

    name: str = "full-regex"

    def compile(self, path: str) -> CompiledPath:
        try:
            import re2  # type: ignore[import-untyped]  # noqa: PLC0415 -- optional extra, imported when a regex path is built
        except ImportError:
            raise PathMatcherError(
                "the full-regex path matcher needs RE2: pip install 'ingresslib[re2]'"
            ) from None
        try:
            compiled: Any = re2.compile(path)
        except Exception as error:  # noqa: BLE001 -- re2 raises its own error type for bad patterns
            raise PathMatcherError(f"invalid RE2 pattern {path!r}: {error}") from None
        fullmatch = compiled.fullmatch

        def matches(request_path: str) -> bool:
            return fullmatch(request_path) is not None

        return CompiledPath(kind="pattern", key=path, length=len(path), matches=matches)


_BUILTINS: dict[str, PathMatcher] = {
    matcher.name: matcher
    for matcher in (
        _PrefixMatcher(),
        _ExactMatcher(),
        _StringPrefixMatcher(),
        _RegexMatcher(),
        _FullRegexMatcher(),
    )
}
_registry: dict[str, PathMatcher] = dict(_BUILTINS)
_entry_points_loaded = False
_lock = threading.Lock()


def register_path_matcher(matcher: PathMatcher, *, replace: bool = False) -> None:
    """Make `matcher` available under `matcher.name`.

    Raises:
        PathMatcherError: the name is taken and `replace` is false.
    """
    if not isinstance(matcher, PathMatcher):
        raise PathMatcherError(f"{matcher!r} is not a PathMatcher (needs .name and .compile)")
    with _lock:
        if matcher.name in _BUILTINS:
            raise PathMatcherError(f"{matcher.name!r} is a built-in path matcher")
        if matcher.name in _registry and not replace:
            raise PathMatcherError(f"a path matcher named {matcher.name!r} is registered")
        _registry[matcher.name] = matcher


def _load_entry_points() -> None:
    global _entry_points_loaded  # noqa: PLW0603 -- a once-only cache of installed plugins
    with _lock:
        if _entry_points_loaded:
            return
        for entry_point in metadata.entry_points(group=ENTRY_POINT_GROUP):
            try:
                loaded = entry_point.load()
                matcher = loaded() if isinstance(loaded, type) else loaded
            except Exception as error:
                raise PathMatcherError(
                    f"cannot load path matcher {entry_point.name!r} from "
                    f"{entry_point.value}: {error}"
                ) from error
            if not isinstance(matcher, PathMatcher) or matcher.name != entry_point.name:
                raise PathMatcherError(
                    f"entry point {entry_point.name!r} in {ENTRY_POINT_GROUP} does not give a "
                    f"PathMatcher named {entry_point.name!r}"
                )
            if matcher.name in _BUILTINS:
                continue  # a plugin never changes what the built-in names mean
            _registry.setdefault(matcher.name, matcher)
        # Set only once every plugin is registered: a concurrent lookup waits on the lock.
        _entry_points_loaded = True


def get_path_matcher(name: str) -> PathMatcher:
    """Return the matcher called `name` (built-in, registered, or from an entry point).

    Raises:
        PathMatcherError: no such matcher.
    """
    matcher = _BUILTINS.get(name) or _registry.get(name)
    if matcher is None:
        _load_entry_points()
        matcher = _registry.get(name)
    if matcher is None:
        raise PathMatcherError(
            f"no path matcher named {name!r}; available: {', '.join(available_path_matchers())}"
        )
    return matcher


def available_path_matchers() -> list[str]:
    """The names of every available matcher, sorted."""
    _load_entry_points()
    return sorted(_registry)
