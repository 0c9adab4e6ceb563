"""The HTTP API: one Lambda function per API group of the route table, and a route per entry."""

from __future__ import annotations

from collections.abc import Mapping

from aws_cdk import Duration
from aws_cdk import aws_apigatewayv2 as apigw
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk.aws_apigatewayv2_integrations import HttpLambdaIntegration
from constructs import Construct

from assets_core.routes import API_GROUPS, ApiGroup
from infra_cdk import constants


class ApiConstruct(Construct):
    """API Gateway HTTP API (payload 2.0) in front of the API groups' functions."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        layers: list[lambda_.ILayerVersion],
        environment: Mapping[str, str],
    ) -> None:
        super().__init__(scope, construct_id)
        self.http_api = apigw.HttpApi(
            self,
            "HttpApi",
            description="Assets Registry API",
            cors_preflight=apigw.CorsPreflightOptions(
                allow_origins=["*"],
                allow_methods=[apigw.CorsHttpMethod.ANY],
                allow_headers=["content-type", "authorization"],
                max_age=Duration.hours(1),
            ),
        )
        self.functions: dict[str, lambda_.Function] = {}
        for group in API_GROUPS:
            function = self._function(group, layers, environment)
            self.functions[group.name] = function
            integration = HttpLambdaIntegration(
                f"{group.name}-integration",
                function,
                payload_format_version=apigw.PayloadFormatVersion.VERSION_2_0,
            )
            for route in group.routes:
                self.http_api.add_routes(
                    path=route.path,
                    methods=[apigw.HttpMethod(route.method)],
                    integration=integration,
                )

    def _function(
        self,
        group: ApiGroup,
        layers: list[lambda_.ILayerVersion],
        environment: Mapping[str, str],
    ) -> lambda_.Function:
        log_group = logs.LogGroup(
            self,
            f"{group.name}-logs",
            retention=logs.RetentionDays.ONE_MONTH,
        )
        return lambda_.Function(
            self,
            group.name,
            description=group.description,
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(constants.ROOT / group.code_dir)),
            layers=layers,
            memory_size=group.memory_mb,
            timeout=Duration.seconds(group.timeout_s),
            tracing=lambda_.Tracing.ACTIVE,
            log_group=log_group,
            environment={
                "POWERTOOLS_SERVICE_NAME": constants.SERVICE_NAME,
                "POWERTOOLS_METRICS_NAMESPACE": constants.METRICS_NAMESPACE,
                "POWERTOOLS_LOG_LEVEL": "INFO",
                **environment,
            },
        )
