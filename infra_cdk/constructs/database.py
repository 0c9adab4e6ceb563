"""The metadata store: an Amazon DocumentDB cluster in the VPC (TLS, generated credentials in
Secrets Manager), or an existing MongoDB (Atlas) whose URI is kept in a secret."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_docdb as docdb
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from infra_cdk import constants


class DatabaseConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        mode: str,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        clients: ec2.ISecurityGroup,
        uri_secret_name: str,
        instance_type: str,
        retain: bool,
    ) -> None:
        super().__init__(scope, construct_id)
        self.cluster: docdb.DatabaseCluster | None = None
        if mode == "documentdb":
            self.security_group = ec2.SecurityGroup(
                self,
                "SecurityGroup",
                vpc=vpc,
                description="DocumentDB",
                allow_all_outbound=False,
            )
            self.security_group.add_ingress_rule(
                clients,
                ec2.Port.tcp(constants.FUNCTION_SG_PORTS["mongodb"]),
                "MongoDB protocol from the Assets Registry functions",
            )
            parameters = docdb.ClusterParameterGroup(
                self,
                "Parameters",
                family="docdb5.0",
                description="TLS required; audit log of authentication and DDL events",
                parameters={"tls": "enabled", "audit_logs": "enabled"},
            )
            self.cluster = docdb.DatabaseCluster(
                self,
                "Cluster",
                master_user=docdb.Login(username="registry"),
                engine_version="5.0.0",
                parameter_group=parameters,
                instance_type=ec2.InstanceType(instance_type),
                instances=1,
                vpc=vpc,
                vpc_subnets=subnets,
                security_group=self.security_group,
                storage_encrypted=True,
                deletion_protection=retain,
                backup=docdb.BackupProps(retention=Duration.days(7)),
                export_audit_logs_to_cloud_watch=True,
                export_profiler_logs_to_cloud_watch=True,
                removal_policy=RemovalPolicy.SNAPSHOT if retain else RemovalPolicy.DESTROY,
            )
            assert self.cluster.secret is not None
            self.secret: secretsmanager.ISecret = self.cluster.secret
        elif mode == "uri":
            if not uri_secret_name:
                raise ValueError(
                    "mongodb_mode=uri needs -c mongodb_uri_secret_name=<a Secrets Manager secret "
                    "holding the MongoDB URI>"
                )
            self.secret = secretsmanager.Secret.from_secret_name_v2(
                self, "UriSecret", uri_secret_name
            )
        else:
            raise ValueError(f"mongodb_mode must be 'documentdb' or 'uri', not '{mode}'")
