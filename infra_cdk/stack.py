"""The Assets Registry stack: it only composes the capability constructs."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from infra_cdk import constants
from infra_cdk.constructs.api import ApiConstruct


class AssetsRegistryStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        core_layer = lambda_.LayerVersion(
            self,
            "CoreLayer",
            code=lambda_.Code.from_asset(str(constants.CORE_LAYER_DIR), exclude=["**/__pycache__"]),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="assets_core: models, logic, stores shared by every function",
        )
        deps_layer = lambda_.LayerVersion(
            self,
            "DepsLayer",
            code=lambda_.Code.from_asset(str(constants.DEPS_LAYER_DIR)),
            compatible_runtimes=[lambda_.Runtime.PYTHON_3_12],
            compatible_architectures=[lambda_.Architecture.ARM_64],
            description="Third-party dependencies, built by `make layer` for arm64",
        )
        mongodb_uri = self.node.try_get_context("mongodb_uri") or ""
        self.api = ApiConstruct(
            self,
            "Api",
            layers=[core_layer, deps_layer],
            environment={"MONGODB_URI": mongodb_uri} if mongodb_uri else {},
        )
        CfnOutput(self, "ApiUrl", value=self.api.http_api.api_endpoint)
