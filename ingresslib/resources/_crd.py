"""Custom resources as the apiserver handles them: CRD defaults, the OpenAPI schema, list types.

The Gateway API CRDs (v1.6.1, standard channel) are vendored as data in `crds/`. This module is
a small structural OpenAPI v3 validator that follows, step by step, what the apiserver does
with a custom resource on create (Kubernetes 1.35: k8s.io/apiextensions-apiserver v0.35 and
k8s.io/kube-openapi):

1. structural defaulting (`schema/defaulting`): a property with a `default` that is absent, or
   `null` while not nullable, gets the default, and the walk goes on inside it; other
   non-nullable `null` properties are pruned; integral numbers become integers where the
   schema says `integer` (JSON has one number type);
2. `ValidateObjectMetaAccessor` (the caller's part, `_validation`);
3. the schema (`validate.SchemaValidator`): per value, in this order, the type, the string
   rules (maxLength, then minLength, then pattern: the first failure only), the format,
   the number rules (minimum, then maximum), the items then minItems then maxItems, enum,
   then maxProperties, additional properties, properties and required; worded as kube-openapi
   words them (`spec.listeners[0].port in body should be greater than or equal to 1`) and
   turned into `field.Error`s as `kubeOpenAPIResultToFieldErrors` turns them;
4. `x-kubernetes-list-type` `map` and `set` uniqueness (`schema/listtype`);
5. the `x-kubernetes-validations` CEL rules (`_gateway_rules`), unless an error of step 2-4
   is "blocking" (`hasBlockingErr`: NotSupported, Required, TooLong, TooMany, TypeInvalid):
   then one error says that some rules were not checked.

The apiserver walks object properties in Go map order (random); here they are walked in the
schema's (alphabetical) order, so the errors come in a stable order.
"""

from __future__ import annotations

import copy
import datetime
import functools
import json
import re
from collections.abc import Callable, Iterator, Mapping
from importlib import resources as importlib_resources
from typing import Any

import yaml

from ingresslib.resources._validation import FieldProblem, go_quote

__all__ = [
    "BLOCKING_PREFIXES",
    "CRD_FILES",
    "NOT_CHECKED",
    "RuleError",
    "Schema",
    "apply_defaults",
    "check_rules",
    "crd_document",
    "crd_has_rules",
    "crd_schema",
    "go_regex",
    "go_value",
    "has_rules",
    "is_blocking",
    "served_versions",
    "validate_list_types",
    "validate_schema",
    "walk_rules",
]

Schema = Mapping[str, Any]

#: The CRD file of each kind, in `ingresslib/resources/crds/`.
CRD_FILES = {
    "GatewayClass": "gateway.networking.k8s.io_gatewayclasses.yaml",
    "Gateway": "gateway.networking.k8s.io_gateways.yaml",
    "HTTPRoute": "gateway.networking.k8s.io_httproutes.yaml",
    "GRPCRoute": "gateway.networking.k8s.io_grpcroutes.yaml",
    "ReferenceGrant": "gateway.networking.k8s.io_referencegrants.yaml",
}

#: `hasBlockingErr`: "OpenAPIv3 type/maxLength/maxItems/MaxProperties/required/enum
#: violation/wrong type field validation failures are viewed as blocking err for CEL
#: validation" (the `field.ErrorType` strings that start their ErrorBody).
BLOCKING_PREFIXES = ("Unsupported value", "Required value", "Too long", "Too many")

#: What the apiserver adds instead of running the CEL rules when a blocking error exists:
#: `field.Invalid(nil, nil, "some validation rules were not checked because the object was
#: invalid; correct the existing errors to complete validation")` (a nil path prints "<nil>").
NOT_CHECKED: FieldProblem = (
    "<nil>",
    "Invalid value: null: some validation rules were not checked because the object was "
    "invalid; correct the existing errors to complete validation",
)

_BaseLoader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.cache
def crd_document(kind: str) -> Mapping[str, Any]:
    """The vendored CustomResourceDefinition of a Gateway API kind."""
    text = (
        importlib_resources.files("ingresslib.resources")
        .joinpath("crds")
        .joinpath(CRD_FILES[kind])
        .read_text(encoding="utf-8")
    )
    document: Mapping[str, Any] = yaml.load(text, Loader=_BaseLoader)
    return document


def served_versions(kind: str) -> tuple[str, ...]:
    """The `apiVersion`s the CRD serves, e.g. `("gateway.networking.k8s.io/v1", ...)`."""
    document = crd_document(kind)
    group = document["spec"]["group"]
    return tuple(
        f"{group}/{version['name']}"
        for version in document["spec"]["versions"]
        if version.get("served")
    )


@functools.cache
def crd_schema(kind: str) -> Schema:
    """The `openAPIV3Schema` of the CRD's v1 version (every served version has the same one)."""
    for version in crd_document(kind)["spec"]["versions"]:
        if version["name"] == "v1":
            schema: Schema = version["schema"]["openAPIV3Schema"]
            return schema
    raise LookupError(f"the {kind} CRD serves no v1")  # pragma: no cover - vendored data


# --- regular expressions ------------------------------------------------------------------


@functools.cache
def go_regex(pattern: str) -> re.Pattern[str]:
    r"""Compile a Go RE2 pattern into a Python one that matches the same strings.

    Two differences matter for the CRDs' patterns: Python's `$` also matches before a final
    newline (RE2's only at the end of the text: here `\Z`), and Python 3.11 refuses a global
    flag such as `(?i)` anywhere but at the start (RE2 applies it from where it stands; in
    the CRDs it follows a leading `^`, so it applies to the whole pattern).
    """
    flags = 0
    if "(?i)" in pattern:
        pattern = pattern.replace("(?i)", "")
        flags |= re.IGNORECASE
    out: list[str] = []
    in_class = False
    index = 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\":
            out.append(pattern[index : index + 2])
            index += 2
            continue
        if in_class:
            if char == "]":
                in_class = False
        elif char == "[":
            in_class = True
            # A "]" right after "[" or "[^" is a literal member.
            following = pattern[index + 1 : index + 3]
            if following.startswith("]") or following.startswith("^]"):
                length = 2 if following.startswith("]") else 3
                out.append(pattern[index : index + length])
                index += length
                continue
        elif char == "$":
            out.append(r"\Z")
            index += 1
            continue
        out.append(char)
        index += 1
    return re.compile("".join(out), flags)


# --- defaulting ---------------------------------------------------------------------------


def _properties(schema: Schema) -> Mapping[str, Schema]:
    properties: Mapping[str, Schema] = schema.get("properties") or {}
    return properties


def _items(schema: Schema) -> Schema | None:
    items = schema.get("items")
    return items if isinstance(items, Mapping) else None


def _additional(schema: Schema) -> Schema | None:
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, Mapping) else None


def apply_defaults(value: Any, schema: Schema) -> Any:
    """Return `value` with the schema's defaults applied, as structural defaulting does.

    The input is not modified. Also prunes non-nullable `null` properties without a default
    (`PruneNonNullableNullsWithoutDefaults`) and turns integral numbers into integers where
    the schema says `integer`.
    """
    if schema.get("type") == "integer" and isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        properties = _properties(schema)
        extra = _additional(schema)
        result: dict[str, Any] = {}
        for key, given in value.items():
            sub = properties.get(key, extra)
            item = given
            if item is None and sub is not None and not sub.get("nullable"):
                if "default" not in sub:
                    continue  # pruned
                item = copy.deepcopy(sub["default"])
            result[key] = apply_defaults(item, sub) if sub is not None else item
        for key, sub in properties.items():
            if key not in result and "default" in sub:
                result[key] = apply_defaults(copy.deepcopy(sub["default"]), sub)
        return result
    if isinstance(value, list):
        items = _items(schema)
        if items is None:
            return list(value)
        return [apply_defaults(item, items) for item in value]
    return value


# --- the OpenAPI schema (kube-openapi validate.SchemaValidator) ---------------------------


def _json_type(value: Any) -> str:
    """`typeValidator.schemaInfoForType`: the JSON type of a decoded value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str | datetime.datetime | bytes):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__


def go_value(value: Any) -> str:
    """A bad value as `field.Error.ErrorBody` prints it (%v, %q, or JSON)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e21:
            return str(int(value))
        return repr(value)
    if isinstance(value, int):
        return str(value)
    try:
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return str(value)


def _invalid(path: str, value: Any, detail: str) -> FieldProblem:
    return (path, f"Invalid value: {go_value(value)}: {detail}")


def _num(value: float) -> str:
    # kube-openapi formats the bound with %v: an int64 bound for integer data.
    return str(int(value)) if float(value).is_integer() else repr(value)


_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})\Z"
)


def _is_date_time(value: str) -> bool:
    # strfmt.IsDateTime: RFC 3339 (a date, "T", a time, an optional fraction, a zone).
    if _RFC3339.match(value) is None:
        return False
    try:
        datetime.date.fromisoformat(value[:10])
        datetime.time.fromisoformat(value[11:19])
    except ValueError:
        return False
    return True


def _length(value: str) -> int:
    # go-openapi counts runes: `utf8.RuneCountInString`.
    return len(value)


def validate_schema(value: Any, schema: Schema, path: str = "") -> list[FieldProblem]:
    """Validate one decoded JSON value against a structural schema; `[]` when valid.

    Args:
        value: the value (already defaulted, see `apply_defaults`).
        schema: its schema.
        path: kube-openapi's name of the value: "" for the root, then `spec`,
            `spec.listeners[0]`, `spec.infrastructure.labels.key`...

    Returns:
        `(field path, reason)` pairs, worded as the apiserver words them.
    """
    problems: list[FieldProblem] = []
    name = path
    wanted = schema.get("type")
    actual = _json_type(value)
    # typeValidator
    if wanted and not (
        actual == wanted
        or (wanted == "number" and actual == "integer")
        or (wanted == "integer" and actual == "number" and float(value).is_integer())
    ):
        if value is None and schema.get("nullable"):
            return problems
        problems.append(
            (
                name,
                f'Invalid value: "{actual}": {name} in body must be of type {wanted}: "{actual}"',
            )
        )
    if isinstance(value, str):
        problems += _validate_string(value, schema, name)
    elif isinstance(value, int | float) and not isinstance(value, bool):
        problems += _validate_number(value, schema, name)
    elif isinstance(value, list | tuple):
        problems += _validate_array(value, schema, name)
    # basicCommonValidator: enum
    enum = schema.get("enum")
    if enum and not _in_enum(value, enum):
        options = ", ".join(
            go_quote(item if isinstance(item, str) else json.dumps(item)) for item in enum
        )
        problems.append(
            (name, f"Unsupported value: {go_value(value)}: supported values: {options}")
        )
    if isinstance(value, Mapping):
        problems += _validate_object(value, schema, name)
    return problems


def _in_enum(value: Any, enum: list[Any]) -> bool:
    for option in enum:
        if isinstance(option, bool) or isinstance(value, bool):
            if value is option:
                return True
        elif isinstance(option, int | float) and isinstance(value, int | float):
            if value == option:
                return True
        elif type(option) is type(value) and value == option:
            return True
    return False


def _validate_string(value: str, schema: Schema, name: str) -> list[FieldProblem]:
    # stringValidator: the first failure only, maxLength, minLength, pattern.
    problems: list[FieldProblem] = []
    max_length = schema.get("maxLength")
    min_length = schema.get("minLength")
    pattern = schema.get("pattern")
    if max_length is not None and _length(value) > max_length:
        bytes_ = "byte" if max_length == 1 else "bytes"
        problems.append((name, f"Too long: may not be more than {max_length} {bytes_}"))
    elif min_length is not None and _length(value) < min_length:
        problems.append(
            _invalid(name, value, f"{name} in body should be at least {min_length} chars long")
        )
    elif pattern is not None and go_regex(pattern).search(value) is None:
        problems.append(_invalid(name, value, f"{name} in body should match '{pattern}'"))
    # formatValidator
    if schema.get("format") == "date-time" and not _is_date_time(value):
        problems.append(
            (
                name,
                f"Invalid value: {go_quote(value)}: {name} in body must be of type date-time: "
                f"{go_quote(value)}",
            )
        )
    return problems


def _validate_number(value: float, schema: Schema, name: str) -> list[FieldProblem]:
    # numberValidator: multipleOf (unused by these CRDs), minimum, maximum.
    problems: list[FieldProblem] = []
    minimum = schema.get("minimum")
    maximum = schema.get("maximum")
    if minimum is not None and (
        value <= minimum if schema.get("exclusiveMinimum") else value < minimum
    ):
        relation = "greater than" if schema.get("exclusiveMinimum") else "greater than or equal to"
        problems.append(
            _invalid(name, value, f"{name} in body should be {relation} {_num(minimum)}")
        )
    if maximum is not None and (
        value >= maximum if schema.get("exclusiveMaximum") else value > maximum
    ):
        relation = "less than" if schema.get("exclusiveMaximum") else "less than or equal to"
        problems.append(
            _invalid(name, value, f"{name} in body should be {relation} {_num(maximum)}")
        )
    return problems


def _validate_array(
    value: list[Any] | tuple[Any, ...], schema: Schema, name: str
) -> list[FieldProblem]:
    # schemaSliceValidator: the items, then minItems, maxItems.
    problems: list[FieldProblem] = []
    items = _items(schema)
    if items is not None:
        for index, item in enumerate(value):
            problems += validate_schema(item, items, f"{name}[{index}]")
    min_items = schema.get("minItems")
    max_items = schema.get("maxItems")
    if min_items is not None and len(value) < min_items:
        problems.append(
            _invalid(name, len(value), f"{name} in body should have at least {min_items} items")
        )
    if max_items is not None and len(value) > max_items:
        noun = "item" if max_items == 1 else "items"
        problems.append((name, f"Too many: {len(value)}: must have at most {max_items} {noun}"))
    return problems


def _child(name: str, key: str) -> str:
    return f"{name}.{key}" if name else key


def _validate_object(value: Mapping[str, Any], schema: Schema, name: str) -> list[FieldProblem]:
    # objectValidator: minProperties, maxProperties, additionalProperties, properties, required.
    problems: list[FieldProblem] = []
    max_properties = schema.get("maxProperties")
    if max_properties is not None and len(value) > max_properties:
        noun = "item" if max_properties == 1 else "items"
        problems.append(
            (name, f"Too many: {len(value)}: must have at most {max_properties} {noun}")
        )
    properties = _properties(schema)
    extra = _additional(schema)
    if extra is not None:
        for key, item in value.items():
            if key not in properties:
                problems += validate_schema(item, extra, f"{name}.{key}")
    for key, sub in properties.items():
        if key in value:
            problems += validate_schema(value[key], sub, _child(name, key))
    for key in schema.get("required") or ():
        if key not in value:
            # Required(o.Path+"."+k): the apiserver trims the leading "." of a root field.
            problems.append((f"{name}.{key}".removeprefix("."), "Required value"))
    return problems


# --- x-kubernetes-list-type (schema/listtype) -------------------------------------------


def _path_child(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def validate_list_types(value: Any, schema: Schema, path: str = "") -> list[FieldProblem]:
    """`ValidateListSetsAndMaps`: no duplicate in a `set`, no duplicate key in a `map` list."""
    problems: list[FieldProblem] = []
    if isinstance(value, Mapping):
        properties = _properties(schema)
        extra = _additional(schema)
        for key, item in value.items():
            if key in properties:
                problems += validate_list_types(item, properties[key], _path_child(path, key))
            elif extra is not None:
                problems += validate_list_types(item, extra, f"{path}[{key}]")
    elif isinstance(value, list | tuple):
        list_type = schema.get("x-kubernetes-list-type")
        if list_type == "set":
            problems += [
                (f"{path}[{i}]", f"Duplicate value: {go_value(value[i])}")
                for i in _second_occurrences([_hashable(item) for item in value])
            ]
        elif list_type == "map":
            problems += _validate_list_map(value, schema, path)
        items = _items(schema)
        if items is not None:
            for index, item in enumerate(value):
                problems += validate_list_types(item, items, f"{path}[{index}]")
    return problems


def _hashable(value: Any) -> Any:
    if isinstance(value, Mapping | list | tuple):
        return ("json", json.dumps(value, sort_keys=True, separators=(",", ":")))
    if isinstance(value, bool):
        return ("bool", value)
    return value


def _second_occurrences(keys: list[Any]) -> list[int]:
    # validateListSet: the index of each value's second occurrence (not of later ones).
    seen: dict[Any, int] = {}
    found = []
    for index, key in enumerate(keys):
        times = seen.get(key, 0)
        if times == 1:
            found.append(index)
        seen[key] = times + 1
    return found


_MISSING = ("missing",)


def _validate_list_map(
    value: list[Any] | tuple[Any, ...], schema: Schema, path: str
) -> list[FieldProblem]:
    for index, item in enumerate(value):
        if item is not None and not isinstance(item, Mapping):
            return [
                _invalid(
                    f"{path}[{index}]", item, "must be an object for an array of list-type map"
                )
            ]
    if len(value) <= 1:
        return []
    key_fields: list[str] = list(schema.get("x-kubernetes-list-map-keys") or ())
    keys: list[Any] = []
    shown: list[dict[str, Any]] = []
    for item in value:
        present = {k: item[k] for k in key_fields if isinstance(item, Mapping) and k in item}
        shown.append(present)
        keys.append(tuple(_hashable(present.get(k, _MISSING)) for k in key_fields))
    return [
        (f"{path}[{i}]", f"Duplicate value: {go_value(shown[i])}")
        for i in _second_occurrences(keys)
    ]


# --- x-kubernetes-validations: the walk ------------------------------------------------


class RuleError(Exception):
    """A rule that cannot be evaluated on this value (CEL: "no such key", a bad duration...)."""


#: A rule's Python form: `self` (the JSON value at the rule's node) -> whether it holds.
RuleCheck = Callable[[Any], bool]


def walk_rules(
    value: Any, schema: Schema, path: str = ""
) -> Iterator[tuple[str, Any, Schema, Mapping[str, str]]]:
    """Yield `(field path, value, schema, rule)` for every rule of every node, in CEL's walk.

    The path is a `field.Path` as the CEL validator builds it: `spec.rules[0]`, and a map
    entry as `labels[key]`. A `null` value has no rules checked.
    """
    if value is None:
        return
    for rule in schema.get("x-kubernetes-validations") or ():
        yield path, value, schema, rule
    if isinstance(value, Mapping):
        properties = _properties(schema)
        extra = _additional(schema)
        if extra is not None:
            for key, item in value.items():
                yield from walk_rules(item, extra, f"{path}[{key}]")
        for key, sub in properties.items():
            if key in value:
                yield from walk_rules(value[key], sub, _path_child(path, key))
    elif isinstance(value, list | tuple):
        items = _items(schema)
        if items is not None:
            for index, item in enumerate(value):
                yield from walk_rules(item, items, f"{path}[{index}]")


def has_rules(schema: Schema) -> bool:
    """Whether any node has `x-kubernetes-validations` (`hasXValidations`).

    Without any, the apiserver builds no CEL validator, and reports no "rules were not
    checked" error either.
    """
    if schema.get("x-kubernetes-validations"):
        return True
    subs = [*_properties(schema).values(), _items(schema), _additional(schema)]
    return any(sub is not None and has_rules(sub) for sub in subs)


@functools.cache
def crd_has_rules(kind: str) -> bool:
    """`has_rules` of a kind's CRD schema."""
    return has_rules(crd_schema(kind))


def is_blocking(reason: str) -> bool:
    """Whether an error stops the CEL rules (`hasBlockingErr`), from its `ErrorBody`.

    TypeInvalid reads "Invalid value" like Invalid; schema type errors are told by their
    kube-openapi wording ("... in body must be of type ...").
    """
    return reason.startswith(BLOCKING_PREFIXES) or " in body must be of type " in reason


def check_rules(
    value: Any,
    schema: Schema,
    rules: Mapping[str, RuleCheck],
    skip: frozenset[str] = frozenset(),
) -> list[FieldProblem]:
    """Evaluate the `x-kubernetes-validations` of every node, as the CEL validator reports them.

    A rule that fails: `field.Invalid(path, value, message)`, where the value of an object or
    an array is omitted ("Invalid value: <message>") and a scalar is shown. A rule that cannot
    be evaluated: `field.Invalid(path, <schema type>, "<error> evaluating rule: <message>")`.

    Args:
        value: the defaulted object.
        schema: its schema.
        rules: the Python form of each rule, by its CEL text.
        skip: rules not evaluated (transition rules, on create); a rule neither here nor in
            `rules` raises LookupError, so that no rule is silently ignored.
    """
    problems: list[FieldProblem] = []
    for path, node, node_schema, rule in walk_rules(value, schema):
        text = rule["rule"]
        if text in skip:
            continue
        check = rules.get(text)
        if check is None:
            raise LookupError(f"no implementation of the CEL rule at {path}: {text}")
        message = (rule.get("message") or "").strip() or f"failed rule: {text.strip()}"
        node_type = str(node_schema.get("type", ""))
        try:
            holds = check(node)
        except (RuleError, KeyError) as error:
            detail = f"no such key: {error.args[0]}" if isinstance(error, KeyError) else str(error)
            problems.append(
                (path, f"Invalid value: {go_quote(node_type)}: {detail} evaluating rule: {message}")
            )
            continue
        if not holds:
            if node_type in ("object", "array"):
                problems.append((path, f"Invalid value: {message}"))
            else:
                problems.append(_invalid(path, node, message))
    return problems
