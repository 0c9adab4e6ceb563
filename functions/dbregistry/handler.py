"""Assets DB registry (spec 001): the directory of Assets DBs and their health."""

from assets_core.api.dbregistry import DBREGISTRY_REST, register_dbregistry
from assets_core.api.http import build_resolver, lambda_entry, register_service_routes
from assets_core.routes import DBREGISTRY

app = build_resolver()
register_dbregistry(app)
register_service_routes(
    app, prefix=DBREGISTRY, title="Assets DB registry", registrars=DBREGISTRY_REST
)
handler = lambda_entry(app)
