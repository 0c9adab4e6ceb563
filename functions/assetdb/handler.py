"""Assets DB (spec 001): files with metadata, found by URI or query."""

from assets_core.api.assetdb import ASSETDB_REST, register_assetdb
from assets_core.api.http import build_resolver, lambda_entry, register_service_routes
from assets_core.config import get_settings
from assets_core.routes import ASSETDB

app = build_resolver()
register_assetdb(app)
register_service_routes(app, prefix=ASSETDB, title="Assets DB", registrars=ASSETDB_REST)
_limit = get_settings().assetdb_direct_max_bytes
handler = lambda_entry(
    app,
    max_body_bytes=_limit + 64 * 1024,
    multipart_paths=[f"{ASSETDB}/upload_asset"],
    too_large_message=(
        f"Files sent in the request are limited to {_limit} bytes. For larger files, POST "
        f"{ASSETDB}/upload_asset with JSON to get a presigned upload."
    ),
)
