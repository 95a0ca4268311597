"""A generic JSON codec for the frozen dataclasses of `twinbench.results.model`. Pure.

Enums are stored by value and tuples as lists; reading back follows the type hints, and
ignores unknown keys so older twinbench versions can read newer files' known fields.
"""

from __future__ import annotations

import dataclasses
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any


def to_json(obj: Any) -> Any:
    """A dataclass tree → JSON-ready values (enums by value, tuples as lists)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        return {f.name: to_json(getattr(obj, f.name)) for f in dataclasses.fields(obj)}
    if isinstance(obj, enum.Enum):
        return obj.value
    if isinstance(obj, Mapping):
        return {str(k): to_json(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [to_json(v) for v in obj]
    return obj


def from_json(cls: type[Any], data: Any) -> Any:
    """The inverse of to_json for the classes above; unknown keys are ignored (forward-compat)."""
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name in data:
            kwargs[f.name] = _decode(hints[f.name], data[f.name])
    return cls(**kwargs)


def _decode(tp: Any, value: Any) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None:
            return None
        inner = [a for a in args if a is not type(None)]
        return _decode(inner[0], value)
    if origin is tuple:
        return tuple(_decode(args[0], v) for v in value)
    if origin in (Mapping, dict) or tp is Mapping:
        return {k: _decode(args[1], v) for k, v in value.items()} if args else dict(value)
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return tp(value)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return from_json(tp, value)
    if tp is float and isinstance(value, int):
        return float(value)
    return value
