"""Swagger UI and GraphiQL served from the deployment itself, never from a public CDN: the
pages work offline and under a strict content security policy (``script-src 'self'``).

The vendor files come from npm (swagger-ui-dist, graphiql with React's UMD builds, pinned in
package.json) and are copied into ``vendor/`` by ``make docs-ui``; the two start-up scripts
beside this file are ours. Only the files named in ``ASSETS`` are ever served: a request
names an asset, never a path."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from html import escape
from pathlib import Path

HERE = Path(__file__).resolve().parent
VENDOR = HERE / "vendor"
JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"

# The npm file each vendor asset is copied from (make docs-ui), by the name it is served as.
VENDOR_SOURCES = {
    "swagger-ui-bundle.js": "swagger-ui-dist/swagger-ui-bundle.js",
    "swagger-ui.css": "swagger-ui-dist/swagger-ui.css",
    "graphiql.min.js": "graphiql/graphiql.min.js",
    "graphiql.min.css": "graphiql/graphiql.min.css",
    "react.production.min.js": "react/umd/react.production.min.js",
    "react-dom.production.min.js": "react-dom/umd/react-dom.production.min.js",
}
ASSETS: dict[str, tuple[Path, str]] = {
    "swagger-init.js": (HERE / "swagger-init.js", JS),
    "graphiql-init.js": (HERE / "graphiql-init.js", JS),
    **{name: (VENDOR / name, CSS if name.endswith(".css") else JS) for name in VENDOR_SOURCES},
}
# Styles: Swagger UI and GraphiQL set some inline; images: Swagger UI's are data: URLs.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}
# Asset URLs do not change within a deployment: cached a day.
ASSET_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "public, max-age=86400",
}


@dataclass(frozen=True)
class Asset:
    body: str
    content_type: str


@lru_cache(maxsize=len(ASSETS))
def asset(name: str) -> Asset | None:
    """A served file by its name; None for any other name, or a vendor file not built."""
    found = ASSETS.get(name)
    if found is None or not found[0].is_file():
        return None
    path, content_type = found
    return Asset(path.read_text(encoding="utf-8"), content_type)


def swagger_page(title: str, spec_url: str, assets_base: str) -> str:
    base = escape(assets_base, quote=True)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        f'<link rel="stylesheet" href="{base}/swagger-ui.css"></head><body>'
        f'<div id="swagger-ui" data-spec-url="{escape(spec_url, quote=True)}"></div>'
        f'<script src="{base}/swagger-ui-bundle.js"></script>'
        f'<script src="{base}/swagger-init.js"></script>'
        "</body></html>"
    )


def wants_graphiql(method: str, accept: str, query_params: Mapping[str, str]) -> bool:
    """Whether a request to a GraphQL endpoint asks for the GraphiQL page (a browser's GET,
    with no query) rather than a query's answer."""
    return method == "GET" and "text/html" in accept and "query" not in query_params


def graphiql_page(title: str, endpoint: str, assets_base: str) -> str:
    base = escape(assets_base, quote=True)
    return (
        '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title>"
        f'<link rel="stylesheet" href="{base}/graphiql.min.css">'
        '</head><body style="margin:0">'
        f'<div id="graphiql" style="height:100vh" data-endpoint="{escape(endpoint, quote=True)}">'
        "</div>"
        f'<script src="{base}/react.production.min.js"></script>'
        f'<script src="{base}/react-dom.production.min.js"></script>'
        f'<script src="{base}/graphiql.min.js"></script>'
        f'<script src="{base}/graphiql-init.js"></script>'
        "</body></html>"
    )
