"""The web console in AWS: its own private bucket behind a CloudFront distribution (Origin
Access Control, HTTPS, security headers), a Cognito client of its own, CORS on the API and the
data bucket for its origin only, and config.json, what the app reads at start."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk import aws_cloudfront as cloudfront

from infra_cdk.constants import STACK_NAME
from infra_cdk.constructs.console import (
    INDEX_REWRITE,
    csp,
    external_sign_in,
    sign_in_origins,
)
from infra_cdk.stack import AssetsRegistryStack
from tests.infra.conftest import Synthesized

CONFIG_KEYS = {"api_url", "auth"}
COGNITO_AUTH_KEYS = {
    "kind",
    "authorize_url",
    "token_url",
    "logout_url",
    "client_id",
    "redirect_uri",
    "scopes",
}
EXTERNAL = {
    "auth_issuer": "https://login.example.com/",
    "auth_audience": "api://assets",
    "console_client_id": "console-spa",
    "console_authorize_url": "https://login.example.com/authorize",
    "console_token_url": "https://tokens.example.com/oauth/token",
    "console_logout_url": "https://login.example.com/v2/logout",
}


def render(value: Any) -> str:
    """A CloudFormation string as text: ``${Logical}`` for a Ref, ``${Logical.Attr}`` for a
    GetAtt, joins joined."""
    if isinstance(value, str):
        return value
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    separator, parts = value["Fn::Join"]
    return str(separator).join(render(part) for part in parts)


def directives(policy: str) -> dict[str, list[str]]:
    parsed = [d.split() for d in policy.split(";") if d.strip()]
    return {d[0]: d[1:] for d in parsed}


def only(resources: dict[str, dict[str, Any]], prefix: str) -> tuple[str, dict[str, Any]]:
    [(logical_id, resource)] = [(k, v) for k, v in resources.items() if k.startswith(prefix)]
    return logical_id, resource["Properties"]


def resources_of(template: dict[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == kind}


def console_origin(template: dict[str, Any]) -> str:
    distribution_id, _ = only(resources_of(template, "AWS::CloudFront::Distribution"), "Console")
    return f"https://${{{distribution_id}.DomainName}}"


def deployments(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return resources_of(template, "Custom::CDKBucketDeployment")


def config_json(template: dict[str, Any], directory: Path) -> dict[str, Any]:
    """config.json as the Entry deployment writes it, its deploy-time values rendered."""
    _, entry = only(deployments(template), "ConsoleEntry")
    for key, markers in zip(entry["SourceObjectKeys"], entry["SourceMarkers"], strict=True):
        staged = directory / f"asset.{key.removesuffix('.zip')}" / "config.json"
        if staged.is_file():
            text = staged.read_text()
            for marker, value in markers.items():
                text = text.replace(marker, render(value))
            loaded: dict[str, Any] = json.loads(text)
            return loaded
    raise AssertionError("no config.json among the Entry deployment's sources")


def test_the_console_bucket_is_private_and_read_by_the_distribution_through_oac(
    synthesized: Synthesized,
) -> None:
    bucket_id, bucket = only(synthesized.resources("AWS::S3::Bucket"), "ConsoleBucket")
    assert bucket["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    [rule] = bucket["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule["ServerSideEncryptionByDefault"] == {"SSEAlgorithm": "AES256"}
    assert bucket["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert bucket["LoggingConfiguration"]["LogFilePrefix"] == "console/"
    assert "CorsConfiguration" not in bucket

    distribution_id, properties = only(
        synthesized.resources("AWS::CloudFront::Distribution"), "Console"
    )
    config = properties["DistributionConfig"]
    [origin] = config["Origins"]
    assert origin["DomainName"] == {"Fn::GetAtt": [bucket_id, "RegionalDomainName"]}
    assert "OriginAccessControlId" in origin
    assert origin["S3OriginConfig"] == {"OriginAccessIdentity": ""}  # no legacy OAI
    # Object keys carry /console/: the origin has no path of its own.
    assert "OriginPath" not in origin
    [oac] = synthesized.resources("AWS::CloudFront::OriginAccessControl").values()
    assert oac["Properties"]["OriginAccessControlConfig"]["SigningBehavior"] == "always"

    _, policy = only(synthesized.resources("AWS::S3::BucketPolicy"), "ConsoleBucketPolicy")
    statements = policy["PolicyDocument"]["Statement"]
    [reader] = [s for s in statements if s["Effect"] == "Allow"]
    assert reader["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert reader["Action"] == "s3:GetObject"
    assert distribution_id in json.dumps(reader["Condition"]["StringEquals"]["AWS:SourceArn"])
    assert any(
        s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_the_distribution_redirects_to_https_and_rewrites_the_entry_points(
    synthesized: Synthesized,
) -> None:
    _, properties = only(synthesized.resources("AWS::CloudFront::Distribution"), "Console")
    behavior = properties["DistributionConfig"]["DefaultCacheBehavior"]
    assert behavior["ViewerProtocolPolicy"] == "redirect-to-https"
    assert behavior["AllowedMethods"] == ["GET", "HEAD"]
    assert behavior["CachePolicyId"] == cloudfront.CachePolicy.CACHING_OPTIMIZED.cache_policy_id
    [association] = behavior["FunctionAssociations"]
    assert association["EventType"] == "viewer-request"
    [(function_id, function)] = synthesized.resources("AWS::CloudFront::Function").items()
    assert association["FunctionARN"] == {"Fn::GetAtt": [function_id, "FunctionARN"]}
    assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["Properties"]["FunctionCode"] == INDEX_REWRITE


@pytest.mark.parametrize(
    ("uri", "expected"),
    [
        ("/", "301 /console/"),
        ("/console", "301 /console/"),
        ("/console/", "/console/index.html"),
        ("/console/index.html", "/console/index.html"),
        ("/console/config.json", "/console/config.json"),
        ("/console/assets/index-abc.js", "/console/assets/index-abc.js"),
        ("/other", "/other"),
    ],
)
def test_the_entry_points_lead_to_index_html_and_nothing_else_is_rewritten(
    uri: str, expected: str
) -> None:
    # CloudFront Functions are JavaScript: run the handler as CloudFront would call it.
    script = INDEX_REWRITE + (
        f"const out = handler({{request: {{uri: {json.dumps(uri)}}}}});"
        "process.stdout.write(out.statusCode ? out.statusCode + ' ' + out.headers.location.value"
        " : out.uri);"
    )
    run = subprocess.run(
        ["node", "-e", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert run.stdout == expected


def test_the_security_headers_allow_only_the_consoles_own_scripts(
    synthesized: Synthesized,
) -> None:
    [policy] = synthesized.resources("AWS::CloudFront::ResponseHeadersPolicy").values()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    assert headers["ContentSecurityPolicy"]["Override"] is True
    parsed = directives(render(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]))
    assert parsed["script-src"] == ["'self'"]
    assert parsed["default-src"] == ["'self'"]
    assert parsed["style-src"] == ["'self'"]
    assert parsed["img-src"] == ["'self'", "data:"]
    assert parsed["frame-ancestors"] == ["'none'"]
    assert parsed["base-uri"] == ["'self'"]
    assert not [s for sources in parsed.values() for s in sources if s.startswith("'unsafe-")]
    [pool_domain] = synthesized.resources("AWS::Cognito::UserPoolDomain")
    cognito = f"https://${{{pool_domain}}}.auth.${{AWS::Region}}.amazoncognito.com"
    assert parsed["connect-src"] == [
        "'self'",
        "https://*.execute-api.${AWS::Region}.${AWS::URLSuffix}",
        "https://*.s3.${AWS::Region}.${AWS::URLSuffix}",
        "https://*.s3.${AWS::URLSuffix}",
        cognito,
    ]
    assert parsed["form-action"] == ["'self'", cognito]
    assert headers["StrictTransportSecurity"]["AccessControlMaxAgeSec"] >= 365 * 24 * 3600
    assert headers["ContentTypeOptions"] == {"Override": True}
    assert headers["FrameOptions"]["FrameOption"] == "DENY"
    assert headers["ReferrerPolicy"]["ReferrerPolicy"] == "strict-origin-when-cross-origin"
    _, distribution = only(synthesized.resources("AWS::CloudFront::Distribution"), "Console")
    behavior = distribution["DistributionConfig"]["DefaultCacheBehavior"]
    [policy_id] = synthesized.resources("AWS::CloudFront::ResponseHeadersPolicy")
    assert behavior["ResponseHeadersPolicyId"] == {"Ref": policy_id}


def test_the_csp_depends_on_nothing_that_names_the_console(synthesized: Synthesized) -> None:
    # The API, the data bucket and the console client name the console's origin: a reference
    # back from its headers would be a cycle CloudFormation refuses.
    [policy] = synthesized.resources("AWS::CloudFront::ResponseHeadersPolicy").values()
    text = json.dumps(policy)
    for kind in ("AWS::ApiGatewayV2::Api", "AWS::Cognito::UserPoolClient"):
        for logical_id in synthesized.resources(kind):
            assert logical_id not in text, logical_id
    assert "StorageBucket" not in text


def test_the_console_client_signs_in_with_the_code_flow_only_and_no_secret(
    synthesized: Synthesized,
) -> None:
    _, client = only(synthesized.resources("AWS::Cognito::UserPoolClient"), "AuthUserPoolConsole")
    origin = console_origin(synthesized.template)
    assert client["AllowedOAuthFlows"] == ["code"]
    assert client["AllowedOAuthFlowsUserPoolClient"] is True
    assert not client.get("GenerateSecret", False)
    assert sorted(client["AllowedOAuthScopes"]) == ["email", "openid", "profile"]
    assert [render(url) for url in client["CallbackURLs"]] == [f"{origin}/console/"]
    assert [render(url) for url in client["LogoutURLs"]] == [f"{origin}/console/"]
    assert client["PreventUserExistenceErrors"] == "ENABLED"
    assert client["AccessTokenValidity"] == 60
    assert client["TokenValidityUnits"]["AccessToken"] == "minutes"
    # No SRP, password or custom authentication outside the hosted pages
    assert client["ExplicitAuthFlows"] == ["ALLOW_REFRESH_TOKEN_AUTH"]


def test_the_authorizer_accepts_the_console_clients_tokens(synthesized: Synthesized) -> None:
    client_id, _ = only(
        synthesized.resources("AWS::Cognito::UserPoolClient"), "AuthUserPoolConsole"
    )
    [authorizer] = synthesized.resources("AWS::ApiGatewayV2::Authorizer").values()
    assert {"Ref": client_id} in authorizer["Properties"]["JwtConfiguration"]["Audience"]


def test_the_api_answers_cors_for_the_console_only(synthesized: Synthesized) -> None:
    [api] = synthesized.resources("AWS::ApiGatewayV2::Api").values()
    cors = api["Properties"]["CorsConfiguration"]
    assert "*" not in json.dumps(cors["AllowOrigins"])
    assert [render(o) for o in cors["AllowOrigins"]] == [console_origin(synthesized.template)]
    assert cors["AllowHeaders"] == ["content-type", "authorization"]
    assert "AllowCredentials" not in cors  # bearer tokens, no cookies
    assert {"GET", "POST", "PUT", "DELETE"} <= set(cors["AllowMethods"])
    assert "ANY" not in cors["AllowMethods"]


def test_the_data_bucket_lets_the_console_upload_and_read_etags(synthesized: Synthesized) -> None:
    _, bucket = only(synthesized.resources("AWS::S3::Bucket"), "StorageBucket")
    [rule] = bucket["CorsConfiguration"]["CorsRules"]
    assert [render(o) for o in rule["AllowedOrigins"]] == [console_origin(synthesized.template)]
    assert sorted(rule["AllowedMethods"]) == ["GET", "HEAD", "POST", "PUT"]
    assert rule["AllowedHeaders"] == ["*"]
    # The browser reads each part's ETag to complete a multipart upload.
    assert rule["ExposedHeaders"] == ["ETag"]
    assert rule["MaxAge"] == 3600


def test_the_deployment_ships_the_build_and_config_json_under_console(
    synthesized: Synthesized,
) -> None:
    found = deployments(synthesized.template)
    assets_id, assets = only(found, "ConsoleAssets")
    entry_id, entry = only(found, "ConsoleEntry")
    [console_bucket] = [k for k in synthesized.resources("AWS::S3::Bucket") if "Console" in k]
    for deployment in (assets, entry):
        assert deployment["DestinationBucketName"] == {"Ref": console_bucket}
        assert deployment["DestinationBucketKeyPrefix"] == "console/"
    # Hashed assets, cached for a year and kept for pages still open on an older index.html;
    # index.html and config.json revalidated on every load, after the assets are in place.
    assert (assets["Exclude"], assets["Include"]) == (["*"], ["assets/*"])
    assert assets["Prune"] is False
    assert assets["SystemMetadata"]["cache-control"] == "public, max-age=31536000, immutable"
    assert entry["Exclude"] == ["assets/*"]
    assert entry.get("Prune", True) is True
    assert entry["SystemMetadata"]["cache-control"] == "no-cache"
    assert assets_id in synthesized.template["Resources"][entry_id]["DependsOn"]
    # The build itself: index.html and its assets, from console/dist
    staged = [
        synthesized.directory / f"asset.{k.removesuffix('.zip')}" for k in entry["SourceObjectKeys"]
    ]
    build = next(p for p in staged if (p / "index.html").is_file())
    assert list(build.glob("assets/*.js"))
    assert "/console/assets/" in (build / "index.html").read_text()


def test_config_json_names_the_api_and_the_console_client(synthesized: Synthesized) -> None:
    config = config_json(synthesized.template, synthesized.directory)
    assert set(config) == CONFIG_KEYS
    [api_id] = synthesized.resources("AWS::ApiGatewayV2::Api")
    assert config["api_url"] == f"${{{api_id}.ApiEndpoint}}"  # no trailing slash
    auth = config["auth"]
    assert set(auth) == COGNITO_AUTH_KEYS
    [pool_domain] = synthesized.resources("AWS::Cognito::UserPoolDomain")
    hosted = f"https://${{{pool_domain}}}.auth.${{AWS::Region}}.amazoncognito.com"
    client_id, _ = only(
        synthesized.resources("AWS::Cognito::UserPoolClient"), "AuthUserPoolConsole"
    )
    assert auth == {
        "kind": "cognito",
        "authorize_url": f"{hosted}/oauth2/authorize",
        "token_url": f"{hosted}/oauth2/token",
        "logout_url": f"{hosted}/logout",
        "client_id": f"${{{client_id}}}",
        "redirect_uri": f"{console_origin(synthesized.template)}/console/",
        "scopes": "openid email profile",
    }


def test_the_outputs_name_the_console_and_its_client(synthesized: Synthesized) -> None:
    outputs = synthesized.template["Outputs"]
    assert (
        render(outputs["ConsoleUrl"]["Value"]) == f"{console_origin(synthesized.template)}/console/"
    )
    client_id, _ = only(
        synthesized.resources("AWS::Cognito::UserPoolClient"), "AuthUserPoolConsole"
    )
    assert outputs["ConsoleClientId"]["Value"] == {"Ref": client_id}


def test_cdk_nag_reasons_cover_only_what_the_console_cannot_change(
    synthesized: Synthesized,
) -> None:
    report = next(synthesized.directory.glob("AwsSolutions-*-NagReport.csv")).read_text()
    distribution = f"{STACK_NAME}/Console/Distribution/Resource"
    # Access logs (CFR3), OAC (CFR7) and TLS to the origin (CFR5) comply; without the edge
    # there is no web ACL (CFR2); country (CFR1) and the default certificate (CFR4) are reasons.
    expected = {
        "CFR1": "Suppressed",
        "CFR2": "Suppressed",
        "CFR3": "Compliant",
        "CFR4": "Suppressed",
        "CFR7": "Compliant",
    }
    for rule, status in expected.items():
        assert f'"AwsSolutions-{rule}","{distribution}","{status}"' in report, rule
    bucket = f"{STACK_NAME}/Console/Bucket/Resource"
    for rule in ("S1", "S10"):
        assert f'"AwsSolutions-{rule}","{bucket}","Compliant"' in report, rule


def synthesize(directory: Path, **context: str) -> tuple[dict[str, Any], Path]:
    """The stack in-process with ``context``, its assets staged in ``directory``."""
    app = App(context=context, outdir=str(directory))
    AssetsRegistryStack(app, "Probe")
    assembly = app.synth()
    return assembly.get_stack_by_name("Probe").template, Path(assembly.directory)


def test_an_external_issuer_signs_the_console_in_with_the_context_endpoints(
    tmp_path: Path,
) -> None:
    template, directory = synthesize(tmp_path, **EXTERNAL)
    assert not [r for r in template["Resources"].values() if r["Type"].startswith("AWS::Cognito")]
    [policy] = resources_of(template, "AWS::CloudFront::ResponseHeadersPolicy").values()
    headers = policy["Properties"]["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]
    parsed = directives(render(headers["ContentSecurityPolicy"]["ContentSecurityPolicy"]))
    issuer_origins = ["https://login.example.com", "https://tokens.example.com"]
    assert parsed["connect-src"][-2:] == issuer_origins
    assert parsed["form-action"] == ["'self'", *issuer_origins]
    config = config_json(template, directory)
    assert set(config["auth"]) == COGNITO_AUTH_KEYS
    assert config["auth"]["client_id"] == "console-spa"
    assert config["auth"]["token_url"] == "https://tokens.example.com/oauth/token"
    assert config["auth"]["redirect_uri"] == f"{console_origin(template)}/console/"
    assert "ConsoleClientId" not in template["Outputs"]
    assert "ConsoleUrl" in template["Outputs"]


def test_without_the_console_keys_its_config_says_sign_in_is_not_configured(
    tmp_path: Path,
) -> None:
    issuer_only = {k: v for k, v in EXTERNAL.items() if k.startswith("auth_")}
    template, directory = synthesize(tmp_path, **issuer_only)
    config = config_json(template, directory)
    assert config["auth"] == {"kind": "none"}
    assert set(config) == CONFIG_KEYS


def test_external_sign_in_reads_the_four_context_keys() -> None:
    auth = external_sign_in(EXTERNAL)
    assert auth == {
        "kind": "cognito",
        "authorize_url": "https://login.example.com/authorize",
        "token_url": "https://tokens.example.com/oauth/token",
        "logout_url": "https://login.example.com/v2/logout",
        "client_id": "console-spa",
    }
    assert sign_in_origins(auth) == ["https://login.example.com", "https://tokens.example.com"]
    assert external_sign_in({"console_client_id": ""}) is None


def test_partial_or_plain_http_console_sign_in_is_refused() -> None:
    with pytest.raises(ValueError, match="console_token_url, console_logout_url too"):
        external_sign_in(
            {k: v for k, v in EXTERNAL.items() if "token" not in k and "logout" not in k}
        )
    with pytest.raises(ValueError, match="console_token_url must be an https:// URL"):
        external_sign_in({**EXTERNAL, "console_token_url": "http://tokens.example.com/token"})


def test_console_context_keys_need_an_external_issuer() -> None:
    console_keys = {k: v for k, v in EXTERNAL.items() if k.startswith("console_")}
    with pytest.raises(ValueError, match="are for an external issuer"):
        AssetsRegistryStack(App(context=console_keys), "Probe")


def test_the_csp_is_the_one_cloudfront_can_hold() -> None:
    # CloudFront's limit on a response headers policy's CSP is 1783 characters.
    policy = csp(
        api_sources=["https://*.execute-api.ap-southeast-2.amazonaws.com"],
        upload_sources=["https://*.s3.ap-southeast-2.amazonaws.com", "https://*.s3.amazonaws.com"],
        sign_in=["https://assets-123456789012.auth.ap-southeast-2.amazoncognito.com"],
    )
    assert len(policy) < 1783
    assert re.search(r"script-src 'self';", policy)
