"""Component registry (spec 002): REST under /components/api and read-only GraphQL at /gql."""

from assets_core.api.components import COMPONENTS, COMPONENTS_REST, register_components
from assets_core.api.graphql import register_graphql
from assets_core.api.http import build_resolver, lambda_entry, register_service_routes
from assets_core.graphql.components import COST_MAP, components_schema

app = build_resolver()
register_components(app)
register_graphql(app, f"{COMPONENTS}/gql", components_schema, COST_MAP)
register_service_routes(
    app, prefix=COMPONENTS, title="Component registry", registrars=COMPONENTS_REST
)
handler = lambda_entry(app)
