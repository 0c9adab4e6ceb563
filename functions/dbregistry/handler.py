"""Assets DB registry (spec 001): the directory of Assets DBs and their health."""

from assets_core.api import dbregistry
from assets_core.api.http import ApiDocs, build_resolver, lambda_entry
from assets_core.routes import DBREGISTRY

app = build_resolver(
    DBREGISTRY, dbregistry.router, docs=ApiDocs("Assets DB registry", (dbregistry.router,))
)
handler = lambda_entry(app)
