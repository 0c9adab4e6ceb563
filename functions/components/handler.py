"""Component registry (spec 002): REST under /components/api and read-only GraphQL at /gql."""

from typing import Any

from assets_core.api import components
from assets_core.api.graphql import graphql_router
from assets_core.api.http import ApiDocs, build_resolver, lambda_entry
from assets_core.routes import COMPONENTS


def graphql_schema() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Imported on the first /gql request only: the REST routes never need the GraphQL stack."""
    from assets_core.graphql.components import COST_MAP, components_schema

    return components_schema(), COST_MAP


app = build_resolver(
    COMPONENTS,
    components.router,
    graphql_router(COMPONENTS, "/gql", graphql_schema),
    docs=ApiDocs("Component registry", (components.router,)),
)
handler = lambda_entry(app)
