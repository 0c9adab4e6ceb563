"""The VPC: two AZs of private subnets, an S3 gateway endpoint, interface endpoints for what
the functions call without NAT, flow logs, and the functions' security group."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct


class NetworkConstruct(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, nat_gateways: int) -> None:
        super().__init__(scope, construct_id)
        private_type = (
            ec2.SubnetType.PRIVATE_WITH_EGRESS if nat_gateways else ec2.SubnetType.PRIVATE_ISOLATED
        )
        subnets = [ec2.SubnetConfiguration(name="private", subnet_type=private_type, cidr_mask=22)]
        if nat_gateways:
            subnets.insert(
                0, ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC)
            )
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            max_azs=2,
            nat_gateways=nat_gateways,
            subnet_configuration=subnets,
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
            flow_logs={
                "FlowLogs": ec2.FlowLogOptions(
                    destination=ec2.FlowLogDestination.to_cloud_watch_logs(
                        logs.LogGroup(self, "FlowLogGroup", retention=logs.RetentionDays.ONE_MONTH)
                    ),
                    traffic_type=ec2.FlowLogTrafficType.REJECT,
                )
            },
        )
        self.subnets = ec2.SubnetSelection(subnet_type=private_type)
        self.function_security_group = ec2.SecurityGroup(
            self,
            "FunctionSecurityGroup",
            vpc=self.vpc,
            description="Assets Registry functions",
            allow_all_outbound=True,
        )
        if not nat_gateways:
            # Without NAT the functions reach these AWS APIs through private endpoints.
            for name, service in (
                ("SecretsManager", ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER),
                ("XRay", ec2.InterfaceVpcEndpointAwsService.XRAY),
                ("EventBridge", ec2.InterfaceVpcEndpointAwsService.EVENTBRIDGE),
            ):
                self.vpc.add_interface_endpoint(
                    name, service=service, subnets=self.subnets, private_dns_enabled=True
                )
