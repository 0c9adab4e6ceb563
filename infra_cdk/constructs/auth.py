"""Who may call the API: a JWT authorizer on the HTTP API, with its tokens from a Cognito user
pool the stack creates, or from an external OIDC issuer given by context.

The user pool has one group per role (``assets-reader``, ``assets-writer``, ``assets-admin``:
the ``cognito:groups`` claim) and a resource server whose scopes are the same roles (the
``scope`` claim of machine tokens). Three app clients: the CLI's (public: authorization code
with PKCE, no secret), one for machines (confidential: client credentials) and the web
console's (public: authorization code, PKCE done by the app, its callback the console's
CloudFront URL; added by ``add_console_client`` once that distribution exists). The authorizer
accepts access tokens of any of them (a Cognito access token names its client in
``client_id``, which API Gateway checks against the audience).
"""

from __future__ import annotations

from functools import cached_property

from aws_cdk import Aws, Duration, RemovalPolicy
from aws_cdk import aws_apigatewayv2_authorizers as authorizers
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from assets_core.identity import ROLES

RESOURCE_SERVER = "assets"
# Where `assets login` listens for the authorization code on the user's machine.
CLI_CALLBACK = "http://localhost:8765/callback"
# What the console asks for: who the user is; its roles come with the access token's groups.
CONSOLE_SCOPES = [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL, cognito.OAuthScope.PROFILE]


class AuthConstruct(Construct):
    """The stack builds none for an open API (``-c open_api=true``). ``authorizer`` is built
    on first use from the audience as it stands: add the console's client before."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        issuer: str = "",
        audience: str = "",
        domain_prefix: str = "",
        retain: bool = True,
    ) -> None:
        super().__init__(scope, construct_id)
        self.user_pool: cognito.UserPool | None = None
        self.clients: list[cognito.UserPoolClient] = []
        self.domain: cognito.UserPoolDomain | None = None
        self.console_client: cognito.UserPoolClient | None = None
        if issuer:
            if not audience:
                raise ValueError("auth_issuer needs auth_audience: the tokens' aud or client_id")
            self.issuer = issuer
            self.audience = [part for part in audience.split(",") if part]
        else:
            self._cognito(domain_prefix, retain)

    @cached_property
    def authorizer(self) -> authorizers.HttpJwtAuthorizer:
        return authorizers.HttpJwtAuthorizer(
            "JwtAuthorizer",
            self.issuer,
            jwt_audience=self.audience,
            identity_source=["$request.header.Authorization"],
        )

    def add_console_client(self, console_url: str) -> cognito.UserPoolClient:
        """The web console's client (Cognito pools only): public, authorization code only
        (the app does PKCE), signing in and out at ``console_url``; its tokens join the
        audience."""
        if self.user_pool is None:
            raise ValueError("the console's Cognito client needs the stack's user pool")
        if "authorizer" in self.__dict__:
            raise RuntimeError("add the console's client before the authorizer is built")
        self.console_client = self.user_pool.add_client(
            "ConsoleClient",
            generate_secret=False,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=CONSOLE_SCOPES,
                callback_urls=[console_url],
                logout_urls=[console_url],
            ),
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            id_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.hours(12),
        )
        # Only refreshing tokens outside the hosted pages: CDK's AuthFlow has no such choice,
        # and an absent list would let Cognito allow SRP and custom authentication too.
        resource = self.console_client.node.default_child
        assert isinstance(resource, cognito.CfnUserPoolClient)
        resource.explicit_auth_flows = ["ALLOW_REFRESH_TOKEN_AUTH"]
        self.clients.append(self.console_client)
        self.audience.append(self.console_client.user_pool_client_id)
        return self.console_client

    def _cognito(self, domain_prefix: str, retain: bool) -> None:
        pool = cognito.UserPool(
            self,
            "UserPool",
            self_sign_up_enabled=False,  # an admin creates users (README: Security)
            sign_in_aliases=cognito.SignInAliases(email=True, username=True),
            password_policy=cognito.PasswordPolicy(
                min_length=12,
                require_digits=True,
                require_lowercase=True,
                require_uppercase=True,
                require_symbols=True,
                temp_password_validity=Duration.days(3),
            ),
            mfa=cognito.Mfa.REQUIRED,
            mfa_second_factor=cognito.MfaSecondFactor(sms=False, otp=True),
            feature_plan=cognito.FeaturePlan.PLUS,
            standard_threat_protection_mode=cognito.StandardThreatProtectionMode.FULL_FUNCTION,
            account_recovery=cognito.AccountRecovery.EMAIL_ONLY,
            removal_policy=RemovalPolicy.RETAIN if retain else RemovalPolicy.DESTROY,
        )
        for role in ROLES:
            cognito.CfnUserPoolGroup(
                self,
                f"Group-{role}",
                user_pool_id=pool.user_pool_id,
                group_name=role,
                description=f"Callers with the {role} role",
            )
        scopes = [
            cognito.ResourceServerScope(scope_name=role, scope_description=f"The {role} role")
            for role in ROLES
        ]
        server = pool.add_resource_server(
            "ResourceServer", identifier=RESOURCE_SERVER, scopes=scopes
        )
        oauth_scopes = [cognito.OAuthScope.resource_server(server, scope) for scope in scopes]
        cli = pool.add_client(
            "CliClient",
            generate_secret=False,
            auth_flows=cognito.AuthFlow(user_srp=True),
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(authorization_code_grant=True),
                scopes=[cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL],
                callback_urls=[CLI_CALLBACK],
            ),
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
            refresh_token_validity=Duration.days(30),
        )
        machines = pool.add_client(
            "MachineClient",
            generate_secret=True,
            o_auth=cognito.OAuthSettings(
                flows=cognito.OAuthFlows(client_credentials=True),
                scopes=oauth_scopes,
            ),
            prevent_user_existence_errors=True,
            access_token_validity=Duration.hours(1),
        )
        # A Cognito domain prefix is unique within a region: the account's id makes it so.
        prefix = domain_prefix or f"assets-{Aws.ACCOUNT_ID}"
        self.domain = pool.add_domain(
            "Domain", cognito_domain=cognito.CognitoDomainOptions(domain_prefix=prefix)
        )
        self.user_pool = pool
        self.clients = [cli, machines]
        self.issuer = f"https://cognito-idp.{pool.stack.region}.amazonaws.com/{pool.user_pool_id}"
        self.audience = [client.user_pool_client_id for client in self.clients]

    @property
    def hosted_url(self) -> str | None:
        """The hosted sign-in pages' base URL (``https://<prefix>.auth.<region>...``), if
        the stack's pool has them."""
        return self.domain.base_url() if self.domain is not None else None
