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

__all__ = ["PatternError", "compile_pattern"]


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
