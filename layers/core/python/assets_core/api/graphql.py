"""GraphQL endpoints as API routes: GraphiQL on GET (HTML), queries on GET and POST."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ariadne.types import GraphQLSchema
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.router import Router

from assets_core.config import get_settings
from assets_core.graphql.common import execute


def register_graphql(
    app: APIGatewayHttpResolver | Router,
    path: str,
    schema: Callable[[], GraphQLSchema],
    cost_map: dict[str, dict[str, Any]] | None = None,
) -> None:
    """Serve a read-only schema at ``path``."""

    def answer() -> Response[Any]:
        event = app.current_event
        settings = get_settings()
        status, content_type, body = execute(
            schema(),
            event.http_method,
            event.decoded_body if event.body else None,
            dict(event.query_string_parameters or {}),
            event.headers.get("accept", ""),
            max_depth=settings.graphql_max_depth,
            max_cost=settings.graphql_max_cost,
            cost_map=cost_map,
        )
        return Response(status_code=status, content_type=content_type, body=body)

    app.get(path, summary="GraphiQL (Accept: text/html) or a query in ?query=", tags=["graphql"])(
        answer
    )
    app.post(path, summary="Run a read-only GraphQL query", tags=["graphql"])(answer)
