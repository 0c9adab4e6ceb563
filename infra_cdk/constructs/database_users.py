"""The database users the functions connect as (DocumentDB mode): ``registry_reader`` (the
``read`` role) for the functions that only read, ``registry_writer`` (``readWrite``) for the
others. Their passwords are secrets of their own, attached to the cluster; a custom resource
run at deploy time creates or updates the users with the master credentials, which no other
function holds."""

from __future__ import annotations

import json

from aws_cdk import CustomResource
from aws_cdk import aws_docdb as docdb
from aws_cdk import aws_logs as logs
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import custom_resources as cr
from constructs import Construct

from assets_core.routes import DATABASE_USERS, READ_ONLY, READ_WRITE
from infra_cdk.constructs.function import FunctionContext, spec_function

USER_NAMES = {READ_ONLY: "registry_reader", READ_WRITE: "registry_writer"}


class DatabaseUsersConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        context: FunctionContext,
        cluster: docdb.DatabaseCluster,
        master: secretsmanager.ISecret,
        database: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.secrets: dict[str, secretsmanager.ISecret] = {}
        for access, username in USER_NAMES.items():
            secret = docdb.DatabaseSecret(
                self, f"{username}Secret", username=username, master_secret=master
            )
            # host, port and the rest of the cluster's connection fields, as the master's
            self.secrets[access] = secret.attach(cluster)
        self.function = spec_function(
            self,
            "Function",
            DATABASE_USERS,
            context=context,
            environment={
                "MASTER_SECRET_ARN": master.secret_arn,
                "MONGODB_DATABASE": database,
                "USERS": json.dumps(
                    {self.secrets[a].secret_arn: a for a in USER_NAMES},
                ),
            },
        )
        master.grant_read(self.function)
        for attached in self.secrets.values():
            attached.grant_read(self.function)
        provider = cr.Provider(
            self,
            "Provider",
            on_event_handler=self.function,
            log_group=logs.LogGroup(self, "ProviderLogs", retention=logs.RetentionDays.ONE_MONTH),
        )
        self.resource = CustomResource(
            self,
            "Users",
            service_token=provider.service_token,
            resource_type="Custom::DatabaseUsers",
            # Runs again whenever what it sets up changes: the cluster (a new one has no
            # users), a user's secret (a new password), the database or the roles.
            properties={
                "Cluster": cluster.cluster_identifier,
                "Database": database,
                "Users": {
                    username: {"Secret": self.secrets[access].secret_arn, "Access": access}
                    for access, username in USER_NAMES.items()
                },
            },
        )
        self.resource.node.add_dependency(cluster)

    def secret_for(self, access: str) -> secretsmanager.ISecret:
        return self.secrets[access]
