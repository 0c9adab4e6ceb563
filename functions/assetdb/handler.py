"""Assets DB (spec 001): files with metadata, found by URI or query."""

from assets_core.api.assetdb import ASSETDB_REST, register_assetdb, too_large
from assets_core.api.http import build_resolver, lambda_entry, register_service_routes
from assets_core.config import get_settings
from assets_core.routes import ASSETDB

app = build_resolver()
register_assetdb(app)
register_service_routes(app, prefix=ASSETDB, title="Assets DB", registrars=ASSETDB_REST)
handler = lambda_entry(
    app,
    # The form carries the file in the request; its framing and metadata add a little.
    max_body_bytes=get_settings().assetdb_direct_max_bytes + 64 * 1024,
    multipart_paths=[f"{ASSETDB}/upload_asset"],
    too_large_message=too_large().message,
)
