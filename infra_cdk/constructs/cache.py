"""Upload status: ElastiCache Serverless (Valkey), reachable only from the functions, TLS."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_elasticache as elasticache
from constructs import Construct

from infra_cdk import constants


class CacheConstruct(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        clients: ec2.ISecurityGroup,
    ) -> None:
        super().__init__(scope, construct_id)
        self.security_group = ec2.SecurityGroup(
            self,
            "SecurityGroup",
            vpc=vpc,
            description="Upload status cache",
            allow_all_outbound=False,
        )
        port = constants.FUNCTION_SG_PORTS["redis"]
        self.security_group.add_ingress_rule(
            clients, ec2.Port.tcp(port), "Valkey from the Assets Registry functions"
        )
        self.cache = elasticache.CfnServerlessCache(
            self,
            "Cache",
            engine="valkey",
            serverless_cache_name=f"{constants.SERVICE_NAME}-status",
            description="Assets Registry upload status",
            major_engine_version="8",
            subnet_ids=vpc.select_subnets(subnet_type=subnets.subnet_type).subnet_ids,
            security_group_ids=[self.security_group.security_group_id],
            cache_usage_limits=elasticache.CfnServerlessCache.CacheUsageLimitsProperty(
                data_storage=elasticache.CfnServerlessCache.DataStorageProperty(
                    maximum=1, unit="GB"
                ),
            ),
        )
        # Serverless caches always use TLS: rediss://
        self.url = f"rediss://{self.cache.attr_endpoint_address}:{self.cache.attr_endpoint_port}/0"
