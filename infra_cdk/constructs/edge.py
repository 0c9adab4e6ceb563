"""The edge, for a deployment reached from the internet: CloudFront in front of the HTTP API,
with an AWS WAF web ACL that limits each client IP address (HTTP APIs have no usage plans and
cannot be associated with AWS WAF themselves).

Two parts, in two stacks: a web ACL of scope CLOUDFRONT exists only in us-east-1
(``WebAclConstruct``, in the edge stack there), and the distribution (``EdgeConstruct``) sits
in the main stack next to the API it fronts and the secret it sends to it.

CloudFront adds ``X-Origin-Verify`` to every request it sends to the API, its value the
generated ``origin_verify_secret``: a function that compares the two refuses a caller that
goes around the edge to the API's own endpoint.
"""

from __future__ import annotations

import json

from aws_cdk import Stack
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_cloudfront as cloudfront
from aws_cdk import aws_cloudfront_origins as origins
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_wafv2 as wafv2
from constructs import Construct

ORIGIN_VERIFY_HEADER = "X-Origin-Verify"
# AWS WAF's range for a rate-based rule's limit, per evaluation window.
RATE_LIMIT_RANGE = range(10, 2_000_000_000 + 1)
EVALUATION_WINDOW_S = 300
# The managed rule groups, in the order they run after the rate limit. Rules of the common
# set that legitimate calls break only count: SizeRestrictions_BODY (8 KB; the API takes JSON
# and ZIP bodies up to API Gateway's 10 MB), the body rules that match what asset documents
# and filters hold (HTML in descriptions, relative paths, URLs with addresses),
# SizeRestrictions_QUERYSTRING (2 KB; GraphQL queries by GET) and NoUserAgent_HEADER
# (machine clients).
MANAGED_RULE_GROUPS: dict[str, list[str]] = {
    "AWSManagedRulesAmazonIpReputationList": [],
    "AWSManagedRulesCommonRuleSet": [
        "SizeRestrictions_BODY",
        "CrossSiteScripting_BODY",
        "GenericLFI_BODY",
        "GenericRFI_BODY",
        "SizeRestrictions_QUERYSTRING",
        "NoUserAgent_HEADER",
    ],
    "AWSManagedRulesKnownBadInputsRuleSet": [],
}
RATE_LIMITED_BODY = "RateLimited"


def client_rate_limit(value: object) -> int:
    """The ``client_rate_limit`` context value as AWS WAF takes it, or a ValueError naming
    the range."""
    text = str(value).strip()
    whole = text.isascii() and text.isdigit()
    if isinstance(value, bool) or not whole or int(text) not in RATE_LIMIT_RANGE:
        raise ValueError(
            f"client_rate_limit must be a whole number of requests per client IP address per "
            f"5 minutes from {RATE_LIMIT_RANGE.start} to {RATE_LIMIT_RANGE.stop - 1:,} "
            f"(AWS WAF's range), not {value!r}"
        )
    return int(text)


def _visibility(metric: str) -> wafv2.CfnWebACL.VisibilityConfigProperty:
    return wafv2.CfnWebACL.VisibilityConfigProperty(
        cloud_watch_metrics_enabled=True, metric_name=metric, sampled_requests_enabled=True
    )


class WebAclConstruct(Construct):
    """The web ACL CloudFront uses: a rate limit per client IP address (answered 429 in the
    API's error shape), then AWS's managed rule groups; everything else is allowed."""

    def __init__(self, scope: Construct, construct_id: str, *, rate_limit: int) -> None:
        super().__init__(scope, construct_id)
        self.rate_limit = client_rate_limit(rate_limit)
        rate_rule = wafv2.CfnWebACL.RuleProperty(
            name="RateLimitPerClientIp",
            priority=0,
            statement=wafv2.CfnWebACL.StatementProperty(
                rate_based_statement=wafv2.CfnWebACL.RateBasedStatementProperty(
                    limit=self.rate_limit,
                    aggregate_key_type="IP",
                    evaluation_window_sec=EVALUATION_WINDOW_S,
                )
            ),
            action=wafv2.CfnWebACL.RuleActionProperty(
                block=wafv2.CfnWebACL.BlockActionProperty(
                    custom_response=wafv2.CfnWebACL.CustomResponseProperty(
                        response_code=429, custom_response_body_key=RATE_LIMITED_BODY
                    )
                )
            ),
            visibility_config=_visibility("RateLimitPerClientIp"),
        )
        managed = [
            wafv2.CfnWebACL.RuleProperty(
                name=group,
                priority=priority,
                statement=wafv2.CfnWebACL.StatementProperty(
                    managed_rule_group_statement=wafv2.CfnWebACL.ManagedRuleGroupStatementProperty(
                        vendor_name="AWS",
                        name=group,
                        rule_action_overrides=[
                            wafv2.CfnWebACL.RuleActionOverrideProperty(
                                name=rule,
                                action_to_use=wafv2.CfnWebACL.RuleActionProperty(count={}),
                            )
                            for rule in counted
                        ]
                        or None,
                    )
                ),
                override_action=wafv2.CfnWebACL.OverrideActionProperty(none={}),
                visibility_config=_visibility(group),
            )
            for priority, (group, counted) in enumerate(MANAGED_RULE_GROUPS.items(), start=1)
        ]
        rate_limited = {
            "success": False,
            "error": {
                "code": "RATE_LIMITED",
                "message": f"More than {self.rate_limit} requests from this address in 5 "
                "minutes: try again later",
            },
        }
        self.web_acl = wafv2.CfnWebACL(
            self,
            "WebAcl",
            scope="CLOUDFRONT",
            description="Assets Registry edge: a rate limit per client IP, AWS managed rules",
            default_action=wafv2.CfnWebACL.DefaultActionProperty(allow={}),
            rules=[rate_rule, *managed],
            custom_response_bodies={
                RATE_LIMITED_BODY: wafv2.CfnWebACL.CustomResponseBodyProperty(
                    content_type="APPLICATION_JSON",
                    content=json.dumps(rate_limited, separators=(",", ":")),
                )
            },
            visibility_config=_visibility("AssetsRegistryEdge"),
        )

    @property
    def arn(self) -> str:
        return self.web_acl.attr_arn


class EdgeConstruct(Construct):
    """A CloudFront distribution whose one origin is the HTTP API: HTTPS only, nothing cached,
    every method, every viewer header but Host (so ``Authorization`` reaches the JWT
    authorizer, and ``Origin`` and the preflights' ``Access-Control-Request-*`` the API's CORS
    for the console), the web ACL attached, access logs to ``log_bucket``.

    For the functions' check: ``origin_verify_header`` names the header CloudFront adds, and
    ``origin_verify_secret`` holds its value (generated at deploy; CloudFormation resolves it
    into the distribution's configuration, so the template never holds it)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        http_api: apigw.IHttpApi,
        web_acl_arn: str,
        log_bucket: s3.IBucket,
    ) -> None:
        super().__init__(scope, construct_id)
        stack = Stack.of(self)
        self.origin_verify_header = ORIGIN_VERIFY_HEADER
        self.origin_verify_secret = secretsmanager.Secret(
            self,
            "OriginVerifySecret",
            description=f"The {ORIGIN_VERIFY_HEADER} value CloudFront sends to the API",
            generate_secret_string=secretsmanager.SecretStringGenerator(
                password_length=64, exclude_punctuation=True
            ),
        )
        self.origin_domain = f"{http_api.api_id}.execute-api.{stack.region}.{stack.url_suffix}"
        origin = origins.HttpOrigin(
            self.origin_domain,
            protocol_policy=cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
            origin_ssl_protocols=[cloudfront.OriginSslPolicy.TLS_V1_2],
            custom_headers={
                # A {{resolve:secretsmanager:...}} dynamic reference, not the value.
                ORIGIN_VERIFY_HEADER: self.origin_verify_secret.secret_value.unsafe_unwrap()
            },
        )
        self.distribution = cloudfront.Distribution(
            self,
            "Distribution",
            comment="Assets Registry API behind AWS WAF (per-client rate limits)",
            default_behavior=cloudfront.BehaviorOptions(
                origin=origin,
                viewer_protocol_policy=cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
                allowed_methods=cloudfront.AllowedMethods.ALLOW_ALL,
                cache_policy=cloudfront.CachePolicy.CACHING_DISABLED,
                # With caching disabled, forwarding all viewer headers includes Authorization;
                # Host stays CloudFront's, as API Gateway needs its own name.
                origin_request_policy=cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
            ),
            web_acl_id=web_acl_arn,
            http_version=cloudfront.HttpVersion.HTTP2_AND_3,
            enable_logging=True,
            log_bucket=log_bucket,
            log_file_prefix="cloudfront/",
        )

    @property
    def url(self) -> str:
        return f"https://{self.distribution.distribution_domain_name}"
