"""PERF: direct constructors for frozen attrs classes built by the thousand.

A table of 10,000 Ingress paths makes some 60,000 frozen attrs objects (the IR rules and
their parts, the `RouteMatch` of each route). attrs' frozen `__init__` sets each field
through `object.__setattr__` (the class's own `__setattr__` refuses), some 700 machine
instructions a field, most of a table build. `direct_constructor(cls)` makes a function
that takes every field positionally and builds the object as an instance of a private
subclass that adds no slot and keeps the ordinary `__setattr__` (so each field is one
specialised slot store), then gives the object its real class (`__class__` assignment,
which CPython allows between classes of the same layout). A Rule costs ~3,400
instructions this way instead of ~9,700, and the object is an ordinary instance of `cls`,
equal to the one `cls(...)` makes (tests/test_build_fast_paths.py compares them under
Hypothesis); it stays frozen.

It skips only what these classes do not have: converters, validators,
`__attrs_post_init__` and a cached hash (`direct_constructor` refuses a class that has
any), and the defaults (every field is given).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any, TypeVar

import attrs

__all__ = ["direct_constructor"]

T = TypeVar("T")


def direct_constructor(cls: type[T]) -> Callable[..., T]:
    """A function `new(field0, field1, ...)` that makes a `cls` with those field values.

    Args:
        cls: a slotted attrs class (`@attrs.frozen`) whose fields have no converter, no
            validator, and which has no `__attrs_post_init__` nor cached hash.

    Raises:
        TypeError: `cls` is not such a class.
    """
    fields = attrs.fields(cls)  # type: ignore[arg-type]  # raises TypeError for other classes
    if getattr(cls, "__attrs_post_init__", None) is not None:
        raise TypeError(f"{cls.__name__} has __attrs_post_init__")
    if "_attrs_cached_hash" in getattr(cls, "__slots__", ()):
        raise TypeError(f"{cls.__name__} caches its hash")
    for field in fields:
        if field.converter is not None or field.validator is not None:
            raise TypeError(f"{cls.__name__}.{field.name} has a converter or validator")
        if not isinstance(getattr(cls, field.name, None), types.MemberDescriptorType):
            raise TypeError(f"{cls.__name__}.{field.name} is not a slot")
    # The builder: the same layout (no slot of its own), plain attribute setting. Both
    # methods are object's, so that CPython gives it the generic C setter (it would call
    # a Python-level one if either stayed cls's); object's `__init__` too, so that
    # `_builder()` is a C-level call (cheaper than `object.__new__(_builder)`).
    builder = type(
        f"_{cls.__name__}Builder",
        (cls,),
        {
            "__slots__": (),
            "__init__": object.__init__,
            "__setattr__": object.__setattr__,
            "__delattr__": object.__delattr__,
            "__module__": cls.__module__,
        },
    )
    arguments = ", ".join(f"v{index}" for index in range(len(fields)))
    lines = [f"def new({arguments}):", "    self = _builder()"]
    lines += [f"    self.{field.name} = v{index}" for index, field in enumerate(fields)]
    lines += ["    self.__class__ = _cls", "    return self"]
    namespace: dict[str, Any] = {"_builder": builder, "_cls": cls}
    # Generated from the class's own field names, as attrs generates its __init__.
    exec(
        compile("\n".join(lines), f"<direct constructor of {cls.__qualname__}>", "exec"), namespace
    )
    new: Callable[..., T] = namespace["new"]
    new.__qualname__ = f"direct_constructor({cls.__qualname__})"
    new(*[None] * len(fields))  # raises TypeError now, not later, if CPython refuses the layout
    return new
