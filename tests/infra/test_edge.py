"""The edge: for a deployment reached from the internet (``-c public=true``), CloudFront in
front of the HTTP API with an AWS WAF web ACL that limits each client IP address; off by
default, and off when ``edge=false`` says so."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Environment
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk.assertions import Template

from assets_core.routes import API_GROUPS
from infra_cdk.app import build_app
from infra_cdk.constants import EDGE_REGION, EDGE_STACK_NAME, STACK_NAME
from infra_cdk.constructs.edge import ORIGIN_VERIFY_HEADER, client_rate_limit
from infra_cdk.stack import AssetsRegistryEdgeStack, edge_enabled
from tests.infra.conftest import Synthesized

REGION = "eu-west-1"


@dataclass
class EdgeAssembly:
    directory: Path
    manifest: dict[str, Any]
    main: dict[str, Any]
    edge: dict[str, Any]

    def resources(self, template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}

    def distribution_id(self) -> str:
        """The edge's distribution (the console has one of its own)."""
        distributions = self.resources(self.main, "AWS::CloudFront::Distribution")
        [logical_id] = [k for k in distributions if k.startswith("Edge")]
        return logical_id

    def distribution(self) -> dict[str, Any]:
        distribution = self.main["Resources"][self.distribution_id()]
        config: dict[str, Any] = distribution["Properties"]["DistributionConfig"]
        return config

    def web_acl(self) -> tuple[str, dict[str, Any]]:
        [(logical_id, acl)] = self.resources(self.edge, "AWS::WAFv2::WebACL").items()
        return logical_id, acl["Properties"]


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> EdgeAssembly:
    """``-c public=true``, synthesized in-process with cdk-nag, the main stack in REGION."""
    directory = tmp_path_factory.mktemp("cdk.out.public")
    build_app({"public": "true"}, outdir=str(directory), region=REGION).synth()

    def read(name: str) -> dict[str, Any]:
        loaded: dict[str, Any] = json.loads((directory / name).read_text())
        return loaded

    return EdgeAssembly(
        directory,
        read("manifest.json"),
        read(f"{STACK_NAME}.template.json"),
        read(f"{EDGE_STACK_NAME}.template.json"),
    )


def test_the_edge_is_off_by_default(synthesized: Synthesized) -> None:
    # The console's distribution only
    [distribution] = synthesized.resources("AWS::CloudFront::Distribution")
    assert distribution.startswith("Console")
    assert synthesized.resources("AWS::WAFv2::WebACL") == {}
    assert "EdgeUrl" not in synthesized.template["Outputs"]
    assert "PUBLIC_BASE_URL" not in json.dumps(synthesized.template)
    manifest = json.loads((synthesized.directory / "manifest.json").read_text())
    stacks = [k for k, v in manifest["artifacts"].items() if v["type"].endswith(":stack")]
    assert stacks == [STACK_NAME]


@pytest.mark.parametrize(
    ("context", "expected"),
    [
        ({}, False),
        ({"public": "true"}, True),
        ({"public": "true", "edge": "false"}, False),
        ({"public": "false", "edge": "true"}, True),
        ({"edge": "auto"}, False),
    ],
)
def test_edge_follows_public_unless_forced(context: dict[str, str], expected: bool) -> None:
    assert edge_enabled(App(context=context)) is expected


def test_an_unknown_edge_value_is_refused() -> None:
    with pytest.raises(ValueError, match="edge must be auto, true or false"):
        edge_enabled(App(context={"edge": "sometimes"}))


def test_edge_false_builds_neither_the_web_acl_stack_nor_the_distribution() -> None:
    app = build_app({"public": "true", "edge": "false"}, nag=False, region=REGION)
    assert app.node.try_find_child(EDGE_STACK_NAME) is None
    main = app.node.find_child(STACK_NAME)
    assert main.node.try_find_child("Edge") is None


def test_the_web_acl_stack_is_in_us_east_1_and_the_main_stack_reads_it(
    public: EdgeAssembly,
) -> None:
    artifacts = public.manifest["artifacts"]
    assert artifacts[EDGE_STACK_NAME]["environment"] == f"aws://unknown-account/{EDGE_REGION}"
    assert artifacts[STACK_NAME]["environment"] == f"aws://unknown-account/{REGION}"
    assert EDGE_STACK_NAME in artifacts[STACK_NAME]["dependencies"]
    # Read with Fn::GetStackOutput: no custom resource carries the reference across regions.
    for template in (public.main, public.edge):
        kinds = {r["Type"] for r in template["Resources"].values()}
        assert not [k for k in kinds if "CrossRegion" in k or k == "AWS::SSM::Parameter"]


def test_the_web_acl_limits_each_client_ip_per_five_minutes(public: EdgeAssembly) -> None:
    _, acl = public.web_acl()
    assert acl["Scope"] == "CLOUDFRONT"
    assert acl["DefaultAction"] == {"Allow": {}}
    [rate] = [r for r in acl["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rate["Priority"] == 0
    assert rate["Statement"]["RateBasedStatement"] == {
        "Limit": 1000,
        "AggregateKeyType": "IP",
        "EvaluationWindowSec": 300,
    }
    block = rate["Action"]["Block"]["CustomResponse"]
    assert block["ResponseCode"] == 429
    body = json.loads(acl["CustomResponseBodies"][block["CustomResponseBodyKey"]]["Content"])
    assert body["success"] is False
    assert body["error"]["code"] == "RATE_LIMITED"


def test_the_managed_rules_count_what_legitimate_calls_break_instead_of_blocking_it(
    public: EdgeAssembly,
) -> None:
    _, acl = public.web_acl()
    groups = {
        r["Statement"]["ManagedRuleGroupStatement"]["Name"]: r["Statement"][
            "ManagedRuleGroupStatement"
        ]
        for r in acl["Rules"]
        if "ManagedRuleGroupStatement" in r["Statement"]
    }
    assert {"AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet"} <= set(groups)
    overrides = groups["AWSManagedRulesCommonRuleSet"]["RuleActionOverrides"]
    counted = {o["Name"] for o in overrides if o["ActionToUse"] == {"Count": {}}}
    assert len(counted) == len(overrides)
    # large bodies, asset JSON that looks like XSS or paths, long GraphQL GETs, machines
    assert counted == {
        "SizeRestrictions_BODY",
        "CrossSiteScripting_BODY",
        "GenericLFI_BODY",
        "GenericRFI_BODY",
        "SizeRestrictions_QUERYSTRING",
        "NoUserAgent_HEADER",
    }


def test_the_distribution_uses_the_web_acl(public: EdgeAssembly) -> None:
    logical_id, _ = public.web_acl()
    reference = public.distribution()["WebACLId"]["Fn::GetStackOutput"]
    assert reference["StackName"] == EDGE_STACK_NAME
    assert reference["Region"] == EDGE_REGION
    output = public.edge["Outputs"][reference["OutputName"]]
    assert output["Value"] == {"Fn::GetAtt": [logical_id, "Arn"]}


def test_the_distribution_forwards_everything_to_the_http_api_uncached(
    public: EdgeAssembly,
) -> None:
    config = public.distribution()
    [api_id] = public.resources(public.main, "AWS::ApiGatewayV2::Api")
    [origin] = config["Origins"]
    domain = json.dumps(origin["DomainName"])
    assert {"Ref": api_id} in origin["DomainName"]["Fn::Join"][1]
    assert f".execute-api.{REGION}." in domain
    assert origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    behavior = config["DefaultCacheBehavior"]
    assert behavior["TargetOriginId"] == origin["Id"]
    assert behavior["ViewerProtocolPolicy"] == "https-only"
    assert behavior["CachePolicyId"] == cloudfront.CachePolicy.CACHING_DISABLED.cache_policy_id
    # All viewer headers but Host: Authorization reaches the JWT authorizer, and Origin and
    # Access-Control-Request-* the API's CORS (preflights are OPTIONS, allowed; nothing is
    # cached, so no answer for one origin is served to another).
    assert (
        behavior["OriginRequestPolicyId"]
        == cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.origin_request_policy_id
    )
    assert set(behavior["AllowedMethods"]) == {
        "GET",
        "HEAD",
        "OPTIONS",
        "PUT",
        "PATCH",
        "POST",
        "DELETE",
    }
    assert config["Logging"]["Prefix"] == "cloudfront/"
    edge_url = public.main["Outputs"]["EdgeUrl"]["Value"]
    assert {"Fn::GetAtt": [public.distribution_id(), "DomainName"]} in edge_url["Fn::Join"][1]


def test_the_origin_header_is_the_generated_secret_resolved_at_deploy(
    public: EdgeAssembly,
) -> None:
    [origin] = public.distribution()["Origins"]
    [header] = origin["OriginCustomHeaders"]
    assert header["HeaderName"] == ORIGIN_VERIFY_HEADER
    secrets = public.resources(public.main, "AWS::SecretsManager::Secret")
    [secret_id] = [k for k, v in secrets.items() if ORIGIN_VERIFY_HEADER in str(v["Properties"])]
    assert secrets[secret_id]["Properties"]["GenerateSecretString"]["PasswordLength"] >= 32
    # The template holds a dynamic reference to the secret, never its value.
    assert header["HeaderValue"] == {
        "Fn::Join": [
            "",
            ["{{resolve:secretsmanager:", {"Ref": secret_id}, ":SecretString:::}}"],
        ]
    }


def test_every_api_function_checks_the_origin_header(public: EdgeAssembly) -> None:
    secrets = public.resources(public.main, "AWS::SecretsManager::Secret")
    [secret_id] = [k for k, v in secrets.items() if ORIGIN_VERIFY_HEADER in str(v["Properties"])]
    functions = public.resources(public.main, "AWS::Lambda::Function").values()
    by_description = {f["Properties"].get("Description"): f["Properties"] for f in functions}
    for group in API_GROUPS:
        env = by_description[group.description]["Environment"]["Variables"]
        assert env["ORIGIN_VERIFY_SECRET_ARN"] == {"Ref": secret_id}, group.name
    readers = [
        p
        for p in public.resources(public.main, "AWS::IAM::Policy").values()
        if {"Ref": secret_id}
        in [s.get("Resource") for s in p["Properties"]["PolicyDocument"]["Statement"]]
    ]
    assert len(readers) == len(API_GROUPS)


def test_the_assets_db_names_the_edge_in_its_public_urls(public: EdgeAssembly) -> None:
    distribution_id = public.distribution_id()
    functions = public.resources(public.main, "AWS::Lambda::Function").values()
    bases = [
        f["Properties"]["Environment"]["Variables"]["PUBLIC_BASE_URL"]
        for f in functions
        if "PUBLIC_BASE_URL" in f["Properties"].get("Environment", {}).get("Variables", {})
    ]
    assert bases == [
        {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [distribution_id, "DomainName"]}]]}
    ]


def test_cdk_nag_passes_both_stacks(public: EdgeAssembly) -> None:
    for name in (STACK_NAME, EDGE_STACK_NAME):
        metadata = json.loads((public.directory / f"{name}.metadata.json").read_text())
        findings = [
            f"{path}: {entry['data']}"
            for path, entries in metadata.items()
            for entry in entries
            if entry["type"] in ("aws:cdk:error", "aws:cdk:warning")
            and str(entry["data"]).startswith("AwsSolutions-")
        ]
        assert findings == [], name
    report = (public.directory / f"AwsSolutions--{STACK_NAME}-NagReport.csv").read_text()
    assert "Non-Compliant" not in report
    distribution = f"{STACK_NAME}/Edge/Distribution/Resource"
    # The web ACL (CFR2) and the access logs (CFR3) comply; CFR1 and CFR4 carry their reasons.
    expected = {
        "CFR1": "Suppressed",
        "CFR2": "Compliant",
        "CFR3": "Compliant",
        "CFR4": "Suppressed",
    }
    for rule, status in expected.items():
        assert f'"AwsSolutions-{rule}","{distribution}","{status}"' in report, rule


def test_client_rate_limit_sets_the_limit() -> None:
    stack = AssetsRegistryEdgeStack(
        App(context={"client_rate_limit": "250"}), "Edge", env=Environment(region=EDGE_REGION)
    )
    acl = Template.from_stack(stack).find_resources("AWS::WAFv2::WebACL")
    [properties] = [a["Properties"] for a in acl.values()]
    [rate] = [r for r in properties["Rules"] if "RateBasedStatement" in r["Statement"]]
    assert rate["Statement"]["RateBasedStatement"]["Limit"] == 250


@pytest.mark.parametrize("value", ["9", "0", "-5", "2000000001", "1.5", "lots", True])
def test_a_rate_limit_aws_waf_would_refuse_is_refused(value: object) -> None:
    with pytest.raises(ValueError, match=r"client_rate_limit must be .* from 10 to 2,000,000,000"):
        client_rate_limit(value)


def test_a_bad_rate_limit_stops_the_app_before_anything_is_built() -> None:
    with pytest.raises(ValueError, match="client_rate_limit"):
        build_app({"public": "true", "client_rate_limit": "5"}, nag=False, region=REGION)


def test_the_edge_needs_the_stacks_region(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CDK_DEFAULT_REGION", raising=False)
    with pytest.raises(ValueError, match="needs the stack's region"):
        build_app({"public": "true"}, nag=False)


def test_the_console_uses_the_edges_web_acl_and_calls_the_api_through_the_edge(
    public: EdgeAssembly,
) -> None:
    distributions = public.resources(public.main, "AWS::CloudFront::Distribution")
    [console] = [v for k, v in distributions.items() if k.startswith("Console")]
    config = console["Properties"]["DistributionConfig"]
    assert config["WebACLId"] == public.distribution()["WebACLId"]
    [policy] = public.resources(public.main, "AWS::CloudFront::ResponseHeadersPolicy").values()
    csp = json.dumps(policy["Properties"])
    assert "https://*.cloudfront.net" in csp
    assert "execute-api" not in csp
    deployments = public.resources(public.main, "Custom::CDKBucketDeployment").values()
    markers = json.dumps([d["Properties"].get("SourceMarkers") for d in deployments])
    assert json.dumps({"Fn::GetAtt": [public.distribution_id(), "DomainName"]}) in markers
    report = (public.directory / f"AwsSolutions--{STACK_NAME}-NagReport.csv").read_text()
    assert f'"AwsSolutions-CFR2","{STACK_NAME}/Console/Distribution/Resource","Compliant"' in report
