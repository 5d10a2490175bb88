"""ObjectMeta and what every modelled resource shares."""

from __future__ import annotations

import datetime
from typing import Any, ClassVar

import attrs

from ingresslib.resources._converter import unstructure_resource
from ingresslib.resources._frozenmap import FrozenMap

__all__ = ["ObjectMeta", "ResourceBase", "age_key"]

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


def age_key(resource: ResourceBase) -> tuple[datetime.datetime, str, str]:
    """The order of "oldest first" between objects that claim the same thing.

    ingress-nginx's rule for identical claims, which ingresslib applies everywhere (routing,
    TLS certificates, status): the oldest `creationTimestamp` wins, then `namespace/name`
    order. An object without a timestamp (fresh from a file, never stored by an apiserver)
    counts as newer than any that has one.
    """
    meta = resource.metadata
    return (meta.creation_timestamp or _FAR_FUTURE, meta.namespace, meta.name)
