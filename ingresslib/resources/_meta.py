"""ObjectMeta and what every modelled resource shares."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, ClassVar

import attrs

from ingresslib.resources._converter import unstructure_resource
from ingresslib.resources._frozenmap import FrozenMap

__all__ = [
    "REQUIRED",
    "Condition",
    "LabelSelector",
    "LabelSelectorRequirement",
    "ObjectMeta",
    "ResourceBase",
    "age_key",
]

#: Field metadata of a field the API requires (Go: no `omitempty`): `to_dict()` writes it even
#: when it holds its zero value, since the apiserver refuses the object without it.
REQUIRED: Mapping[str, bool] = {"required": True}

_FAR_FUTURE = datetime.datetime.max.replace(tzinfo=datetime.timezone.utc)


def _empty_map() -> FrozenMap[str, str]:
    return FrozenMap()


@attrs.frozen
class ObjectMeta:
    """The parts of `metadata` that routing needs.

    Attributes:
        name: `metadata.name`.
        namespace: `metadata.namespace`; the loader fills in "default" (or the namespace it
            is given) for namespaced kinds and leaves it empty for cluster-scoped ones.
        uid: `metadata.uid`, when the object came from a cluster.
        resource_version: `metadata.resourceVersion`.
        generation: `metadata.generation`.
        creation_timestamp: `metadata.creationTimestamp`, timezone-aware (UTC), truncated
            to whole seconds as the apiserver stores it.
        labels: `metadata.labels`.
        annotations: `metadata.annotations`.
    """

    name: str = ""
    namespace: str = ""
    uid: str = ""
    resource_version: str = ""
    generation: int | None = None
    creation_timestamp: datetime.datetime | None = None
    labels: FrozenMap[str, str] = attrs.field(factory=_empty_map)
    annotations: FrozenMap[str, str] = attrs.field(factory=_empty_map)


@attrs.frozen
class ResourceBase:
    """Behaviour shared by the modelled resources.

    Subclasses set `api_version` and `kind` and declare a `metadata` attribute.
    """

    api_version: ClassVar[str] = ""
    kind: ClassVar[str] = ""
    namespaced: ClassVar[bool] = True

    metadata: ObjectMeta = attrs.field(factory=ObjectMeta)

    @property
    def name(self) -> str:
        """`metadata.name`."""
        return self.metadata.name

    @property
    def namespace(self) -> str:
        """`metadata.namespace` ("" for cluster-scoped kinds)."""
        return self.metadata.namespace

    @property
    def ref(self) -> str:
        """`Kind namespace/name` (or `Kind name` when cluster-scoped), as messages show it."""
        if self.metadata.namespace:
            return f"{self.kind} {self.metadata.namespace}/{self.metadata.name}"
        return f"{self.kind} {self.metadata.name}"

    def to_dict(self) -> dict[str, Any]:
        """Return the Kubernetes JSON form (camelCase keys, empty fields omitted)."""
        return unstructure_resource(self)


@attrs.frozen
class LabelSelectorRequirement:
    """`metav1.LabelSelectorRequirement`: one term of `matchExpressions`.

    Attributes:
        key: "key is the label key that the selector applies to."
        operator: "operator represents a key's relationship to a set of values. Valid
            operators are In, NotIn, Exists and DoesNotExist."
        values: "values is an array of string values. If the operator is In or NotIn, the
            values array must be non-empty. If the operator is Exists or DoesNotExist, the
            values array must be empty."
    """

    key: str = attrs.field(default="", metadata=REQUIRED)
    operator: str = attrs.field(default="", metadata=REQUIRED)
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether `labels` satisfy this requirement (an unknown operator matches nothing)."""
        if self.operator == "In":
            return self.key in labels and labels[self.key] in self.values
        if self.operator == "NotIn":
            return self.key not in labels or labels[self.key] not in self.values
        if self.operator == "Exists":
            return self.key in labels
        if self.operator == "DoesNotExist":
            return self.key not in labels
        return False


@attrs.frozen
class LabelSelector:
    """`metav1.LabelSelector`: "A label selector is a label query over a set of resources.

    The result of matchLabels and matchExpressions are ANDed. An empty label selector matches
    all objects. A null label selector matches no objects."

    Attributes:
        match_labels: "matchLabels is a map of {key,value} pairs. A single {key,value} in the
            matchLabels map is equivalent to an element of matchExpressions, whose key field
            is "key", the operator is "In", and the values array contains only "value"."
        match_expressions: "matchExpressions is a list of label selector requirements. The
            requirements are ANDed."
    """

    match_labels: FrozenMap[str, str] = attrs.field(factory=_empty_map)
    match_expressions: tuple[LabelSelectorRequirement, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        """Whether an object with `labels` is selected (`metav1.LabelSelectorAsSelector`)."""
        if any(labels.get(key) != value for key, value in self.match_labels.items()):
            return False
        return all(term.matches(labels) for term in self.match_expressions)


@attrs.frozen
class Condition:
    """`metav1.Condition`: "Condition contains details for one aspect of the current state".

    "... of this API Resource."

    Attributes:
        type: "type of condition in CamelCase or in foo.example.com/CamelCase."
        status: "status of the condition, one of True, False, Unknown."
        observed_generation: "observedGeneration represents the .metadata.generation that the
            condition was set based upon. For instance, if .metadata.generation is currently
            12, but the .status.conditions[x].observedGeneration is 9, the condition is out
            of date with respect to the current state of the instance."
        last_transition_time: "lastTransitionTime is the last time the condition transitioned
            from one status to another. This should be when the underlying condition changed.
            If that is not known, then using the time when the API field changed is
            acceptable."
        reason: "reason contains a programmatic identifier indicating the reason for the
            condition's last transition."
        message: "message is a human readable message indicating details about the
            transition. This may be an empty string."
    """

    type: str = attrs.field(default="", metadata=REQUIRED)
    status: str = attrs.field(default="", metadata=REQUIRED)
    observed_generation: int = 0
    last_transition_time: datetime.datetime | None = None
    reason: str = attrs.field(default="", metadata=REQUIRED)
    message: str = attrs.field(default="", metadata=REQUIRED)


def age_key(resource: ResourceBase) -> tuple[datetime.datetime, str, str]:
    """The order of "oldest first" between objects that claim the same thing.

    ingress-nginx's rule for identical claims, which ingresslib applies everywhere (routing,
    TLS certificates, status): the oldest `creationTimestamp` wins, then `namespace/name`
    order. An object without a timestamp (fresh from a file, never stored by an apiserver)
    counts as newer than any that has one.
    """
    meta = resource.metadata
    return (meta.creation_timestamp or _FAR_FUTURE, meta.namespace, meta.name)
