"""Turn normalized records into JSON-ready dicts and back, so they can be cached."""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import functools
import types
import typing as t
from collections.abc import Iterable

from connectors.schema import Attendance
from connectors.schema import Event
from connectors.schema import Grade
from connectors.schema import Homework
from connectors.schema import Lesson
from connectors.schema import Message
from connectors.schema import Rating
from connectors.schema import Section

RECORD_OF: dict[Section, type] = {
    Section.GRADES: Grade,
    Section.ATTENDANCE: Attendance,
    Section.HOMEWORK: Homework,
    Section.SCHEDULE: Lesson,
    Section.EVENTS: Event,
    Section.MESSAGES: Message,
    Section.RATING: Rating,
}


def encode(records: Iterable[t.Any]) -> list[dict[str, t.Any]]:
    """Encode records as plain JSON-compatible dicts."""
    return [_encode_value(record) for record in records]


def _encode_value(value: t.Any) -> t.Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _encode_value(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, dt.date | dt.time):  # datetime is a date too
        return value.isoformat()
    if isinstance(value, tuple | list):
        return [_encode_value(item) for item in value]
    return value


def decode(section: Section, payload: Iterable[dict[str, t.Any]]) -> list[t.Any]:
    """Decode what :func:`encode` produced for a section back into its records."""
    cls = RECORD_OF[section]
    return [_decode_record(cls, item) for item in payload]


@functools.cache
def _hints(cls: type) -> dict[str, t.Any]:
    return t.get_type_hints(cls)


def _decode_record(cls: type, raw: dict[str, t.Any]) -> t.Any:
    hints = _hints(cls)
    return cls(**{name: _decode_value(hints[name], value) for name, value in raw.items()})


def _decode_value(hint: t.Any, value: t.Any) -> t.Any:
    if value is None:
        return None
    origin = t.get_origin(hint)
    if origin in (t.Union, types.UnionType):
        inner = [arg for arg in t.get_args(hint) if arg is not type(None)]
        return _decode_value(inner[0], value)
    if origin is tuple:
        return tuple(_decode_value(t.get_args(hint)[0], item) for item in value)
    if isinstance(hint, type):
        if dataclasses.is_dataclass(hint):
            return _decode_record(hint, value)
        if issubclass(hint, enum.Enum):
            return hint(value)
        if hint is dt.datetime:
            return dt.datetime.fromisoformat(value)
        if hint is dt.date:
            return dt.date.fromisoformat(value)
        if hint is dt.time:
            return dt.time.fromisoformat(value)
    return value
