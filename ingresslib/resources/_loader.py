"""`load_manifests`: files, directories, text, mappings -> validated, typed resources."""

from __future__ import annotations

import json
import os
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar, overload

import attrs
import yaml

from ingresslib.resources._converter import flatten_structure_error, structure_resource
from ingresslib.resources._core import NAMESPACE_NAME_LABEL, Namespace, Secret, Service
from ingresslib.resources._crd import (
    NOT_CHECKED,
    apply_defaults,
    check_rules,
    crd_has_rules,
    crd_schema,
    is_blocking,
    validate_list_types,
    validate_schema,
)
from ingresslib.resources._discovery import EndpointSlice
from ingresslib.resources._errors import (
    INPUT_LABEL,
    ManifestError,
    ManifestProblem,
    SkippedDocument,
    UnsupportedKindWarning,
)
from ingresslib.resources._gateway import (
    GATEWAY_API_VERSIONS,
    Gateway,
    GatewayClass,
    GRPCRoute,
    HTTPRoute,
    ReferenceGrant,
)
from ingresslib.resources._gateway_rules import NOT_ON_CREATE, RULES
from ingresslib.resources._meta import ResourceBase
from ingresslib.resources._networking import Ingress, IngressClass
from ingresslib.resources._validation import validate_resource
from ingresslib.resources._yaml import line_of, read_yaml_documents

__all__ = ["MANIFEST_SUFFIXES", "Resource", "ResourceSet", "load_manifests"]

#: Every kind ingresslib models.
Resource = (
    Ingress
    | IngressClass
    | Service
    | EndpointSlice
    | Secret
    | Namespace
    | GatewayClass
    | Gateway
    | HTTPRoute
    | GRPCRoute
    | ReferenceGrant
)
R = TypeVar("R", bound=ResourceBase)

#: File endings read from a directory.
MANIFEST_SUFFIXES = (".yaml", ".yml", ".json")

_KINDS: dict[tuple[str, str], type[Resource]] = {
    (cls.api_version, cls.kind): cls
    for cls in (Ingress, IngressClass, Service, EndpointSlice, Secret, Namespace)
}
# Every version the Gateway API CRDs serve loads into the one (v1) model: their schemas are
# the same, and the apiserver converts between them with the "None" strategy (only
# `apiVersion` changes). The current version comes first, for `_current_version`.
_KINDS.update(
    {
        (version, cls.kind): cls
        for cls in (GatewayClass, Gateway, HTTPRoute, GRPCRoute, ReferenceGrant)
        for version in GATEWAY_API_VERSIONS[cls.kind]
    }
)
# The kinds defined by CustomResourceDefinitions: validated from their vendored CRD.
_CUSTOM_KINDS: frozenset[type[Resource]] = frozenset(
    {GatewayClass, Gateway, HTTPRoute, GRPCRoute, ReferenceGrant}
)
# Versions the apiserver no longer serves: an error, not a silent skip, since the user meant
# the object to count.
_REMOVED_VERSIONS = {
    ("extensions/v1beta1", "Ingress"): "1.22",
    ("networking.k8s.io/v1beta1", "Ingress"): "1.22",
    ("networking.k8s.io/v1beta1", "IngressClass"): "1.22",
    ("discovery.k8s.io/v1beta1", "EndpointSlice"): "1.25",
}


@attrs.frozen
class ResourceSet(Sequence[Resource]):
    """The resources loaded from a set of manifests, in document order.

    It is a sequence of resources; the typed accessors select one kind.

    Attributes:
        resources: every loaded resource.
        skipped: the documents of kinds ingresslib does not model.
    """

    resources: tuple[Resource, ...] = ()
    skipped: tuple[SkippedDocument, ...] = ()

    @overload
    def __getitem__(self, index: int) -> Resource: ...
    @overload
    def __getitem__(self, index: slice) -> Sequence[Resource]: ...
    def __getitem__(self, index: int | slice) -> Resource | Sequence[Resource]:
        return self.resources[index]

    def __len__(self) -> int:
        return len(self.resources)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def of_kind(self, kind: type[R]) -> tuple[R, ...]:
        """Return the resources of one kind, e.g. `resources.of_kind(Ingress)`."""
        return tuple(r for r in self.resources if isinstance(r, kind))

    @property
    def ingresses(self) -> tuple[Ingress, ...]:
        """The Ingresses."""
        return self.of_kind(Ingress)

    @property
    def ingress_classes(self) -> tuple[IngressClass, ...]:
        """The IngressClasses."""
        return self.of_kind(IngressClass)

    @property
    def services(self) -> tuple[Service, ...]:
        """The Services."""
        return self.of_kind(Service)

    @property
    def endpoint_slices(self) -> tuple[EndpointSlice, ...]:
        """The EndpointSlices."""
        return self.of_kind(EndpointSlice)

    @property
    def secrets(self) -> tuple[Secret, ...]:
        """The Secrets."""
        return self.of_kind(Secret)

    @property
    def namespaces(self) -> tuple[Namespace, ...]:
        """The Namespaces."""
        return self.of_kind(Namespace)

    @property
    def gateway_classes(self) -> tuple[GatewayClass, ...]:
        """The GatewayClasses."""
        return self.of_kind(GatewayClass)

    @property
    def gateways(self) -> tuple[Gateway, ...]:
        """The Gateways."""
        return self.of_kind(Gateway)

    @property
    def http_routes(self) -> tuple[HTTPRoute, ...]:
        """The HTTPRoutes."""
        return self.of_kind(HTTPRoute)

    @property
    def grpc_routes(self) -> tuple[GRPCRoute, ...]:
        """The GRPCRoutes."""
        return self.of_kind(GRPCRoute)

    @property
    def reference_grants(self) -> tuple[ReferenceGrant, ...]:
        """The ReferenceGrants."""
        return self.of_kind(ReferenceGrant)


@attrs.define
class _Document:
    """One object to load, with where it came from."""

    source: str
    data: Any
    node: yaml.Node | None = None
    # Path of this object inside the document's node tree (for `items[i]` of a List).
    node_prefix: str = ""

    def line(self, field: str = "") -> int | None:
        if self.node is None:
            return None
        path = ".".join(p for p in (self.node_prefix, field) if p)
        return line_of(self.node, path)


ManifestSource = (
    str
    | os.PathLike[str]
    | bytes
    | Mapping[str, Any]
    | Iterable[Mapping[str, Any] | str | os.PathLike[str]]
)


def load_manifests(
    source: ManifestSource,
    *,
    namespace: str = "default",
    unknown_kinds: Literal["warn", "ignore", "error"] = "warn",
    allow_loopback_endpoints: bool = False,
) -> ResourceSet:
    """Load Kubernetes manifests into typed, validated resources.

    Args:
        source: a path to a file or a directory (`*.yaml`, `*.yml`, `*.json`, read
            recursively in sorted order); YAML or JSON text (several documents allowed);
            one mapping; or an iterable of mappings (or of paths, read as one set).
            `kind: List` and every `*List` kind are expanded into their items.
        namespace: the namespace given to namespaced objects that name none (as
            `kubectl apply` uses the context's namespace).
        unknown_kinds: what to do with kinds ingresslib does not model: "warn" (an
            `UnsupportedKindWarning`; they are also listed in `ResourceSet.skipped`),
            "ignore" (only listed), or "error" (a problem in the ManifestError).
        allow_loopback_endpoints: accept EndpointSlice addresses in 127.0.0.0/8 and
            ::1, which the apiserver refuses ("may not be in the loopback range"): for
            local development and tests whose backends listen on loopback.

    Returns:
        The resources, in document order, and the skipped documents.

    Raises:
        ManifestError: listing every problem of every document (it is a ValueError).
    """
    problems: list[ManifestProblem] = []
    documents = list(_read_source(source, problems))
    resources: list[Resource] = []
    skipped: list[SkippedDocument] = []
    seen: dict[tuple[str, str, str], _Document] = {}
    for document in _expand_lists(documents, problems):
        loaded = _load_document(document, namespace, problems, allow_loopback_endpoints)
        if isinstance(loaded, SkippedDocument):
            if unknown_kinds == "error":
                problems.append(
                    ManifestProblem(
                        source=document.source,
                        line=document.line(),
                        kind=loaded.kind,
                        namespace=loaded.namespace,
                        name=loaded.name,
                        field="kind",
                        reason=f"Unsupported value: {json.dumps(loaded.kind)}: "
                        f"ingresslib does not model {loaded.api_version} {loaded.kind}",
                    )
                )
            skipped.append(loaded)
            continue
        if loaded is None:
            continue
        key = (loaded.kind, loaded.metadata.namespace, loaded.metadata.name)
        if key in seen:
            first = seen[key]
            where = ManifestProblem(source=first.source, reason="", line=first.line()).location
            ref = _ObjectRef(document, loaded.kind, loaded.metadata.namespace, loaded.metadata.name)
            problems.append(
                ref.problem(
                    "metadata.name",
                    f"Duplicate value: {json.dumps(loaded.metadata.name)}: "
                    f"the same object is defined at {where}",
                )
            )
            continue
        seen[key] = document
        resources.append(loaded)
    if problems:
        raise ManifestError(problems)
    if skipped and unknown_kinds == "warn":
        kinds = sorted({f"{s.api_version} {s.kind}" for s in skipped})
        warnings.warn(
            f"skipped {len(skipped)} document(s) of kinds ingresslib does not model: "
            + ", ".join(kinds),
            UnsupportedKindWarning,
            stacklevel=2,
        )
    return ResourceSet(resources=tuple(resources), skipped=tuple(skipped))


# --- reading sources ----------------------------------------------------------------------


def _looks_like_path(text: str) -> bool:
    """A one-line string that is not JSON or a YAML mapping names a file or directory."""
    stripped = text.strip()
    if "\n" in stripped or not stripped or stripped[0] in "{[" or ": " in stripped:
        return False
    try:
        return Path(text).exists() or not stripped.endswith(":")
    except (OSError, ValueError):  # e.g. a name longer than the OS allows
        return False


def _read_source(source: ManifestSource, problems: list[ManifestProblem]) -> Iterator[_Document]:
    if isinstance(source, os.PathLike) or (isinstance(source, str) and _looks_like_path(source)):
        yield from _read_path(Path(source), problems)
    elif isinstance(source, str | bytes):
        text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
        yield from _read_text(text, "input", problems, numbered=True)
    elif isinstance(source, Mapping):
        yield _Document(source=f"{INPUT_LABEL}1", data=source)
    else:
        items: object = source
        if not isinstance(items, Iterable):
            problems.append(
                ManifestProblem(
                    source="input",
                    reason=f"cannot read manifests from a {type(items).__name__}: give a path, "
                    "YAML/JSON text, a mapping or an iterable of mappings",
                )
            )
            return
        for index, item in enumerate(items, start=1):
            if isinstance(item, str | os.PathLike):
                yield from _read_path(Path(item), problems)
            else:
                yield _Document(source=f"{INPUT_LABEL}{index}", data=item)


def _read_path(path: Path, problems: list[ManifestProblem]) -> Iterator[_Document]:
    if path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.suffix in MANIFEST_SUFFIXES and p.is_file())
        if not files:
            problems.append(
                ManifestProblem(source=str(path), reason="no *.yaml, *.yml or *.json files here")
            )
        for file in files:
            yield from _read_file(file, problems)
    elif path.exists():
        yield from _read_file(path, problems)
    else:
        problems.append(ManifestProblem(source=str(path), reason="no such file or directory"))


def _read_file(path: Path, problems: list[ManifestProblem]) -> Iterator[_Document]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problems.append(ManifestProblem(source=str(path), reason=f"cannot read: {error}"))
        return
    if path.suffix == ".json":
        try:
            yield _Document(source=str(path), data=json.loads(text))
        except json.JSONDecodeError as error:
            problems.append(
                ManifestProblem(
                    source=str(path), line=error.lineno, reason=f"invalid JSON: {error}"
                )
            )
        except RecursionError:
            problems.append(ManifestProblem(source=str(path), reason="JSON nests too deeply"))
        return
    yield from _read_text(text, str(path), problems, numbered=False)


def _read_text(
    text: str, label: str, problems: list[ManifestProblem], *, numbered: bool
) -> Iterator[_Document]:
    index = 0
    try:
        for document in read_yaml_documents(text):
            if document.data is None:
                continue  # an empty document (`---` twice, comments only)
            index += 1
            yield _Document(
                source=f"{label} #{index}" if numbered else label,
                data=document.data,
                node=document.node,
            )
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = mark.line + 1 if mark is not None else None
        detail = " ".join(str(error).split())
        problems.append(
            ManifestProblem(
                source=f"{label} #{index + 1}" if numbered else label,
                line=line,
                reason=f"malformed YAML: {detail}",
            )
        )
    except RecursionError:
        problems.append(ManifestProblem(source=label, reason="YAML nests too deeply"))


def _expand_lists(
    documents: Iterable[_Document], problems: list[ManifestProblem]
) -> Iterator[_Document]:
    for document in documents:
        data = document.data
        kind = data.get("kind") if isinstance(data, Mapping) else None
        if isinstance(kind, str) and kind.endswith("List") and isinstance(data, Mapping):
            items = data.get("items")
            if items is None:
                continue
            if not isinstance(items, list):
                problems.append(
                    _ObjectRef(document, kind).problem("items", "Invalid value: expected an array")
                )
                continue
            for index, item in enumerate(items):
                yield attrs.evolve(
                    document,
                    data=item,
                    node_prefix=".".join(p for p in (document.node_prefix, f"items[{index}]") if p),
                )
        else:
            yield document


# --- one object ---------------------------------------------------------------------------


@attrs.frozen
class _ObjectRef:
    """The document and object a problem is about."""

    document: _Document
    kind: str = ""
    namespace: str = ""
    name: str = ""

    def problem(self, field: str, reason: str) -> ManifestProblem:
        return ManifestProblem(
            source=self.document.source,
            line=self.document.line(field),
            kind=self.kind,
            namespace=self.namespace,
            name=self.name,
            field=field,
            reason=reason,
        )


def _string_at(data: Mapping[str, Any], *keys: str) -> str:
    value: Any = data
    for key in keys:
        if not isinstance(value, Mapping):
            return ""
        value = value.get(key)
    return value if isinstance(value, str) else ""


def _load_document(
    document: _Document,
    default_namespace: str,
    problems: list[ManifestProblem],
    allow_loopback_endpoints: bool = False,
) -> Resource | SkippedDocument | None:
    data = document.data
    if not isinstance(data, Mapping):
        problems.append(
            _ObjectRef(document).problem("", "a manifest must be a mapping (a YAML object)")
        )
        return None
    api_version, kind = data.get("apiVersion"), data.get("kind")
    name = _string_at(data, "metadata", "name")
    namespace = _string_at(data, "metadata", "namespace")
    missing = [
        field
        for field, value in (("apiVersion", api_version), ("kind", kind))
        if not isinstance(value, str) or not value
    ]
    if missing or not isinstance(api_version, str) or not isinstance(kind, str):
        ref = _ObjectRef(document, kind if isinstance(kind, str) else "", namespace, name)
        problems.extend(ref.problem(field, "Required value") for field in missing)
        return None
    ref = _ObjectRef(document, kind, namespace, name)
    cls = _KINDS.get((api_version, kind))
    if cls is None:
        removed_in = _REMOVED_VERSIONS.get((api_version, kind))
        if removed_in is not None:
            problems.append(
                ref.problem(
                    "apiVersion",
                    f"Unsupported value: {json.dumps(api_version)}: {kind} {api_version} is no "
                    f"longer served since Kubernetes {removed_in}; use {_current_version(kind)}",
                )
            )
            return None
        return SkippedDocument(
            source=document.source,
            line=document.line(),
            api_version=api_version,
            kind=kind,
            namespace=namespace,
            name=name,
        )
    body = _prepare(dict(data), cls, default_namespace)
    metadata = body.get("metadata")
    if isinstance(metadata, Mapping):
        ref = attrs.evolve(ref, namespace=_string_at(metadata, "namespace"))
    if cls in _CUSTOM_KINDS:
        return _load_custom_resource(body, cls, ref, problems)
    try:
        resource = structure_resource(body, cls)
    except Exception as error:  # noqa: BLE001 -- cattrs groups any hook's errors; each becomes a problem
        problems.extend(ref.problem(f, reason) for f, reason in flatten_structure_error(error))
        return None
    found = validate_resource(resource, allow_loopback_endpoints=allow_loopback_endpoints)
    problems.extend(ref.problem(f, reason) for f, reason in found)
    return resource


def _load_custom_resource(
    body: dict[str, Any], cls: type[Resource], ref: _ObjectRef, problems: list[ManifestProblem]
) -> Resource | None:
    """A Gateway API object, checked as the apiserver creates a custom resource.

    Defaults from the CRD schema, then the object's metadata, the schema and the list types,
    then the CEL rules unless an earlier error blocks them (see `_crd`).
    """
    schema = crd_schema(cls.kind)
    defaulted = apply_defaults(body, schema)
    found = validate_schema(defaulted, schema) + validate_list_types(defaulted, schema)
    resource: Resource | None = None
    try:
        resource = structure_resource(defaulted, cls)
    except Exception as error:  # noqa: BLE001 -- cattrs groups any hook's errors
        if not found:  # the schema found nothing: the metadata is malformed
            problems.extend(ref.problem(f, reason) for f, reason in flatten_structure_error(error))
            return None
    if resource is not None:
        found = validate_resource(resource) + found
    if not crd_has_rules(cls.kind):
        pass  # NewValidator: no CEL validator at all, so no "not checked" either
    elif any(is_blocking(reason) for _, reason in found):
        found.append(NOT_CHECKED)
    else:
        found += check_rules(defaulted, schema, RULES, NOT_ON_CREATE)
    problems.extend(ref.problem(f, reason) for f, reason in found)
    return resource


def _current_version(kind: str) -> str:
    return next(api for api, known in _KINDS if known == kind)


def _prepare(body: dict[str, Any], cls: type[Resource], default_namespace: str) -> dict[str, Any]:
    """Apply what the apiserver does before validation: namespace, Secret stringData, labels."""
    if not isinstance(body.get("metadata"), Mapping | None):
        return body  # let the converter report the wrong type
    metadata = dict(body.get("metadata") or {})
    if cls.namespaced:
        if not metadata.get("namespace"):
            metadata["namespace"] = default_namespace
    else:
        # rest.BeforeCreate clears the namespace of cluster-scoped objects.
        metadata.pop("namespace", None)
    if cls is Namespace and isinstance(metadata.get("name"), str):
        # SetDefaults_Namespace: "obj.Labels[v1.LabelMetadataName] = obj.Name".
        labels = metadata.get("labels")
        if isinstance(labels, Mapping | None):
            metadata["labels"] = {**(labels or {}), NAMESPACE_NAME_LABEL: metadata["name"]}
    body["metadata"] = metadata
    if cls is Secret:
        body = _merge_string_data(body)
    return body


def _merge_string_data(body: dict[str, Any]) -> dict[str, Any]:
    """Merge `stringData` into `data`, as the apiserver does on write.

    "stringData allows specifying non-binary secret data in string form. ... All keys and
    values are merged into the data field on write, overwriting any existing values."
    """
    string_data = body.pop("stringData", None)
    if not isinstance(string_data, Mapping):
        if string_data is not None:
            body["stringData"] = string_data  # ignored by the model; nothing to merge
        return body
    data = body.get("data")
    merged: dict[str, Any] = dict(data) if isinstance(data, Mapping) else {}
    for key, value in string_data.items():
        # A non-string value keeps its type, so the converter reports it (at `data[key]`).
        merged[key] = value.encode("utf-8") if isinstance(value, str) else value
    body["data"] = merged
    return body
