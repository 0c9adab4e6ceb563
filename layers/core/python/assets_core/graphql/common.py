"""What every read-only GraphQL endpoint shares: the ``GenericScalar``, depth and cost limits,
GraphiQL, and turning a request into the contract's answers."""

from __future__ import annotations

import logging
import re
from http import HTTPStatus
from itertools import accumulate
from typing import Any

from ariadne import ScalarType, graphql_sync
from ariadne.types import GraphQLSchema
from ariadne.validation import cost_validator
from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    value_from_ast_untyped,
)

from assets_core.api.http import loads_json
from assets_core.docs_ui import wants_graphiql
from assets_core.errors import AppError, InvalidInput

logger = logging.getLogger(__name__)
# Ariadne logs every error with its traceback, client mistakes included; unexpected errors are
# logged by the error formatter below instead.
_ariadne_logger = logging.getLogger(__name__ + ".ariadne")
_ariadne_logger.addHandler(logging.NullHandler())
_ariadne_logger.propagate = False

generic_scalar = ScalarType("GenericScalar")


@generic_scalar.serializer
def _serialize_generic(value: Any) -> Any:
    return value


@generic_scalar.value_parser
def _parse_generic_value(value: Any) -> Any:
    return value


@generic_scalar.literal_parser
def _parse_generic_literal(ast: Any, variables: dict[str, Any] | None = None) -> Any:
    return value_from_ast_untyped(ast, variables)


GENERIC_SCALAR_SDL = "scalar GenericScalar\n"
# How deeply a query's brackets ({ selections }, ( arguments ), [ lists ], { objects }) may
# nest, checked on the text before graphql-core's recursive parser sees it.
MAX_QUERY_NESTING = 64
# What is not syntax: block strings (\""" escapes a delimiter), strings, comments. Each one
# left open runs to the end of the text (or line), so the scan never backtracks.
_NOT_SYNTAX = re.compile(
    r'"""(?:[^"\\]|\\"""|\\(?!""")|"(?!""))*+(?:"""|\Z)'
    r'|"[^"\\\n\r]*+(?:\\[^\n\r][^"\\\n\r]*+)*+"?'
    r"|#[^\n\r]*+"
)
_NOT_BRACKET = re.compile(r"[^{}()\[\]]+")
_BRACKETS_AS_ROUND = str.maketrans("{[}]", "(())")
_BRACKET_STEP = {"(": 1, ")": -1}


def query_too_deep(query: str, limit: int = MAX_QUERY_NESTING) -> bool:
    """Whether a GraphQL document's brackets nest deeper than ``limit``, outside strings and
    comments: one linear scan, without recursion."""
    if sum(map(query.count, "{([")) <= limit:
        return False
    brackets = _NOT_BRACKET.sub("", _NOT_SYNTAX.sub("", query)).translate(_BRACKETS_AS_ROUND)
    if brackets.count("(") <= limit:
        return False
    if "(" * (limit + 1) in brackets:
        return True
    return max(accumulate(map(_BRACKET_STEP.__getitem__, brackets))) > limit


class _FollowsFragments(ASTValidationRule):
    """A rule that walks selections through fragment spreads (each fragment once per path,
    so a spread cycle ends)."""

    def __init__(self, context: ValidationContext) -> None:
        super().__init__(context)
        self.fragments: dict[str, FragmentDefinitionNode] = {}

    def enter_document(self, node: Any, *_: Any) -> None:
        self.fragments = {
            d.name.value: d for d in node.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def spread(
        self, selection: FragmentSpreadNode, seen: frozenset[str]
    ) -> tuple[SelectionSetNode, frozenset[str]] | None:
        """The spread fragment's selections and the fragments seen with it; None for an
        unknown fragment or one already on this path."""
        name = selection.name.value
        fragment = self.fragments.get(name)
        if fragment is None or name in seen:
            return None
        return fragment.selection_set, seen | {name}


class _DepthLimit(_FollowsFragments):
    """Refuses selections nested deeper than ``max_depth`` fields."""

    max_depth = 0

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        depth = self._depth(node.selection_set, 0, frozenset())
        if depth > self.max_depth:
            self.report_error(
                GraphQLError(
                    f"The query is nested {depth} levels deep; "
                    f"at most {self.max_depth} are allowed.",
                    node,
                )
            )

    def _depth(self, selections: SelectionSetNode | None, depth: int, seen: frozenset[str]) -> int:
        if selections is None:
            return depth
        deepest = depth
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value.startswith("__"):
                    continue
                deepest = max(deepest, self._depth(selection.selection_set, depth + 1, seen))
            elif isinstance(selection, InlineFragmentNode):
                deepest = max(deepest, self._depth(selection.selection_set, depth, seen))
            elif isinstance(selection, FragmentSpreadNode):
                spread = self.spread(selection, seen)
                if spread is not None:
                    deepest = max(deepest, self._depth(spread[0], depth, spread[1]))
        return deepest


def depth_limit_rule(max_depth: int) -> type[ASTValidationRule]:
    """A validation rule refusing selections nested deeper than ``max_depth`` fields
    (introspection fields, which GraphiQL needs, are not counted)."""
    return type("DepthLimit", (_DepthLimit,), {"max_depth": max_depth})


class _RootFields(_FollowsFragments):
    """Refuses an operation with more than ``max_fields`` root fields."""

    max_fields = 0

    def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
        count = self._count(node.selection_set, frozenset())
        if count > self.max_fields:
            self.report_error(
                GraphQLError(
                    f"The query asks for {count} root fields (each alias counts); at most "
                    f"{self.max_fields} are allowed per request: send several requests.",
                    node,
                )
            )

    def _count(self, selections: SelectionSetNode | None, seen: frozenset[str]) -> int:
        if selections is None:
            return 0
        total = 0
        for selection in selections.selections:
            if isinstance(selection, FieldNode):
                total += 0 if selection.name.value.startswith("__") else 1
            elif isinstance(selection, InlineFragmentNode):
                total += self._count(selection.selection_set, seen)
            elif isinstance(selection, FragmentSpreadNode):
                spread = self.spread(selection, seen)
                if spread is not None:
                    total += self._count(*spread)
            if total > self.max_fields:  # enough to refuse; stop counting
                break
        return total


def root_fields_rule(max_fields: int) -> type[ASTValidationRule]:
    """A validation rule refusing an operation with more than ``max_fields`` root fields:
    each alias is a field of its own and runs its own database query, so ten thousand
    aliased lookups in one request would cost ten thousand queries. Fragments are expanded
    (a fragment spread twice counts twice); introspection fields are not counted."""
    return type("RootFields", (_RootFields,), {"max_fields": max_fields})


def _unexpected(original: Exception | None) -> bool:
    """An exception a resolver raised that is neither a domain error nor a GraphQL error (which
    graphql-core also reports as the cause of, e.g., an argument of the wrong type)."""
    return original is not None and not isinstance(original, AppError | GraphQLError)


class GraphQLInternalError(AppError):
    status = HTTPStatus.INTERNAL_SERVER_ERROR
    code = "INTERNAL_ERROR"


def _error_code(errors: list[dict[str, Any]], originals: list[Exception | None]) -> AppError:
    for original in originals:
        if isinstance(original, AppError):
            return original
    if any(_unexpected(original) for original in originals):
        return GraphQLInternalError("The query failed unexpectedly; the error was logged.")
    message = errors[0].get("message", "The GraphQL request is invalid.") if errors else ""
    return InvalidInput(str(message), code="GRAPHQL_INVALID")


def _request_data(
    method: str, body: bytes | str | None, query_params: dict[str, str]
) -> dict[str, Any]:
    """The request's ``query`` and ``variables``, from the query string on ``GET`` and the
    JSON body otherwise, checked before graphql-core parses the query."""
    if method == "GET":
        data: Any = dict(query_params)
        if isinstance(data.get("variables"), str):
            data["variables"] = loads_json(data["variables"], "'variables'")
    else:
        data = loads_json(body or "")
    if not isinstance(data, dict) or not isinstance(data.get("query"), str):
        raise InvalidInput(
            'Send a JSON object like {"query": "{ ... }", "variables": {...}}.',
            code="GRAPHQL_INVALID",
        )
    if query_too_deep(data["query"]):
        raise InvalidInput(
            f"The query is nested deeper than {MAX_QUERY_NESTING} levels of brackets "
            "(selections, arguments, lists and objects); flatten it.",
            code="GRAPHQL_INVALID",
        )
    variables = data.get("variables")
    if variables is not None and not isinstance(variables, dict):
        raise InvalidInput("'variables' must be a JSON object.", code="GRAPHQL_INVALID")
    return data


def _formatted(error: GraphQLError) -> dict[str, Any]:
    """An error as the answer's ``errors`` list shows it: a domain error's message and code,
    nothing of an unexpected one (it is logged instead)."""
    if isinstance(error.original_error, AppError):
        return {
            "message": error.original_error.message,
            "path": error.path,
            "extensions": {"code": error.original_error.code},
        }
    if _unexpected(error.original_error):
        logger.error("GraphQL resolver failed", exc_info=error.original_error)
        return {"message": "Internal error.", "path": error.path}
    return dict(error.formatted)


def execute(
    schema: GraphQLSchema,
    method: str,
    body: bytes | str | None,
    query_params: dict[str, str],
    accept: str,
    *,
    max_depth: int,
    max_cost: int,
    max_root_fields: int = 10,
    cost_map: dict[str, dict[str, Any]] | None = None,
    context: dict[str, Any] | None = None,
    page: str = "",
) -> tuple[int, str, Any]:
    """Run one GraphQL request; answers (status, content type, body).

    ``GET`` with ``Accept: text/html`` serves GraphiQL; ``GET ?query=`` and ``POST`` run
    queries. Mutations are refused (the schemas have none). Errors come in the contract's
    shape, with GraphQL's ``errors`` list beside it.
    """
    if wants_graphiql(method, accept, query_params):
        return HTTPStatus.OK, "text/html; charset=utf-8", page
    data = _request_data(method, body, query_params)
    variables = data.get("variables")
    rules = [
        root_fields_rule(max_root_fields),
        depth_limit_rule(max_depth),
        cost_validator(
            maximum_cost=max_cost, default_cost=1, variables=variables, cost_map=cost_map
        ),
    ]
    originals: list[Exception | None] = []

    def format_error(error: GraphQLError, debug: bool = False) -> dict[str, Any]:
        originals.append(error.original_error)
        return _formatted(error)

    _, result = graphql_sync(
        schema,
        data,
        context_value=context or {},
        validation_rules=rules,
        error_formatter=format_error,
        debug=False,
        introspection=True,
        logger=__name__ + ".ariadne",
    )
    errors = result.get("errors") or []
    if not errors:
        return HTTPStatus.OK, "application/json", result
    failure = _error_code(errors, originals)
    body_out = {**failure.body(), "errors": errors, "data": result.get("data")}
    return int(failure.status), "application/json", body_out
