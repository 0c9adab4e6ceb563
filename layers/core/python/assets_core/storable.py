"""What MongoDB and Amazon DocumentDB can store, checked before anything is written.

A document the database would refuse (an integer beyond 64 bits, a key with a NUL or a
leading ``$``, a string that is not Unicode text, nesting past BSON's limit) is refused here
with a message naming the field, so that a write fails before it starts instead of in the
driver halfway through (where it answered 500, and on the emulator lost the record).
The walk is iterative: a document nested a thousand levels deep is refused, not a
``RecursionError``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from assets_core.errors import InvalidFilter, InvalidInput

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
# MongoDB refuses documents nested deeper than 100 levels (its "Nested Depth for BSON
# Documents" limit); the document itself is the first level.
MAX_DEPTH = 100


class NotStorable(InvalidInput):
    code = "INVALID_INPUT"


MAX_NAMED_PATH = 120


def _name(path: str) -> str:
    if len(path) > MAX_NAMED_PATH:
        path = path[:MAX_NAMED_PATH] + "..."
    return f"'{path}'" if path else "the document"


def _check_key(key: Any, path: str, *, dotted_paths: bool) -> str:
    if not isinstance(key, str):
        raise NotStorable(f"{_name(path)}: keys must be strings")
    where = f"{path}.{key}" if path else key
    if "\x00" in key:
        raise NotStorable(f"'{where.replace(chr(0), '\\0')}': a key may not hold a NUL character")
    segments = key.split(".") if dotted_paths else [key]
    if any(segment.startswith("$") for segment in segments):
        raise NotStorable(f"'{where}': a key may not start with '$'")
    if "." in key and not dotted_paths:
        raise NotStorable(f"'{where}': a key may not hold '.'")
    if "" in segments:
        raise NotStorable(f"'{where}': a key may not be empty")
    _check_text(key, where)
    return where


def _check_text(text: str, path: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise NotStorable(f"{_name(path)}: not valid Unicode text ({exc.reason})") from exc


# A value to check: where it is, how deep, and whether its keys may be dotted paths.
_Stored = tuple[Any, str, int, bool]


def check_storable(
    document: Mapping[str, Any], *, top_level_paths: bool = False, base: str = ""
) -> None:
    """Raise ``NotStorable`` naming the first field the database could not store.

    ``top_level_paths`` lets the document's own keys be dotted paths (the fields of an update
    operator such as ``$set``); keys below them are checked as stored keys."""
    stack: list[_Stored] = [(document, base, 1, top_level_paths)]
    while stack:
        value, path, depth, dotted = stack.pop()
        if isinstance(value, Mapping | list | tuple):
            if depth > MAX_DEPTH:
                raise NotStorable(f"{_name(path)}: nested deeper than {MAX_DEPTH} levels")
            stack.extend(_members(value, path, depth, dotted))
        else:
            _check_scalar(value, path)


def _members(
    value: Mapping[Any, Any] | list[Any] | tuple[Any, ...], path: str, depth: int, dotted: bool
) -> list[_Stored]:
    """An object's or a list's members, each with its path; an object's keys are checked."""
    if isinstance(value, Mapping):
        return [
            (item, _check_key(key, path, dotted_paths=dotted), depth + 1, False)
            for key, item in value.items()
        ]
    return [
        (item, f"{path}.{index}" if path else str(index), depth + 1, False)
        for index, item in enumerate(value)
    ]


def _check_scalar(value: Any, path: str) -> None:
    if isinstance(value, int) and not isinstance(value, bool):
        if not INT64_MIN <= value <= INT64_MAX:
            raise NotStorable(f"{_name(path)}: integers must fit in 64 bits")
    elif isinstance(value, str):
        _check_text(value, path)


def check_query_values(query: Any, what: str = "filter") -> None:
    """Every value in a query the driver can encode: integers within 64 bits, Unicode text
    (a filter's keys are operators and paths, checked by the filter's own rules)."""
    stack: list[Any] = [query]
    while stack:
        value = stack.pop()
        if isinstance(value, Mapping):
            for key in value:
                if isinstance(key, str) and "\x00" in key:
                    raise InvalidFilter(f"The {what} has a key holding a NUL character.")
                if isinstance(key, str):
                    _check_text(key, what)
            stack.extend(value.values())
        elif isinstance(value, list | tuple):
            stack.extend(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            if not INT64_MIN <= value <= INT64_MAX:
                raise InvalidFilter(f"The {what} holds an integer beyond 64 bits.")
        elif isinstance(value, str):
            _check_text(value, what)


def check_update_storable(update: Mapping[str, Any]) -> None:
    """The values an update document writes (``{"$set": {"a.b": value}}``) are storable."""
    for operator, fields in update.items():
        if isinstance(fields, Mapping):
            check_storable(fields, top_level_paths=True)
        elif operator.startswith("$"):
            continue
        else:  # a replacement document
            check_storable({operator: fields})
