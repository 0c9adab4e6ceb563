"""Assets Registry ZIP API (spec 000): upload, upload status, download redirect."""

from assets_core.api.http import build_resolver, lambda_entry
from assets_core.api.zip import register_zip
from assets_core.config import get_settings
from assets_core.routes import REGISTRY

app = build_resolver()
register_zip(app)
_settings = get_settings()
handler = lambda_entry(
    app,
    # The direct form carries the bundle in the request; multipart framing adds a little.
    max_body_bytes=_settings.direct_upload_max_bytes + 64 * 1024,
    multipart_paths=[f"{REGISTRY}/zip/upload"],
    too_large_message=(
        f"Direct uploads are limited to {_settings.direct_upload_max_bytes} bytes. For larger "
        f"bundles, POST {REGISTRY}/zip/upload with a JSON body (or none) to get a presigned "
        "upload, then send the file to the URL it returns."
    ),
)
