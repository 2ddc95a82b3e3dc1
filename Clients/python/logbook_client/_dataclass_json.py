"""Dataclasses as event data: to JSON for an append, and back from a recorded event.

What goes out is what `json.dumps` writes, with dataclasses as objects of their fields and
a few common values as text: `uuid.UUID` (its canonical form), `datetime`/`date`/`time`
(ISO 8601), `Decimal` (its digits, exactly), `Enum` (its value), sets (lists). Coming
back, the field types say how to read each value (nested dataclasses, `list[...]`,
`tuple[...]`, `dict[str, ...]`, `X | None`, the values above). Keys the dataclass does not
know are ignored, so an older reader takes a newer event; a missing field without a default,
or a value of the wrong type, is a `ValueError` naming where it is.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import decimal
import enum
import json
import types
import typing
import uuid
from typing import Any, Callable, TypeVar

__all__ = ["decode", "encode", "is_dataclass_instance"]

T = TypeVar("T")


def is_dataclass_instance(value: object) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def encode(value: Any) -> bytes:
    """`value` (a dataclass, or anything `json.dumps` takes) as compact UTF-8 JSON."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=_plain).encode()


def _plain(value: Any) -> Any:
    if is_dataclass_instance(value):
        return {field.name: getattr(value, field.name) for field in dataclasses.fields(value)}
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=repr)
    raise TypeError(f"{type(value).__name__} is not JSON: give a dataclass, or values json.dumps takes")


def decode(cls: type[T], value: Any) -> T:
    """`value` (parsed JSON) as an instance of `cls`."""
    return typing.cast(T, _read(cls, value, cls.__name__))


def _read(tp: Any, value: Any, where: str) -> Any:
    if tp is Any or tp is object:
        return value
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is typing.Union or origin is types.UnionType:
        if value is None and type(None) in args:
            return None
        errors = []
        for option in args:
            if option is type(None):
                continue
            try:
                return _read(option, value, where)
            except ValueError as error:
                errors.append(str(error))
        raise ValueError("; ".join(errors) or f"{where}: no type fits {value!r}")
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _read_dataclass(tp, value, where)
    if origin in (list, tuple, set, frozenset) or tp in (list, tuple, set, frozenset):
        _expect(isinstance(value, list), where, "a list", value)
        container = origin or tp
        if container is tuple and args and args[-1] is not Ellipsis:
            _expect(len(args) == len(value), where, f"{len(args)} items", value)
            return tuple(_read(a, v, f"{where}[{i}]") for i, (a, v) in enumerate(zip(args, value)))
        item = args[0] if args else Any
        return container(_read(item, v, f"{where}[{i}]") for i, v in enumerate(value))
    if origin is dict or tp is dict:
        _expect(isinstance(value, dict), where, "an object", value)
        item = args[1] if len(args) == 2 else Any
        return {k: _read(item, v, f"{where}[{k!r}]") for k, v in value.items()}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        try:
            return tp(value)
        except ValueError:
            raise ValueError(f"{where}: {value!r} is not a {tp.__name__}") from None
    readers: dict[Any, Callable[[Any], Any]] = {
        uuid.UUID: uuid.UUID,
        dt.datetime: dt.datetime.fromisoformat,
        dt.date: dt.date.fromisoformat,
        dt.time: dt.time.fromisoformat,
        decimal.Decimal: decimal.Decimal,
    }
    if tp in readers:
        _expect(isinstance(value, (str, int, float)) and not isinstance(value, bool), where, "text", value)
        try:
            return readers[tp](value if tp is decimal.Decimal else str(value))
        except (ValueError, decimal.InvalidOperation):
            raise ValueError(f"{where}: {value!r} is not a {tp.__name__}") from None
    if tp is float:
        _expect(isinstance(value, (int, float)) and not isinstance(value, bool), where, "a number", value)
        return float(value)
    if tp in (int, str, bool):
        _expect(isinstance(value, tp) and (tp is bool or not isinstance(value, bool)), where, f"{tp.__name__}", value)
        return value
    raise ValueError(f"{where}: cannot read a {tp!r}")


def _read_dataclass(cls: type, value: Any, where: str) -> Any:
    _expect(isinstance(value, dict), where, "an object", value)
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for field in dataclasses.fields(cls):
        if not field.init:
            continue
        if field.name in value:
            kwargs[field.name] = _read(hints.get(field.name, Any), value[field.name], f"{where}.{field.name}")
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise ValueError(f"{where}.{field.name} is missing")
    return cls(**kwargs)


def _expect(ok: bool, where: str, wanted: str, value: Any) -> None:
    if not ok:
        raise ValueError(f"{where}: expected {wanted}, got {value!r}")
