"""GraphQL endpoints as API routes: GraphiQL on GET (HTML), queries on GET and POST."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import Router

from assets_core import docs_ui
from assets_core.api.access import allowed
from assets_core.api.multipart import raw_body
from assets_core.config import get_settings
from assets_core.identity import current_caller

if TYPE_CHECKING:
    from graphql import GraphQLSchema

GET_HINT = " A query with a token goes by POST (GET serves the GraphiQL page to anyone)."
# A schema and the cost of each of its fields, as the GraphQL route needs them.
SchemaLoader = Callable[[], tuple["GraphQLSchema", dict[str, dict[str, Any]] | None]]


def graphql_router(prefix: str, path: str, load: SchemaLoader) -> Router:
    """A read-only schema at ``path`` under ``prefix``. ``load`` is called on the route's first
    request, so a function whose other routes are REST does not import the GraphQL stack
    (ariadne, graphql-core: about a third of its cold start) until a GraphQL request arrives."""
    router = Router()

    def answer() -> Response[Any]:
        from assets_core.graphql.common import execute

        schema, cost_map = load()
        event = router.current_event
        settings = get_settings()
        params = dict(event.query_string_parameters or {})
        accept = event.headers.get("accept", "")
        if event.http_method == "GET" and not docs_ui.wants_graphiql("GET", accept, params):
            # The GET route is public for the page a browser opens; a query on it runs for
            # an anonymous caller (the authorizer checks tokens on POST only).
            allowed(current_caller(), writes=False, settings=settings, hint=GET_HINT)
        status, content_type, body = execute(
            schema,
            event.http_method,
            # The bytes as sent: ``execute`` checks they are UTF-8 JSON of bounded depth.
            raw_body(event.raw_event) if event.body else None,
            params,
            accept,
            max_depth=settings.graphql_max_depth,
            max_cost=settings.graphql_max_cost,
            max_root_fields=settings.graphql_max_root_fields,
            cost_map=cost_map,
            page=graphiql_page(),
        )
        headers = dict(docs_ui.PAGE_HEADERS) if content_type.startswith("text/html") else {}
        return Response(status_code=status, content_type=content_type, body=body, headers=headers)

    def graphiql_page() -> str:
        return docs_ui.graphiql_page("GraphiQL", prefix + path, f"{prefix}/docs")

    summary = "GraphiQL (Accept: text/html) or a query in ?query="
    router.get(path, summary=summary, tags=["graphql"])(answer)
    router.post(path, summary="Run a read-only GraphQL query", tags=["graphql"])(answer)
    return router
