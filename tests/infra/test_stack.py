"""The synthesized stack: one function per API group, a route per route-table entry."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from assets_core.routes import API_GROUPS, all_routes
from infra_cdk.app import build_app
from infra_cdk.constants import STACK_NAME


@pytest.fixture(scope="session")
def template() -> Template:
    stack = build_app().node.find_child(STACK_NAME)
    return Template.from_stack(stack)  # type: ignore[arg-type]


def _resources(template: Template, kind: str) -> dict[str, Any]:
    return dict(template.find_resources(kind))


def test_one_arm64_python_function_per_api_group(template: Template) -> None:
    functions = _resources(template, "AWS::Lambda::Function")
    assert len(functions) == len(API_GROUPS)
    template.all_resources_properties(
        "AWS::Lambda::Function",
        {
            "Runtime": "python3.12",
            "Architectures": ["arm64"],
            "Handler": "handler.handler",
            "TracingConfig": {"Mode": "Active"},
            "Layers": Match.any_value(),
            "Environment": {
                "Variables": Match.object_like({"POWERTOOLS_SERVICE_NAME": "assets-registry"})
            },
        },
    )


def test_http_api_has_exactly_the_route_table(template: Template) -> None:
    template.resource_count_is("AWS::ApiGatewayV2::Api", 1)
    template.has_resource_properties("AWS::ApiGatewayV2::Api", {"ProtocolType": "HTTP"})
    routes = _resources(template, "AWS::ApiGatewayV2::Route")
    synthesized = sorted(r["Properties"]["RouteKey"] for r in routes.values())
    assert synthesized == sorted(route.route_key for _, route in all_routes())


def test_every_route_reaches_its_groups_function(template: Template) -> None:
    functions = _resources(template, "AWS::Lambda::Function")
    integrations = _resources(template, "AWS::ApiGatewayV2::Integration")
    routes = _resources(template, "AWS::ApiGatewayV2::Route")
    group_of_key = {route.route_key: group.name for group, route in all_routes()}
    for route in routes.values():
        target = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        integration = integrations[target]["Properties"]
        assert integration["PayloadFormatVersion"] == "2.0"
        function_id = integration["IntegrationUri"]["Fn::GetAtt"][0]
        group = group_of_key[route["Properties"]["RouteKey"]]
        assert function_id.startswith(f"Api{group.replace('_', '')}"), (function_id, group)
        assert function_id in functions
