"""Helpers shared by the tests: API Gateway events from ``events/``, handler calls, assets."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from assets_core.identity import Caller
from local.apigw import LocalContext

EVENTS = Path(__file__).resolve().parent.parent / "events"
# An upload's first status as /zip/upload writes it: queued, for a writer ingest acts for.
QUEUED: dict[str, Any] = {
    "status": "queued",
    "uploaded_by": "uploader",
    "uploader_roles": ["assets-reader", "assets-writer"],
}
_NOT_SET: Any = object()


def event(
    name: str,
    *,
    body: Any = _NOT_SET,
    raw_body: str | None = None,
    path: str | None = None,
    path_parameters: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    caller: Caller | None = None,
) -> dict[str, Any]:
    """A recorded API Gateway v2 event from ``events/``, with the parts a test changes.
    Every recorded event of a route that needs a token carries an admin's verified claims,
    as the JWT authorizer writes them; ``caller`` puts another caller's there (an anonymous
    one: no token, no claims)."""
    data: dict[str, Any] = copy.deepcopy(json.loads((EVENTS / f"{name}.json").read_text()))
    if caller is not None:
        as_caller(data, caller)
    if body is not _NOT_SET:
        data["body"] = json.dumps(body)
    if raw_body is not None:
        data["body"] = raw_body
    if path is not None:
        data["rawPath"] = path
        data["requestContext"]["http"]["path"] = path
    if path_parameters is not None:
        data["pathParameters"] = path_parameters
    if query is not None:
        data["queryStringParameters"] = query
        data["rawQueryString"] = urlencode(query)
    if headers:
        data["headers"].update({k.lower(): v for k, v in headers.items()})
    return data


def as_caller(data: dict[str, Any], caller: Caller) -> dict[str, Any]:
    """The event as ``caller`` sends it: their claims where the JWT authorizer puts them
    (every value a string, a list claim as ``[a b]``), or no token at all."""
    context = data["requestContext"]
    if caller.sub is None:
        context.pop("authorizer", None)
        data["headers"].pop("authorization", None)
        return data
    template = (context.get("authorizer") or {}).get("jwt", {}).get("claims") or {}
    claims = {
        **template,
        "sub": caller.sub,
        "username": caller.sub,
        "cognito:groups": "[" + " ".join(sorted(caller.roles)) + "]",
    }
    context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    data["headers"]["authorization"] = f"Bearer token-of-{caller.sub}"
    return data


def caller(sub: str | None, *roles: str) -> Caller:
    """A caller for ``event``: a subject and its roles (no subject: anonymous)."""
    return Caller(sub=sub, roles=frozenset(roles))


def invoke(handler: Any, request: dict[str, Any]) -> tuple[int, Any]:
    """Call a Lambda handler as API Gateway would; the status and the decoded JSON body."""
    result = handler(request, LocalContext("test"))
    raw = result.get("body") or ""
    try:
        body = json.loads(raw)
    except json.JSONDecodeError:
        body = raw
    return result["statusCode"], body


def make_asset(asset_id: str = "asset-001", **overrides: Any) -> dict[str, Any]:
    """Spec 000's example asset, with a tag and an API route, as JSON."""
    asset: dict[str, Any] = {
        "asset_id": asset_id,
        "asset_uri": f"models://example.com/{asset_id}",
        "asset_version": "v1",
        "asset_profile_id": "profile-001",
        "asset_file_ids": [],
        "profiles": [
            {
                "asset_profile_id": "profile-001",
                "asset_type": "model",
                "asset_sub_type": "llm",
                "asset_id": asset_id,
                "asset_tags": ["generative"],
            }
        ],
        "policies": [],
        "files": [],
        "apis": [
            {
                "asset_api_id": "api-001",
                "asset_id": asset_id,
                "asset_api_route": "/api/v1/generate",
            }
        ],
        "index_mappings": [],
    }
    asset.update(overrides)
    return asset


def zip_bytes(
    members: dict[str, bytes],
    *,
    stored: tuple[str, ...] = (),
    asset: dict[str, Any] | None = None,
) -> bytes:
    """A ZIP holding ``members`` (deflated unless named in ``stored``) and, when given,
    ``asset`` as asset.json."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        if asset is not None:
            archive.writestr("asset.json", json.dumps(asset))
        for name, data in members.items():
            method = zipfile.ZIP_STORED if name in stored else zipfile.ZIP_DEFLATED
            archive.writestr(zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0)), data, method)
    return buffer.getvalue()


def bundle_asset(asset_id: str = "bundle-001", **overrides: Any) -> dict[str, Any]:
    """An asset.json for a bundle: the required fields only, files filled by ingest."""
    required = ("asset_id", "asset_uri", "asset_version", "asset_profile_id", "asset_file_ids")
    asset = {name: value for name, value in make_asset(asset_id).items() if name in required}
    asset.update(overrides)
    return asset


def object_created(key: str) -> dict[str, Any]:
    """The S3 ObjectCreated event for ``key`` as the queue hands it to ingest (one message)."""
    record: dict[str, Any] = json.loads((EVENTS / "sqs_s3_object_created.json").read_text())
    body = json.loads(record["Records"][0]["body"])
    body["Records"][0]["s3"]["object"]["key"] = key
    record["Records"][0]["body"] = json.dumps(body)
    return record
