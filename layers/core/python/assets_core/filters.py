"""Validation of client-sent MongoDB-style filters and update documents.

Only the contract's operators pass; everything else is refused with a message naming it. The
checks keep every filter inside what both MongoDB and Amazon DocumentDB support, and keep
regular expressions from running away (size, syntax and shape checks here; a time limit where
the query runs).
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from assets_core.errors import InvalidFilter
from assets_core.storable import check_query_values

# The regex parser is private in Python 3.11+ (``re._parser``), and stable across 3.11-3.13.
sre_parse: Any = importlib.import_module("re._parser")
sre_constants: Any = importlib.import_module("re._constants")

QUERY_OPERATORS = frozenset(
    {
        "$eq",
        "$ne",
        "$gt",
        "$gte",
        "$lt",
        "$lte",
        "$in",
        "$nin",
        "$and",
        "$or",
        "$nor",
        "$not",
        "$exists",
        "$all",
        "$elemMatch",
        "$size",
        "$regex",
        "$options",
    }
)
UPDATE_OPERATORS = frozenset(
    {"$set", "$unset", "$inc", "$push", "$pull", "$addToSet", "$currentDate"}
)
MAX_FILTER_BYTES = 64 * 1024
MAX_DEPTH = 12
MAX_REGEX_LENGTH = 256
REGEX_OPTIONS = frozenset("imsx")
_LOGICAL = frozenset({"$and", "$or", "$nor"})
_LISTS = frozenset({"$in", "$nin", "$all"})
_UNBOUNDED_REPEAT = sre_constants.MAXREPEAT
_REPEATS = frozenset({"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"})


def validate_filter(query: Any, *, what: str = "filter") -> dict[str, Any]:
    """Check a query filter against the contract's rules and return it unchanged."""
    if not isinstance(query, dict):
        raise InvalidFilter(f'The {what} must be a JSON object, like {{"asset_version": "v1"}}.')
    size = len(json.dumps(query, separators=(",", ":")).encode())
    if size > MAX_FILTER_BYTES:
        raise InvalidFilter(
            f"The {what} is {size} bytes; at most {MAX_FILTER_BYTES} bytes are allowed."
        )
    _check_document(query, depth=1, what=what)
    check_query_values(query, what)
    return query


def _check_depth(depth: int, what: str) -> None:
    if depth > MAX_DEPTH:
        raise InvalidFilter(f"The {what} is nested deeper than {MAX_DEPTH} levels.")


def _check_document(doc: dict[str, Any], *, depth: int, what: str) -> None:
    """A filter document: field conditions and logical operators."""
    _check_depth(depth, what)
    for key, value in doc.items():
        if not isinstance(key, str) or not key:
            raise InvalidFilter(f"The {what} has an empty field name.")
        if key.startswith("$"):
            _check_top_operator(key, value, depth=depth, what=what)
        else:
            _check_field_name(key, what)
            _check_condition(key, value, depth=depth + 1, what=what)


def _check_field_name(name: str, what: str) -> None:
    if "\x00" in name or name.startswith(".") or name.endswith(".") or ".." in name:
        raise InvalidFilter(f"The {what} has an invalid field name {name!r}.")


def _refuse(operator: str, what: str) -> InvalidFilter:
    allowed = " ".join(sorted(QUERY_OPERATORS))
    return InvalidFilter(
        f"Operator '{operator}' is not allowed in a {what}; allowed operators are: {allowed}.",
        code="OPERATOR_NOT_ALLOWED",
    )


def _check_top_operator(op: str, value: Any, *, depth: int, what: str) -> None:
    if op not in _LOGICAL:
        if op in QUERY_OPERATORS:
            raise InvalidFilter(f"Operator '{op}' must be applied to a field, not to the {what}.")
        raise _refuse(op, what)
    if not isinstance(value, list) or not value:
        raise InvalidFilter(f"'{op}' takes a non-empty list of filter objects.")
    for item in value:
        if not isinstance(item, dict):
            raise InvalidFilter(f"Every element of '{op}' must be a filter object.")
        _check_document(item, depth=depth + 1, what=what)


def _check_condition(field: str, value: Any, *, depth: int, what: str) -> None:
    """The value given for a field: a literal, or an object of operators."""
    _check_depth(depth, what)
    if isinstance(value, dict) and any(isinstance(k, str) and k.startswith("$") for k in value):
        _check_operator_object(field, value, depth=depth, what=what)
    else:
        _check_literal(value, depth=depth, what=what)


def _check_literal(value: Any, *, depth: int, what: str) -> None:
    """A literal may hold nested objects and lists, but no operator keys."""
    _check_depth(depth, what)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.startswith("$"):
                raise _refuse(key, what)
            _check_literal(item, depth=depth + 1, what=what)
    elif isinstance(value, list):
        for item in value:
            _check_literal(item, depth=depth + 1, what=what)


def _check_operator_object(field: str, ops: dict[str, Any], *, depth: int, what: str) -> None:
    for op, arg in ops.items():
        if not isinstance(op, str) or not op.startswith("$"):
            raise InvalidFilter(
                f"Field '{field}' mixes operators and plain keys; use one or the other."
            )
        if op not in QUERY_OPERATORS:
            raise _refuse(op, what)
        if op in _LOGICAL:
            raise InvalidFilter(f"'{op}' belongs at the top of a {what}, not under '{field}'.")
        check = _OPERAND_CHECKS.get(op, _check_literal_operand)
        check(_Operand(field, op, arg, ops), depth, what)


@dataclass(frozen=True)
class _Operand:
    """What an operator is given, with the field and the operators beside it."""

    field: str
    op: str
    arg: Any
    siblings: dict[str, Any]


def _check_list_operand(operand: _Operand, depth: int, what: str) -> None:
    if not isinstance(operand.arg, list):
        raise InvalidFilter(f"'{operand.op}' on '{operand.field}' takes a list.")
    for item in operand.arg:
        _check_literal(item, depth=depth + 1, what=what)


def _check_exists_operand(operand: _Operand, depth: int, what: str) -> None:
    if not isinstance(operand.arg, bool):
        raise InvalidFilter(f"'$exists' on '{operand.field}' takes true or false.")


def _check_size_operand(operand: _Operand, depth: int, what: str) -> None:
    arg = operand.arg
    if isinstance(arg, bool) or not isinstance(arg, int) or arg < 0:
        raise InvalidFilter(f"'$size' on '{operand.field}' takes a non-negative whole number.")


def _check_regex_operand(operand: _Operand, depth: int, what: str) -> None:
    check_regex(operand.arg, operand.siblings.get("$options", ""))


def _check_options_operand(operand: _Operand, depth: int, what: str) -> None:
    if "$regex" not in operand.siblings:
        raise InvalidFilter(f"'$options' on '{operand.field}' needs a '$regex' beside it.")


def _check_not_operand(operand: _Operand, depth: int, what: str) -> None:
    if not isinstance(operand.arg, dict) or not operand.arg:
        raise InvalidFilter(f"'$not' on '{operand.field}' takes an object of operators.")
    _check_operator_object(operand.field, operand.arg, depth=depth + 1, what=what)


def _check_elem_match_operand(operand: _Operand, depth: int, what: str) -> None:
    if not isinstance(operand.arg, dict):
        raise InvalidFilter(f"'$elemMatch' on '{operand.field}' takes an object.")
    _check_elem_match(operand.field, operand.arg, depth=depth + 1, what=what)


def _check_literal_operand(operand: _Operand, depth: int, what: str) -> None:
    _check_literal(operand.arg, depth=depth + 1, what=what)


# How each operator's argument is checked; any other operator takes a literal.
_OPERAND_CHECKS: dict[str, Callable[[_Operand, int, str], None]] = {
    **dict.fromkeys(_LISTS, _check_list_operand),
    "$exists": _check_exists_operand,
    "$size": _check_size_operand,
    "$regex": _check_regex_operand,
    "$options": _check_options_operand,
    "$not": _check_not_operand,
    "$elemMatch": _check_elem_match_operand,
}


def _check_elem_match(field: str, arg: dict[str, Any], *, depth: int, what: str) -> None:
    """``$elemMatch`` takes either operators on the element or a filter on its fields."""
    if (
        arg
        and all(isinstance(k, str) and k.startswith("$") for k in arg)
        and not (set(arg) & _LOGICAL)
    ):
        _check_operator_object(field, arg, depth=depth, what=what)
    else:
        _check_document(arg, depth=depth, what=what)


def check_regex(pattern: Any, options: Any = "") -> None:
    """Refuse regular expressions that are too long, do not compile, or can backtrack without
    bound (a repeated group that itself repeats or alternates, or a backreference)."""
    if not isinstance(pattern, str):
        raise InvalidFilter("'$regex' takes a string.")
    if not isinstance(options, str) or set(options) - REGEX_OPTIONS:
        raise InvalidFilter("'$options' takes a string of the letters i, m, s and x.")
    if len(pattern) > MAX_REGEX_LENGTH:
        raise InvalidFilter(
            f"The regular expression is {len(pattern)} characters; "
            f"at most {MAX_REGEX_LENGTH} are allowed."
        )
    flags = 0
    for letter in options:
        flags |= getattr(re, letter.upper())
    try:
        parsed = sre_parse.parse(pattern, flags)
    except (re.error, RecursionError, OverflowError) as exc:
        raise InvalidFilter(f"The regular expression {pattern!r} does not compile: {exc}.") from exc
    problem = _backtracking_risk(parsed.data if hasattr(parsed, "data") else list(parsed), False)
    if problem:
        raise InvalidFilter(
            f"The regular expression {pattern!r} is refused: {problem}. "
            "Rewrite it without nested or alternating repetition.",
            code="REGEX_NOT_ALLOWED",
        )


def _backtracking_risk(items: Iterable[tuple[Any, Any]], in_repeat: bool) -> str | None:
    """Why a parsed pattern (or part of one) can backtrack without bound, or None."""
    for op, av in items:
        found = _node_risk(str(op), av, in_repeat)
        if found:
            return found
    return None


def _node_risk(name: str, av: Any, in_repeat: bool) -> str | None:
    if name in _REPEATS:
        _low, high, body = av
        repeats = high == _UNBOUNDED_REPEAT or high > 1
        if in_repeat and repeats:
            return "it repeats a group that already repeats"
        return _backtracking_risk(body, in_repeat or repeats)
    if name == "BRANCH":
        if in_repeat:
            return "it repeats an alternation"
        return next(filter(None, (_backtracking_risk(b, in_repeat) for b in av[1])), None)
    if name in ("GROUPREF", "GROUPREF_EXISTS"):
        return "it uses a backreference"
    if name == "SUBPATTERN":
        return _backtracking_risk(av[-1], in_repeat)
    if name in ("ASSERT", "ASSERT_NOT"):
        return _backtracking_risk(av[1], in_repeat)
    return None


def validate_update(update: Any, *, protected: Iterable[str]) -> dict[str, Any]:
    """Check an update document: only the contract's update operators, none touching a
    protected (identity or system) field."""
    if not isinstance(update, dict) or not update:
        raise InvalidFilter("The update must be a non-empty JSON object of update operators.")
    protected_fields = tuple(protected)
    for op, fields in update.items():
        if op not in UPDATE_OPERATORS:
            allowed = " ".join(sorted(UPDATE_OPERATORS))
            raise InvalidFilter(
                f"Update operator '{op}' is not allowed; allowed operators are: {allowed}.",
                code="OPERATOR_NOT_ALLOWED",
            )
        if not isinstance(fields, dict) or not fields:
            raise InvalidFilter(f"'{op}' takes a non-empty object of field names.")
        for field, value in fields.items():
            if not isinstance(field, str) or not field or field.startswith("$"):
                raise InvalidFilter(f"'{op}' has an invalid field name {field!r}.")
            _check_field_name(field, "update")
            root = field.split(".", 1)[0]
            if root in protected_fields or field in protected_fields:
                raise InvalidFilter(
                    f"Field '{field}' cannot be changed by an update.", code="FIELD_READ_ONLY"
                )
            _check_literal(value, depth=2, what="update")
    return update
