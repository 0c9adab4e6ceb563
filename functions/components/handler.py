"""Component registry (spec 002): REST under /components/api and read-only GraphQL at /gql."""

from typing import Any

from assets_core.api.components import COMPONENTS, COMPONENTS_REST, register_components
from assets_core.api.graphql import register_graphql
from assets_core.api.http import build_resolver, lambda_entry, register_service_routes


def graphql_schema() -> tuple[Any, dict[str, dict[str, Any]]]:
    """Imported on the first /gql request only: the REST routes never need the GraphQL stack."""
    from assets_core.graphql.components import COST_MAP, components_schema

    return components_schema(), COST_MAP


app = build_resolver()
register_components(app)
register_graphql(app, f"{COMPONENTS}/gql", graphql_schema)
register_service_routes(
    app, prefix=COMPONENTS, title="Component registry", registrars=COMPONENTS_REST
)
handler = lambda_entry(app)
