"""The HTTP API: one Lambda function per API group of the route table, a route per entry
(each behind the JWT authorizer unless it is public by design: health, openapi.json, docs),
default throttling, CORS for the web console's origin, and access logs."""

from __future__ import annotations

from collections.abc import Sequence

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

from assets_core.routes import API_GROUPS, all_routes, is_public
from infra_cdk.constructs.function import FunctionContext, make_function

ACCESS_LOG_FORMAT = (
    '{"requestId":"$context.requestId","ip":"$context.identity.sourceIp",'
    '"requestTime":"$context.requestTime","routeKey":"$context.routeKey",'
    '"status":"$context.status","responseLength":"$context.responseLength",'
    '"integrationError":"$context.integrationErrorMessage"}'
)


def route_methods() -> list[str]:
    """The HTTP methods the route table uses (a preflight asks for one of them)."""
    return sorted({route.method for _, route in all_routes()})


class ApiConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: FunctionContext,
        rate_limit: int,
        burst_limit: int,
        authorizer: apigw.IHttpRouteAuthorizer | None,
        cors_origins: Sequence[str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            description="Assets Registry API",
            create_default_stage=False,
            # Browsers may call only from the web console (bearer tokens, no cookies); other
            # clients do not send CORS requests and are not affected.
            cors_preflight=apigw.CorsPreflightOptions(
                allow_origins=list(cors_origins),
                allow_methods=[apigw.CorsHttpMethod(method) for method in route_methods()],
                allow_headers=["content-type", "authorization"],
                max_age=Duration.hours(1),
            ),
        )
        self.access_logs = logs.LogGroup(self, "AccessLogs", retention=logs.RetentionDays.ONE_MONTH)
        self.stage = apigw.HttpStage(
            self,
            "DefaultStage",
            http_api=self.http_api,
            stage_name="$default",
            auto_deploy=True,
            throttle=apigw.ThrottleSettings(rate_limit=rate_limit, burst_limit=burst_limit),
        )
        stage_resource = self.stage.node.default_child
        assert isinstance(stage_resource, apigw.CfnStage)
        stage_resource.access_log_settings = apigw.CfnStage.AccessLogSettingsProperty(
            destination_arn=self.access_logs.log_group_arn, format=ACCESS_LOG_FORMAT
        )
        self.functions: dict[str, lambda_.Function] = {}
        self.public_routes: list[apigw.HttpRoute] = []
        for group in API_GROUPS:
            function = make_function(
                self,
                group.name,
                context=context,
                code_dir=group.code_dir,
                description=group.description,
                memory_mb=group.memory_mb,
                timeout_s=group.timeout_s,
                reserved_concurrency=group.reserved_concurrency,
            )
            self.functions[group.name] = function
            integration = HttpLambdaIntegration(
                f"{group.name}-integration",
                function,
                payload_format_version=apigw.PayloadFormatVersion.VERSION_2_0,
            )
            for route in group.routes:
                open_route = authorizer is None or is_public(route)
                added = self.http_api.add_routes(
                    path=route.path,
                    methods=[apigw.HttpMethod(route.method)],
                    integration=integration,
                    authorizer=apigw.HttpNoneAuthorizer() if open_route else authorizer,
                )
                if open_route:
                    self.public_routes.extend(added)

    @property
    def url(self) -> str:
        return self.http_api.api_endpoint
