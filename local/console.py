"""The web console at ``/console``: the files ``make console`` builds into ``console/dist``,
served as CloudFront serves them from the console's bucket in AWS, and the ``config.json``
the app reads at start (here: sign in through the local token route, the API on this
origin). The local S3 lets the console's origin upload to it, as the stack's bucket CORS
rule does."""

from __future__ import annotations

import json
import mimetypes
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
CONSOLE_DIR = ROOT / "console" / "dist"
CONSOLE_PATH = "/console"
# The console's own config: the API on this origin, tokens from POST /local/token.
LOCAL_CONFIG = {"api_url": "", "auth": {"kind": "local"}}

type Answer = tuple[int, list[tuple[str, str]], bytes]


def is_console(path: str) -> bool:
    return path == CONSOLE_PATH or path.startswith(CONSOLE_PATH + "/")


def security_headers(s3_endpoint: str) -> list[tuple[str, str]]:
    """What the console's CloudFront response headers policy sends: scripts and styles only
    from the console itself; requests to the API (this origin) and the object store."""
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        f"connect-src 'self' {s3_endpoint.rstrip('/')}; frame-ancestors 'none'; "
        "base-uri 'self'; form-action 'self'; object-src 'none'"
    )
    return [
        ("Content-Security-Policy", policy),
        ("X-Content-Type-Options", "nosniff"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("X-Frame-Options", "DENY"),
    ]


def _error(status: int, code: str, message: str) -> Answer:
    body = json.dumps({"success": False, "error": {"code": code, "message": message}}).encode()
    return status, [("Content-Type", "application/json")], body


def console_answer(path: str, s3_endpoint: str, root: Path = CONSOLE_DIR) -> Answer:
    """The answer to ``GET path`` under ``/console``."""
    if path == CONSOLE_PATH:
        return 308, [("Location", CONSOLE_PATH + "/")], b""
    headers = security_headers(s3_endpoint)
    relative = unquote(path[len(CONSOLE_PATH) + 1 :]) or "index.html"
    if relative == "config.json":
        body = json.dumps(LOCAL_CONFIG).encode()
        typed = [("Content-Type", "application/json"), ("Cache-Control", "no-cache")]
        return 200, [*headers, *typed], body
    if not (root / "index.html").is_file():
        return _error(404, "CONSOLE_NOT_BUILT", "The console is not built: run make console.")
    if "\x00" in relative:  # no file has it (and a path holding it cannot be resolved)
        return _error(404, "NOT_FOUND", "No such console file.")
    base = root.resolve()
    target = (root / relative).resolve()
    if base not in target.parents or not target.is_file():
        return _error(404, "NOT_FOUND", f"No console file {relative!r}.")
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "text/javascript"):
        kind += "; charset=utf-8"
    # Vite names every built asset after its content: those never change; the page may.
    cache = "public, max-age=31536000, immutable" if relative.startswith("assets/") else "no-cache"
    return 200, [*headers, ("Content-Type", kind), ("Cache-Control", cache)], target.read_bytes()


def allow_console_uploads(endpoint: str, bucket: str, origins: list[str]) -> None:
    """The bucket's CORS rule for the console's origins: presigned POSTs and PUTs of parts
    from the browser, whose ETag the console reads to complete an upload in parts."""
    import boto3

    s3 = boto3.client("s3", endpoint_url=endpoint)
    s3.put_bucket_cors(
        Bucket=bucket,
        CORSConfiguration={
            "CORSRules": [
                {
                    "AllowedOrigins": origins,
                    "AllowedMethods": ["GET", "HEAD", "PUT", "POST"],
                    "AllowedHeaders": ["*"],
                    "ExposeHeaders": ["ETag"],
                    "MaxAgeSeconds": 3600,
                }
            ]
        },
    )
