"""YAML reading as Kubernetes reads it: JSON-compatible values, duplicate keys refused.

Timestamps stay strings (`sigs.k8s.io/yaml` converts YAML to JSON, where a time is a
string), and every document keeps its node tree so a problem can name its line.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterator
from typing import TYPE_CHECKING, Any, cast

import attrs
import yaml

__all__ = ["YamlDocument", "line_of", "read_yaml_documents"]

if TYPE_CHECKING:
    _BaseLoader = yaml.SafeLoader
else:
    # PERF: libyaml's parser is several times faster than the pure-Python one.
    _BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _ManifestLoader(_BaseLoader):
    """SafeLoader without implicit timestamps, refusing duplicate mapping keys."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Hashable, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue  # `<<: *anchor`: merged by SafeConstructor, may be overridden
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, Hashable) and key in seen:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping",
                    node.start_mark,
                    f'mapping key "{key}" already defined at line {seen[key].start_mark.line + 1}',
                    key_node.start_mark,
                )
            if isinstance(key, Hashable):
                seen[key] = key_node
        return cast("dict[Any, Any]", super().construct_mapping(node, deep=deep))


_ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _TIMESTAMP_TAG]
    for first, resolvers in _BaseLoader.yaml_implicit_resolvers.items()
}


@attrs.frozen
class YamlDocument:
    """One document of a YAML stream: its value and its node tree (for line numbers)."""

    data: Any
    node: yaml.Node


def read_yaml_documents(text: str) -> Iterator[YamlDocument]:
    """Parse a multi-document YAML stream.

    Raises:
        yaml.YAMLError: on malformed YAML (the error carries the line in `problem_mark`).
    """
    loader = _ManifestLoader(text)
    try:
        while loader.check_node():
            node = loader.get_node()
            if node is None:  # pragma: no cover - check_node() said a node follows
                break
            data = loader.construct_document(node)
            yield YamlDocument(data=data, node=node)
    finally:
        loader.dispose()


def _split_path(path: str) -> list[str | int]:
    """`spec.rules[0].host` -> ["spec", "rules", 0, "host"]; `[key]` stays a string."""
    parts: list[str | int] = []
    for dotted in _split_outside_brackets(path):
        head, _, rest = dotted.partition("[")
        if head:
            parts.append(head)
        while rest:
            inside, _, rest = rest.partition("]")
            parts.append(int(inside) if inside.isdigit() else inside)
            rest = rest.removeprefix("[")
    return parts


def _split_outside_brackets(path: str) -> list[str]:
    pieces, depth, current = [], 0, ""
    for char in path:
        if char == "." and depth == 0:
            pieces.append(current)
            current = ""
            continue
        depth += {"[": 1, "]": -1}.get(char, 0)
        current += char
    pieces.append(current)
    return [piece for piece in pieces if piece]


def line_of(node: yaml.Node, path: str) -> int:
    """Return the 1-based line of the deepest node along `path` that exists."""
    current = node
    for part in _split_path(path):
        found: yaml.Node | None = None
        if isinstance(current, yaml.MappingNode):
            for key_node, value_node in current.value:
                if str(key_node.value) == str(part):
                    found = value_node
                    break
        elif (
            isinstance(current, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(current.value)
        ):
            found = current.value[part]
        if found is None:
            break
        current = found
    return int(current.start_mark.line) + 1
