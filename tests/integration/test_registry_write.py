"""The write API group (spec 000) called with API Gateway v2 events."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from functions.registry_query.handler import handler as query_handler
from functions.registry_write.handler import handler as write_handler
from tests.support import event, invoke, make_asset


def create(asset: dict[str, Any]) -> tuple[int, Any]:
    return invoke(write_handler, event("apigw_registry_post_assets", body=asset))


def stored(asset_id: str) -> tuple[int, Any]:
    return invoke(
        query_handler,
        event(
            "apigw_registry_query_by_id",
            path=f"/registry/query/by-id/{asset_id}",
            path_parameters={"asset_id": asset_id},
        ),
    )


def assert_error(body: object, code: str) -> str:
    assert isinstance(body, dict)
    assert body["success"] is False
    assert body["error"]["code"] == code
    message: str = body["error"]["message"]
    assert message
    return message


def test_create_returns_201_and_the_stored_document() -> None:
    # Given the spec's example asset, when it is posted
    status, body = invoke(write_handler, event("apigw_registry_post_assets"))
    # Then it is created and reads back identically, without MongoDB's _id
    assert status == 201
    assert body["asset_id"] == "asset-001"
    assert "_id" not in body
    assert stored("asset-001") == (200, body)


def test_duplicate_asset_id_is_400_and_keeps_the_original() -> None:
    create(make_asset(asset_brief_description="original"))
    status, body = create(make_asset(asset_brief_description="impostor"))
    assert status == 400
    assert "already exists" in assert_error(body, "ASSET_EXISTS")
    assert stored("asset-001")[1]["asset_brief_description"] == "original"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"asset_id": ', "not valid JSON"),
        ("[1, 2]", "must be a JSON object"),
        ('"just a string"', "must be a JSON object"),
        ("42", "must be a JSON object"),
        (json.dumps([make_asset()]), "not an array"),
        ("", "required"),
    ],
)
def test_bodies_that_are_not_an_asset_object_are_400(raw: str, expected: str) -> None:
    status, body = invoke(write_handler, event("apigw_registry_post_assets", raw_body=raw))
    assert status == 400
    assert expected in assert_error(body, "INVALID_INPUT")
    assert stored("asset-001")[0] == 404


def test_missing_mistyped_and_unknown_fields_are_named() -> None:
    asset = make_asset(asset_version=1, colour="red", shape="round")
    del asset["asset_uri"]
    status, body = create(asset)
    message = assert_error(body, "INVALID_INPUT")
    assert status == 400
    assert "unknown fields 'colour', 'shape'" in message.lower()
    assert "'asset_uri' is required" in message
    assert "'asset_version'" in message


def test_body_over_one_mib_is_413() -> None:
    huge = make_asset(asset_brief_description="x" * (1024 * 1024))
    status, body = create(huge)
    assert status == 413
    assert_error(body, "PAYLOAD_TOO_LARGE")


def test_base64_body_is_decoded_like_api_gateway_does() -> None:
    request = event("apigw_registry_post_assets")
    request["body"] = base64.b64encode(json.dumps(make_asset("b64")).encode()).decode()
    request["isBase64Encoded"] = True
    assert invoke(write_handler, request)[0] == 201


def test_non_json_content_type_is_415() -> None:
    request = event(
        "apigw_registry_post_assets",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    status, body = invoke(write_handler, request)
    assert status == 415
    assert "application/json" in assert_error(body, "UNSUPPORTED_MEDIA_TYPE")


def test_partial_update_changes_only_the_fields_sent() -> None:
    create(make_asset())
    status, body = invoke(write_handler, event("apigw_registry_put_asset"))
    assert status == 200
    assert body["asset_brief_description"] == "Updated description"
    assert body["asset_version"] == "v1"
    assert stored("asset-001")[1] == body


def test_update_cannot_change_the_id_or_break_the_asset() -> None:
    create(make_asset())
    status, body = invoke(
        write_handler, event("apigw_registry_put_asset", body={"asset_id": "other"})
    )
    assert status == 400
    assert_error(body, "FIELD_READ_ONLY")
    status, body = invoke(
        write_handler, event("apigw_registry_put_asset", body={"asset_version": None})
    )
    assert status == 400
    status, body = invoke(write_handler, event("apigw_registry_put_asset", body={"bogus": 1}))
    assert status == 400
    assert "'bogus'" in assert_error(body, "INVALID_INPUT")
    status, body = invoke(write_handler, event("apigw_registry_put_asset", body={}))
    assert status == 400
    assert stored("asset-001")[1]["asset_version"] == "v1"


def test_update_and_delete_of_unknown_asset_are_404() -> None:
    put = event(
        "apigw_registry_put_asset",
        path="/registry/assets/missing",
        path_parameters={"asset_id": "missing"},
    )
    assert invoke(write_handler, put)[0] == 404
    delete = event(
        "apigw_registry_delete_asset",
        path="/registry/assets/missing",
        path_parameters={"asset_id": "missing"},
    )
    status, body = invoke(write_handler, delete)
    assert status == 404
    assert "missing" in assert_error(body, "ASSET_NOT_FOUND")


def test_delete_removes_the_asset() -> None:
    create(make_asset())
    status, body = invoke(write_handler, event("apigw_registry_delete_asset"))
    assert (status, body["deleted"]) == (200, True)
    assert stored("asset-001")[0] == 404
    assert invoke(write_handler, event("apigw_registry_delete_asset"))[0] == 404


def test_unknown_route_is_404_in_the_contract_shape() -> None:
    request = event("apigw_registry_post_assets", path="/registry/nothing-here")
    status, body = invoke(write_handler, request)
    assert status == 404
    assert_error(body, "ROUTE_NOT_FOUND")
