"""Identity in the stack: a JWT authorizer on every route that is not public by design, its
tokens from a Cognito user pool (groups and scopes named after the roles, a PKCE client for
the CLI, a client-credentials client for machines, a code-flow client for the web console:
test_console.py), or from an external issuer by context; an open API only when asked for."""

from __future__ import annotations

from aws_cdk import App, Stack
from aws_cdk.assertions import Template

from assets_core.identity import ROLES
from assets_core.routes import all_routes, is_public
from infra_cdk.constructs.auth import AuthConstruct
from infra_cdk.stack import AssetsRegistryStack
from tests.infra.conftest import Synthesized


def test_every_route_but_the_public_ones_has_the_jwt_authorizer(
    synthesized: Synthesized,
) -> None:
    [authorizer_id] = synthesized.resources("AWS::ApiGatewayV2::Authorizer")
    routes = synthesized.resources("AWS::ApiGatewayV2::Route").values()
    by_key = {route["Properties"]["RouteKey"]: route["Properties"] for route in routes}
    expected = {r.route_key: is_public(r) for _, r in all_routes()}
    assert set(by_key) == set(expected)
    for key, public in expected.items():
        properties = by_key[key]
        if public:
            assert properties.get("AuthorizationType", "NONE") == "NONE", key
        else:
            assert properties["AuthorizationType"] == "JWT", key
            assert properties["AuthorizerId"] == {"Ref": authorizer_id}, key
    # health, openapi.json, docs, docs/{asset} x 4 prefixes; the two GraphiQL pages
    assert sum(expected.values()) == 4 * 4 + 2


def test_the_authorizer_trusts_the_user_pools_three_clients(synthesized: Synthesized) -> None:
    [authorizer] = synthesized.resources("AWS::ApiGatewayV2::Authorizer").values()
    properties = authorizer["Properties"]
    assert properties["AuthorizerType"] == "JWT"
    assert properties["IdentitySource"] == ["$request.header.Authorization"]
    audience = properties["JwtConfiguration"]["Audience"]
    clients = synthesized.resources("AWS::Cognito::UserPoolClient")
    assert len(clients) == 3
    assert sorted(a["Ref"] for a in audience) == sorted(clients)
    issuer = str(properties["JwtConfiguration"]["Issuer"])
    assert "cognito-idp" in issuer


def test_the_user_pool_has_a_group_and_a_scope_per_role(synthesized: Synthesized) -> None:
    groups = synthesized.resources("AWS::Cognito::UserPoolGroup").values()
    assert sorted(g["Properties"]["GroupName"] for g in groups) == sorted(ROLES)
    [server] = synthesized.resources("AWS::Cognito::UserPoolResourceServer").values()
    scopes = [s["ScopeName"] for s in server["Properties"]["Scopes"]]
    assert sorted(scopes) == sorted(ROLES)
    [pool] = synthesized.resources("AWS::Cognito::UserPool").values()
    assert pool["Properties"]["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert pool["Properties"]["MfaConfiguration"] == "ON"


def test_the_cli_uses_pkce_without_a_secret_and_machines_client_credentials(
    synthesized: Synthesized,
) -> None:
    clients = [
        c["Properties"] for c in synthesized.resources("AWS::Cognito::UserPoolClient").values()
    ]
    [cli] = [c for c in clients if c.get("CallbackURLs") == ["http://localhost:8765/callback"]]
    assert cli["AllowedOAuthFlows"] == ["code"]
    [machines] = [c for c in clients if "client_credentials" in c.get("AllowedOAuthFlows", [])]
    assert not cli.get("GenerateSecret", False)
    assert cli["CallbackURLs"] == ["http://localhost:8765/callback"]
    assert machines["GenerateSecret"] is True
    assert len(machines["AllowedOAuthScopes"]) == len(ROLES)


def test_an_external_issuer_replaces_the_user_pool() -> None:
    stack = Stack(App(), "Probe")
    construct = AuthConstruct(
        stack, "Auth", issuer="https://login.example.com/", audience="api://assets,other"
    )
    assert construct.user_pool is None
    assert construct.issuer == "https://login.example.com/"
    assert construct.audience == ["api://assets", "other"]
    Template.from_stack(stack).resource_count_is("AWS::Cognito::UserPool", 0)


def test_an_open_api_is_an_explicit_choice_with_no_authorizer() -> None:
    app = App(context={"open_api": "true"})
    stack = AssetsRegistryStack(app, "Open")
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::ApiGatewayV2::Authorizer", 0)
    template.resource_count_is("AWS::Cognito::UserPool", 0)
    routes = template.find_resources("AWS::ApiGatewayV2::Route").values()
    assert all(r["Properties"].get("AuthorizationType", "NONE") == "NONE" for r in routes)
    # With nobody identified, the functions let every caller act (as "anonymous").
    functions = template.find_resources("AWS::Lambda::Function").values()
    api_functions = [
        f for f in functions if "MONGODB_SECRET_ARN" in str(f["Properties"].get("Environment"))
    ]
    assert api_functions
    for function in api_functions:
        assert function["Properties"]["Environment"]["Variables"]["OPEN_ACCESS"] == "true"


def test_a_deployment_with_the_authorizer_is_not_open(synthesized: Synthesized) -> None:
    for function in synthesized.resources("AWS::Lambda::Function").values():
        variables = (function["Properties"].get("Environment") or {}).get("Variables", {})
        assert "OPEN_ACCESS" not in variables
