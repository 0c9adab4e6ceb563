"""One Router per API module: each function includes its routers under its prefix once, and a
prefix's OpenAPI document copies the routes of every router without taking them over."""

from __future__ import annotations

import importlib
import json
import re

from assets_core.api import dbregistry, registry_query, registry_write, registry_zip
from assets_core.api.http import build_resolver, openapi_document
from assets_core.identity import WRITER
from assets_core.routes import REGISTRY, all_routes
from local.apigw import http_api_event
from tests.support import as_caller, caller, invoke


def test_the_documents_leave_every_router_with_its_live_resolver() -> None:
    write_app = importlib.import_module("functions.registry_write.handler").app
    query = importlib.import_module("functions.registry_query.handler")
    zip_app = importlib.import_module("functions.registry_zip.handler").app
    # A document built (again) after every function has included its routers.
    document = openapi_document(REGISTRY, query.DOCS)
    assert "/registry/assets/{asset_id}" in document["paths"]
    assert registry_write.router.api_resolver is write_app
    assert registry_query.router.api_resolver is query.app
    assert registry_zip.router.api_resolver is zip_app


def test_a_router_reads_its_own_functions_request_after_the_documents_were_built() -> None:
    query_handler = importlib.import_module("functions.registry_query.handler").handler
    write_handler = importlib.import_module("functions.registry_write.handler").handler
    status, _ = invoke(
        query_handler,
        http_api_event(
            method="GET",
            raw_path=f"{REGISTRY}/openapi.json",
            route_key=f"GET {REGISTRY}/openapi.json",
        ),
    )
    assert status == 200
    # The write route reads If-Match from the request its own resolver holds.
    status, body = invoke(
        write_handler,
        as_caller(
            http_api_event(
                method="PUT",
                raw_path=f"{REGISTRY}/assets/a1",
                route_key=f"PUT {REGISTRY}/assets/{{asset_id}}",
                path_parameters={"asset_id": "a1"},
                body=b'{"asset_version": "2"}',
                headers=[("content-type", "application/json"), ("if-match", "not an etag")],
            ),
            caller("writer-1", WRITER),
        ),
    )
    assert (status, body["error"]["code"]) == (400, "INVALID_IF_MATCH")


def test_the_registry_document_has_every_rest_route_of_the_prefix() -> None:
    query = importlib.import_module("functions.registry_query.handler")
    documented = {
        (method.upper(), path)
        for path, operations in openapi_document(REGISTRY, query.DOCS)["paths"].items()
        for method in operations
    }
    rest_groups = {"registry_write", "registry_query", "registry_zip"}
    expected = {
        (route.method, route.path.replace("{route+}", "{route}").replace("{path+}", "{path}"))
        for group, route in all_routes()
        if group.name in rest_groups and not re.search(r"/(openapi\.json|docs)", route.path)
    }
    assert documented == expected


def test_a_router_is_included_under_the_prefix_given_once() -> None:
    app = build_resolver("/somewhere", dbregistry.router)
    paths = {route.path for route in app._static_routes + app._dynamic_routes}
    assert "/somewhere/asset_registry" in paths
    assert all(path.startswith("/somewhere/") for path in paths)


DOCUMENTED = {
    "functions.registry_query.handler": "/registry",
    "functions.assetdb.handler": "/assetdb",
    "functions.dbregistry.handler": "/dbregistry",
    "functions.components.handler": "/components",
}


def documents() -> list[tuple[str, dict[str, object]]]:
    found = []
    for module, prefix in DOCUMENTED.items():
        app = importlib.import_module(module).app
        route = next(r for r in app._static_routes if r.path == f"{prefix}/openapi.json")
        found.append((prefix, route.func().body))
    return found


def test_every_operation_documents_a_typed_answer_and_its_errors() -> None:
    for prefix, document in documents():
        schemas = document["components"]["schemas"]  # type: ignore[index]
        assert "HTTPValidationError" not in schemas, prefix
        for path, operations in document["paths"].items():  # type: ignore[attr-defined]
            for method, operation in operations.items():
                responses = operation["responses"]
                where = f"{method.upper()} {path}"
                assert "422" not in responses, where  # never answered: validation is a 400
                assert {"400", "413", "500", "503"} <= set(responses), where
                success = [code for code in responses if code.startswith(("2", "3"))]
                if method == "head":  # headers only: 200 describes, 307 for an external file
                    assert set(success) == {"200", "307"}, where
                    assert "Content-Length" in responses["200"]["headers"], where
                    continue
                # one answer; or a redirect, its link as JSON (?redirect=false) and, for a
                # ZIP still being assembled, its 202
                assert len(success) == 1 or set(success) in (
                    {"307", "200"},
                    {"307", "202", "200"},
                ), where
                for code in success:
                    body = responses[code]["content"]["application/json"]["schema"]
                    assert "$ref" in body or "anyOf" in body, where  # a model, not an open object
                if method in ("post", "put") and not path.endswith("/restore"):
                    assert "415" in responses, where
                    assert "requestBody" in operation, where
                if "{" in path:
                    assert "404" in responses, where


def test_the_upload_routes_describe_both_bodies_they_take() -> None:
    for prefix, document in documents():
        for path in (f"{prefix}/zip/upload", f"{prefix}/upload_asset"):
            operation = document["paths"].get(path, {}).get("post")  # type: ignore[attr-defined]
            if operation is None:
                continue
            content = operation["requestBody"]["content"]
            assert set(content) == {"application/json", "multipart/form-data"}, path
            assert "x-schemas" not in operation
            for ref in json.dumps(content).split('"$ref": "')[1:]:
                name = ref.split('"')[0].rsplit("/", 1)[-1]
                assert name in document["components"]["schemas"], (path, name)  # type: ignore[index]
