"""The cattrs converter: Kubernetes JSON (camelCase) <-> frozen attrs models (snake_case).

Decoding is as strict about JSON types as the apiserver's decoder: a string where an
integer belongs is an error, not a conversion. Unknown fields are ignored (the apiserver
drops them too). ``null`` is read as "absent", as Go's JSON decoder reads it.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
from collections.abc import Callable, Mapping
from typing import Any, ClassVar, Protocol, TypeVar, get_args, get_origin

import attrs
import cattrs
from cattrs.errors import ClassValidationError, IterableValidationError
from cattrs.gen import make_dict_structure_fn, make_dict_unstructure_fn, override

from ingresslib.resources._frozenmap import FrozenMap

__all__ = [
    "ResourceModel",
    "WireTypeError",
    "flatten_structure_error",
    "structure_resource",
    "unstructure_resource",
    "wire_name",
]


class ResourceModel(Protocol):
    """What the converter needs of a modelled resource (`ResourceBase` and its subclasses).

    Structural, so that the models may use the converter (`ResourceBase.to_dict`) without the
    converter importing the models: the arrow points from `_meta` to here only.
    """

    api_version: ClassVar[str]
    kind: ClassVar[str]


T = TypeVar("T")
R = TypeVar("R", bound=ResourceModel)

# Names whose JSON spelling is not the plain camelCase of the Python name.
_WIRE_NAME_EXCEPTIONS = {
    "cluster_ip": "clusterIP",
    "cluster_ips": "clusterIPs",
    "external_ips": "externalIPs",
}


def wire_name(python_name: str) -> str:
    """Return the JSON field name for a Python attribute name (`path_type` -> `pathType`).

    A trailing underscore spells a JSON name that is a Python keyword: `from_` -> `from`.
    """
    special = _WIRE_NAME_EXCEPTIONS.get(python_name)
    if special is not None:
        return special
    python_name = python_name.removesuffix("_")
    head, *rest = python_name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


class WireTypeError(TypeError):
    """A JSON value of the wrong type, with the path below the field it was found in.

    Args:
        message: the reason, e.g. "expected string, got integer".
        suffix: the path inside the field (e.g. `[app]` for a map entry), or "".
    """

    def __init__(self, message: str, suffix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.suffix = suffix


def _json_type(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, Mapping):
        return "object"
    if isinstance(value, list | tuple):
        return "array"
    return type(value).__name__


def _expect(value: object, wanted: str) -> WireTypeError:
    return WireTypeError(f"expected {wanted}, got {_json_type(value)}")


def _structure_str(value: object, _: type) -> str:
    if isinstance(value, str):
        return value
    raise _expect(value, "string")


# Go's int64; narrower fields (int32 ports) are range-checked by validation.
_INT64_MAX = 2**63 - 1


def _structure_int(value: object, _: type) -> int:
    # bool is an int subclass in Python but never a JSON integer.
    if isinstance(value, int) and not isinstance(value, bool):
        if not -_INT64_MAX - 1 <= value <= _INT64_MAX:
            raise WireTypeError("integer out of range")
        return value
    raise _expect(value, "integer")


def _structure_bool(value: object, _: type) -> bool:
    if isinstance(value, bool):
        return value
    raise _expect(value, "boolean")


def _structure_int_or_string(value: object, _: type) -> int | str:
    if isinstance(value, str):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    raise _expect(value, "integer or string")


# RFC 3339 as metav1.Time accepts it: date "T" time, optional fraction, "Z" or an offset.
_RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})\Z")
_FRACTION = re.compile(r"\.\d+")


def _structure_datetime(value: object, _: type) -> datetime.datetime:
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
    elif isinstance(value, str):
        if _RFC3339.match(value) is None:
            raise WireTypeError(f"not an RFC 3339 time: {value!r}")
        # datetime.fromisoformat() of Python 3.10 takes neither "Z" nor a lower-case "t".
        text = _FRACTION.sub("", value, count=1)
        text = text[:10] + "T" + text[11:]
        text = text[:-1] + "+00:00" if text[-1] in "Zz" else text
        try:
            moment = datetime.datetime.fromisoformat(text)
        except ValueError as error:
            raise WireTypeError(f"not a valid time: {value!r} ({error})") from None
    else:
        raise _expect(value, "RFC 3339 time string")
    # metav1.Time serialises whole seconds in UTC; keep what a round trip through the
    # apiserver keeps.
    return moment.astimezone(datetime.timezone.utc).replace(microsecond=0)


def _unstructure_datetime(value: datetime.datetime) -> str:
    return value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _is_frozenmap_of(value_type: type) -> Callable[[Any], bool]:
    def predicate(type_: Any) -> bool:
        return get_origin(type_) is FrozenMap and get_args(type_) == (str, value_type)

    return predicate


def _structure_string_map(value: object, _: type) -> FrozenMap[str, str]:
    if not isinstance(value, Mapping):
        raise _expect(value, "object")
    for key, item in value.items():
        if not isinstance(item, str):
            raise WireTypeError(_expect(item, "string").message, f"[{key}]")
    return FrozenMap({str(key): item for key, item in value.items()})


def _structure_bytes_map(value: object, _: type) -> FrozenMap[str, bytes]:
    if not isinstance(value, Mapping):
        raise _expect(value, "object")
    decoded: dict[str, bytes] = {}
    for key, item in value.items():
        if isinstance(item, bytes):
            decoded[str(key)] = item
            continue
        if not isinstance(item, str):
            raise WireTypeError(_expect(item, "base64 string").message, f"[{key}]")
        try:
            # Go's base64 decoder skips "\r" and "\n" (wrapped base64 in YAML blocks).
            decoded[str(key)] = base64.b64decode(
                item.replace("\n", "").replace("\r", ""), validate=True
            )
        except (binascii.Error, ValueError) as error:
            raise WireTypeError(f"illegal base64 data: {error}", f"[{key}]") from None
    return FrozenMap(decoded)


def _is_tuple(type_: Any) -> bool:
    return get_origin(type_) is tuple


def _drop_nulls(
    structure: Callable[[Mapping[str, Any], Any], T],
) -> Callable[[Any, Any], T]:
    def structure_object(value: Any, type_: Any) -> T:
        if not isinstance(value, Mapping):
            raise _expect(value, "object")
        # PERF: one pass; Go's decoder reads `null` as the zero value, so absent it is.
        return structure({k: v for k, v in value.items() if v is not None}, type_)

    return structure_object


def _make_converter() -> cattrs.Converter:
    converter = cattrs.Converter(detailed_validation=True, omit_if_default=True)
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(int | str, _structure_int_or_string)
    converter.register_structure_hook(int | str | None, _structure_int_or_string)
    converter.register_structure_hook(datetime.datetime, _structure_datetime)
    converter.register_unstructure_hook(datetime.datetime, _unstructure_datetime)
    converter.register_structure_hook_func(_is_frozenmap_of(str), _structure_string_map)
    converter.register_structure_hook_func(_is_frozenmap_of(bytes), _structure_bytes_map)
    converter.register_unstructure_hook_func(_is_frozenmap_of(str), dict)
    converter.register_unstructure_hook_func(
        _is_frozenmap_of(bytes),
        lambda value: {k: base64.b64encode(v).decode("ascii") for k, v in value.items()},
    )
    converter.register_unstructure_hook_func(
        _is_tuple, lambda value: [converter.unstructure(item) for item in value]
    )

    def structure_factory(cl: type[Any]) -> Callable[[Any, Any], Any]:
        renames: dict[str, Any] = {
            a.name: override(rename=wire_name(a.name)) for a in attrs.fields(cl)
        }
        return _drop_nulls(make_dict_structure_fn(cl, converter, **renames))

    def unstructure_factory(cl: type[Any]) -> Callable[[Any], Any]:
        # A field the API requires (metadata {"required": True}, Go: no `omitempty`) is
        # written even when empty: `group: ""` names the core group, and the apiserver
        # refuses an object that omits it.
        renames: dict[str, Any] = {
            a.name: override(
                rename=wire_name(a.name),
                omit_if_default=False if a.metadata.get("required") else None,
            )
            for a in attrs.fields(cl)
        }
        return make_dict_unstructure_fn(cl, converter, _cattrs_omit_if_default=True, **renames)

    converter.register_structure_hook_factory(attrs.has, structure_factory)
    converter.register_unstructure_hook_factory(attrs.has, unstructure_factory)
    return converter


_CONVERTER = _make_converter()


def structure_resource(data: Mapping[str, Any], cls: type[R]) -> R:
    """Build a resource from its JSON form (apiVersion and kind are not checked here).

    Raises:
        cattrs.errors.ClassValidationError: on wrong JSON types; see `flatten_structure_error`.
    """
    return _CONVERTER.structure(data, cls)


def unstructure_resource(resource: ResourceModel) -> dict[str, Any]:
    """Return the Kubernetes JSON form of `resource`, apiVersion and kind first."""
    body: dict[str, Any] = _CONVERTER.unstructure(resource)
    return {"apiVersion": resource.api_version, "kind": resource.kind, **body}


def flatten_structure_error(error: BaseException, path: str = "") -> list[tuple[str, str]]:
    """Turn a cattrs validation error tree into `(field path, reason)` pairs.

    The paths use the JSON names and the apiserver's notation: `spec.rules[0].host`.
    """
    found: list[tuple[str, str]] = []
    if isinstance(error, ClassValidationError):
        with_notes, without = error.group_exceptions()
        for inner, note in with_notes:
            child = f"{path}.{wire_name(note.name)}" if path else wire_name(note.name)
            found.extend(flatten_structure_error(inner, child))
        found.extend((path, _reason(inner)) for inner in without)
    elif isinstance(error, IterableValidationError):
        with_notes_i, without_i = error.group_exceptions()
        for inner, note_i in with_notes_i:
            found.extend(flatten_structure_error(inner, f"{path}[{note_i.index}]"))
        found.extend((path, _reason(inner)) for inner in without_i)
    elif isinstance(error, WireTypeError):
        found.append((path + error.suffix, error.message))
    else:
        found.append((path, _reason(error)))
    return found


def _reason(error: BaseException) -> str:
    if isinstance(error, WireTypeError):
        return error.message
    if isinstance(error, KeyError):
        return "Required value"
    if isinstance(error, ClassValidationError | IterableValidationError):
        return "; ".join(reason for _, reason in flatten_structure_error(error))
    return f"{type(error).__name__}: {error}"
