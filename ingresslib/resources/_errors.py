"""Errors and reports of the manifest loader."""

from __future__ import annotations

import attrs

__all__ = [
    "INPUT_LABEL",
    "ManifestError",
    "ManifestProblem",
    "SkippedDocument",
    "UnsupportedKindWarning",
]

#: How documents that came from no file are named: `input #1`, `input #2`...
INPUT_LABEL = "input #"


@attrs.frozen
class ManifestProblem:
    """One thing wrong with one document.

    Attributes:
        source: the file the document came from, or `input #n` (n counts documents from 1);
            "" for a problem found in an object, not in a document (an annotation's value).
        line: the 1-based line of the offending field (or of the document) when known;
            for text input, the line in that text.
        kind: the document's `kind`, when it could be read.
        namespace: the object's namespace ("" when cluster-scoped or unknown).
        name: the object's name ("" when unknown).
        field: the apiserver's field path, e.g. `spec.rules[0].http.paths[1].path`
            ("" for a problem with the document as a whole).
        reason: what is wrong, in the apiserver's words where it has some, e.g.
            `Invalid value: "Foo": a lowercase RFC 1123 subdomain must consist of ...`.
    """

    source: str
    reason: str
    field: str = ""
    kind: str = ""
    namespace: str = ""
    name: str = ""
    line: int | None = None

    @property
    def location(self) -> str:
        """`file:line` for a file, else `file` or `input #n`."""
        if self.line is None or self.source.startswith(INPUT_LABEL):
            return self.source
        return f"{self.source}:{self.line}"

    @property
    def object_ref(self) -> str:
        """`Kind namespace/name`, `Kind name` or "" when the document names no object."""
        if not self.kind:
            return ""
        if self.namespace:
            return f"{self.kind} {self.namespace}/{self.name}"
        return f"{self.kind} {self.name}".rstrip()

    def __str__(self) -> str:
        parts = [self.location] if self.location else []
        if self.object_ref:
            parts.append(self.object_ref)
        if self.field:
            parts.append(self.field)
        parts.append(self.reason)
        return ": ".join(parts)


class ManifestError(ValueError):
    """Manifests that do not load: every problem of every document, collected.

    Attributes:
        errors: the problems, in document order.
    """

    def __init__(self, errors: list[ManifestProblem] | tuple[ManifestProblem, ...]) -> None:
        self.errors: tuple[ManifestProblem, ...] = tuple(errors)
        count = len(self.errors)
        heading = f"{count} problem{'s' if count != 1 else ''} in the manifests:"
        super().__init__("\n".join([heading, *(f"  {problem}" for problem in self.errors)]))


@attrs.frozen
class SkippedDocument:
    """A document of a kind ingresslib does not model; it is skipped, never fatal.

    Attributes:
        source: the file, or `input #n`.
        api_version: its `apiVersion`.
        kind: its `kind`.
        namespace: `metadata.namespace`, if it had one.
        name: `metadata.name`, if it had one.
        line: where the document starts, when known.
    """

    source: str
    api_version: str
    kind: str
    namespace: str = ""
    name: str = ""
    line: int | None = None

    def __str__(self) -> str:
        in_file = self.line is not None and not self.source.startswith(INPUT_LABEL)
        where = f"{self.source}:{self.line}" if in_file else self.source
        obj = f"{self.namespace}/{self.name}" if self.namespace else self.name
        return f"{where}: {self.api_version} {self.kind} {obj}: skipped (kind not modelled)"


class UnsupportedKindWarning(UserWarning):
    """Some documents were of kinds ingresslib does not model and were skipped."""
