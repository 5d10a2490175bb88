"""Extension points: path matchers for `pathType: ImplementationSpecific`."""

from ingresslib.plugins._path_matchers import (
    ENTRY_POINT_GROUP,
    CompiledPath,
    PathMatcher,
    PathMatcherError,
    available_path_matchers,
    get_path_matcher,
    register_path_matcher,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "CompiledPath",
    "PathMatcher",
    "PathMatcherError",
    "available_path_matchers",
    "get_path_matcher",
    "register_path_matcher",
]
