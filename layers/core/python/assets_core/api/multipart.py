"""multipart/form-data bodies (bounded by the request size limit), parsed with the stdlib."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

from assets_core.errors import InvalidInput, UnsupportedMediaType


@dataclass(frozen=True)
class FormPart:
    name: str
    filename: str | None
    content_type: str
    data: bytes


def header(event: Mapping[str, Any], name: str) -> str:
    """A request header's value ("" without one); ``name`` in lower case."""
    headers = event.get("headers") or {}
    for key, value in headers.items():
        if key.lower() == name:
            return str(value)
    return ""


def raw_body(event: Mapping[str, Any]) -> bytes:
    """The request body as API Gateway delivered it, base64 decoded when flagged (a body that
    is flagged but not base64 is taken as it is, for the validators to refuse)."""
    body = event.get("body") or ""
    if event.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=False)
        except (binascii.Error, ValueError):
            return str(body).encode()
    return str(body).encode()


def parse_form(content_type: str, body: bytes) -> dict[str, FormPart]:
    """The parts of a form, by name (the first of each name)."""
    message = BytesParser(policy=HTTP).parsebytes(
        b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body
    )
    if not message.is_multipart():
        raise InvalidInput("The multipart body could not be read; check its boundary.")
    parts: dict[str, FormPart] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if not isinstance(name, str) or name in parts:
            continue
        data = part.get_payload(decode=True)
        parts[name] = FormPart(
            name=name,
            filename=part.get_filename(),
            content_type=part.get_content_type(),
            data=data if isinstance(data, bytes) else b"",
        )
    return parts


@dataclass(frozen=True)
class UploadBody:
    """An upload request's body: a form (``parts``) or JSON text (``json``, maybe empty)."""

    parts: dict[str, FormPart] | None
    json: bytes


def upload_body(event: Mapping[str, Any], *, unsupported: str) -> UploadBody:
    """The body of a route that takes either a small file as multipart/form-data or JSON (or
    nothing) for a presigned upload; any other content type is ``UnsupportedMediaType`` with
    the ``unsupported`` message."""
    content_type = header(event, "content-type").strip()
    kind = content_type.split(";")[0].strip().lower()
    body = raw_body(event)
    if kind == "multipart/form-data":
        return UploadBody(parts=parse_form(content_type, body), json=b"")
    if kind not in ("", "application/json"):
        raise UnsupportedMediaType(unsupported)
    return UploadBody(parts=None, json=body)
