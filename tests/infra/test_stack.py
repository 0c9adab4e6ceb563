"""The synthesized stack, part by part: functions, API, storage, queues, network, grants."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from aws_cdk.assertions import Match

from assets_core.keys import CREDENTIALS_SECRET_PREFIX
from assets_core.logic.janitor import SWEEP_MIN_AGE
from assets_core.routes import (
    API_GROUPS,
    ARCHIVE_BUILDER,
    DATABASE_USERS,
    DOWNLOAD,
    INGEST,
    JANITOR,
    OUTBOX,
    PURGE,
    READ_ONLY,
    READ_WRITE,
    all_routes,
    reserved_concurrency,
)
from tests.infra.conftest import Synthesized


def functions_by_description(s: Synthesized) -> dict[str, tuple[str, dict[str, Any]]]:
    return {
        r["Properties"]["Description"]: (logical_id, r["Properties"])
        for logical_id, r in s.resources("AWS::Lambda::Function").items()
        if "Description" in r["Properties"]
    }


def app_functions(s: Synthesized) -> dict[str, tuple[str, dict[str, Any]]]:
    described = functions_by_description(s)
    names = {g.description: g.name for g in API_GROUPS}
    names[INGEST.description] = INGEST.name
    names[DOWNLOAD.description] = DOWNLOAD.name
    names[ARCHIVE_BUILDER.description] = ARCHIVE_BUILDER.name
    names[JANITOR.description] = JANITOR.name
    names[PURGE.description] = PURGE.name
    names[OUTBOX.description] = OUTBOX.name
    names[DATABASE_USERS.description] = DATABASE_USERS.name
    return {names[d]: value for d, value in described.items() if d in names}


def test_every_function_is_python_313_arm64_traced_in_the_vpc(synthesized: Synthesized) -> None:
    functions = app_functions(synthesized)
    outside = {DOWNLOAD.name, ARCHIVE_BUILDER.name}  # they read only S3
    assert set(functions) == {g.name for g in API_GROUPS} | outside | {
        INGEST.name,
        JANITOR.name,
        PURGE.name,
        OUTBOX.name,
        DATABASE_USERS.name,
    }
    for name, (_, props) in functions.items():
        assert props["Runtime"] == "python3.13", name
        assert props["Architectures"] == ["arm64"], name
        assert props["TracingConfig"] == {"Mode": "Active"}, name
        assert len(props["Layers"]) == 2, name
        env = props["Environment"]["Variables"]
        assert env["POWERTOOLS_SERVICE_NAME"] == "assets-registry"
        if name in outside:
            assert "VpcConfig" not in props, name
            assert "MONGODB_SECRET_ARN" not in env, name
            continue
        assert props["VpcConfig"]["SubnetIds"], name
        # the users' creator connects with the master secret (MASTER_SECRET_ARN)
        connects = {"MASTER_SECRET_ARN"} if name == DATABASE_USERS.name else {"MONGODB_SECRET_ARN"}
        assert {
            "POWERTOOLS_METRICS_NAMESPACE",
            "POWERTOOLS_LOG_LEVEL",
            "BUCKET_NAME",
            "REDIS_URL",
            *connects,
        } <= set(env)
        assert "LoggingConfig" in props, name


def test_memory_and_timeouts_per_group(synthesized: Synthesized) -> None:
    functions = app_functions(synthesized)
    for group in API_GROUPS:
        props = functions[group.name][1]
        assert (props["MemorySize"], props["Timeout"]) == (group.memory_mb, group.timeout_s)
    assert functions[INGEST.name][1]["Timeout"] == 900
    assert functions[INGEST.name][1]["EphemeralStorage"] == {"Size": 512}


def test_every_function_reserves_its_concurrency(synthesized: Synthesized) -> None:
    functions = app_functions(synthesized)
    expected = {g.name: g.reserved_concurrency for g in API_GROUPS}
    specs = (INGEST, JANITOR, PURGE, OUTBOX, DOWNLOAD, ARCHIVE_BUILDER, DATABASE_USERS)
    expected.update({f.name: f.reserved_concurrency for f in specs})
    reserved = {
        name: props.get("ReservedConcurrentExecutions") for name, (_, props) in functions.items()
    }
    assert reserved == expected
    assert sum(expected.values()) == reserved_concurrency()
    # The queues never hand a function more messages at once than it may run
    mappings = synthesized.resources("AWS::Lambda::EventSourceMapping").values()
    limits = sorted(m["Properties"]["ScalingConfig"]["MaximumConcurrency"] for m in mappings)
    assert limits == sorted([2, INGEST.reserved_concurrency, ARCHIVE_BUILDER.reserved_concurrency])
    assert JANITOR.reserved_concurrency >= 2


def test_ingest_runs_with_a_fixed_mmap_threshold(synthesized: Synthesized) -> None:
    # glibc reads it when the process starts: it has to be in the function's environment
    env = app_functions(synthesized)[INGEST.name][1]["Environment"]["Variables"]
    assert env["MALLOC_MMAP_THRESHOLD_"] == "262144"


def test_log_groups_keep_a_month(synthesized: Synthesized) -> None:
    groups = synthesized.resources("AWS::Logs::LogGroup")
    assert groups
    assert all(g["Properties"].get("RetentionInDays") == 30 for g in groups.values())


def test_http_api_routes_throttling_cors_and_access_logs(synthesized: Synthesized) -> None:
    t = synthesized.assertions
    t.resource_count_is("AWS::ApiGatewayV2::Api", 1)
    [console] = synthesized.resources("AWS::CloudFront::Distribution")
    t.has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {
            "ProtocolType": "HTTP",
            # Browsers may call from the console only (test_console.py)
            "CorsConfiguration": Match.object_like(
                {
                    "AllowOrigins": [
                        {"Fn::Join": ["", ["https://", {"Fn::GetAtt": [console, "DomainName"]}]]}
                    ]
                }
            ),
        },
    )
    t.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {
            "StageName": "$default",
            "AutoDeploy": True,
            "DefaultRouteSettings": {"ThrottlingBurstLimit": 200, "ThrottlingRateLimit": 100},
            "AccessLogSettings": Match.object_like({"DestinationArn": Match.any_value()}),
        },
    )
    routes = synthesized.resources("AWS::ApiGatewayV2::Route")
    keys = sorted(r["Properties"]["RouteKey"] for r in routes.values())
    assert keys == sorted(route.route_key for _, route in all_routes())


def test_every_route_reaches_its_groups_function(synthesized: Synthesized) -> None:
    functions = {name: logical_id for name, (logical_id, _) in app_functions(synthesized).items()}
    integrations = synthesized.resources("AWS::ApiGatewayV2::Integration")
    group_of = {route.route_key: group.name for group, route in all_routes()}
    for route in synthesized.resources("AWS::ApiGatewayV2::Route").values():
        target = route["Properties"]["Target"]["Fn::Join"][1][1]["Ref"]
        integration = integrations[target]["Properties"]
        assert integration["PayloadFormatVersion"] == "2.0"
        function_id = integration["IntegrationUri"]["Fn::GetAtt"][0]
        assert function_id == functions[group_of[route["Properties"]["RouteKey"]]]


def test_bucket_is_private_encrypted_ssl_only_with_cors_and_lifecycle(
    synthesized: Synthesized,
) -> None:
    buckets = synthesized.resources("AWS::S3::Bucket")
    main = next(b for b in buckets.values() if "CorsConfiguration" in b["Properties"])["Properties"]
    assert main["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert main["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert {"POST", "PUT", "GET"} <= set(
        main["CorsConfiguration"]["CorsRules"][0]["AllowedMethods"]
    )
    rules = {r["Id"]: r for r in main["LifecycleConfiguration"]["Rules"]}
    assert rules["abort-incomplete-multipart"]["AbortIncompleteMultipartUpload"] == {
        "DaysAfterInitiation": 1
    }
    # An upload session never outlives the rule that aborts its store upload
    from assets_core.config import Settings

    ttl = Settings.model_fields["upload_session_ttl"]
    longest = next(m.le for m in ttl.metadata if getattr(m, "le", None) is not None)
    assert longest <= 1 * 24 * 3600
    assert rules["expire-incoming"]["Prefix"] == "incoming/"
    assert rules["expire-incoming"]["ExpirationInDays"] == 2
    assert "LoggingConfiguration" in main
    policies = synthesized.resources("AWS::S3::BucketPolicy")
    denies_plain_http = [
        s
        for p in policies.values()
        for s in p["Properties"]["PolicyDocument"]["Statement"]
        if s["Effect"] == "Deny"
        and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
    ]
    assert len(denies_plain_http) == len(buckets)


def test_the_sweep_spares_folders_a_delivery_of_their_message_may_still_write(
    synthesized: Synthesized,
) -> None:
    queues = synthesized.resources("AWS::SQS::Queue")
    main = next(q for q in queues.values() if "RedrivePolicy" in q["Properties"])["Properties"]
    last_delivery = main["RedrivePolicy"]["maxReceiveCount"] * main["VisibilityTimeout"]
    assert SWEEP_MIN_AGE.total_seconds() > last_delivery + INGEST.timeout_s


def test_uploads_notify_an_encrypted_queue_with_a_dead_letter_queue(
    synthesized: Synthesized,
) -> None:
    queues = synthesized.resources("AWS::SQS::Queue")
    main = next(q for q in queues.values() if "RedrivePolicy" in q["Properties"])["Properties"]
    assert main["VisibilityTimeout"] >= 6 * INGEST.timeout_s
    assert main["RedrivePolicy"]["maxReceiveCount"] == 3
    assert all(q["Properties"].get("SqsManagedSseEnabled") for q in queues.values())
    (notifications,) = synthesized.resources("Custom::S3BucketNotifications").values()
    configurations = notifications["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    filters = [
        {r["Name"]: r["Value"] for r in c["Filter"]["Key"]["FilterRules"]} for c in configurations
    ]
    assert {"prefix": "incoming/", "suffix": ".zip"} in filters
    assert {"prefix": "assetdb/"} in filters
    assert all(c["Events"] == ["s3:ObjectCreated:*"] for c in configurations)
    synthesized.assertions.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"BatchSize": 1, "FunctionResponseTypes": ["ReportBatchItemFailures"]},
    )


def test_vpc_two_azs_private_subnets_s3_endpoint_no_nat_by_default(
    synthesized: Synthesized,
) -> None:
    t = synthesized.assertions
    t.resource_count_is("AWS::EC2::VPC", 1)
    t.resource_count_is("AWS::EC2::NatGateway", 0)
    subnets = synthesized.resources("AWS::EC2::Subnet")
    assert len(subnets) == 2
    assert all(not s["Properties"].get("MapPublicIpOnLaunch") for s in subnets.values())
    endpoints = synthesized.resources("AWS::EC2::VPCEndpoint")
    kinds = {json.dumps(e["Properties"]["ServiceName"]) for e in endpoints.values()}
    assert any("s3" in k for k in kinds)
    assert any("secretsmanager" in k for k in kinds)
    t.resource_count_is("AWS::EC2::FlowLog", 1)


def test_cache_is_serverless_valkey_reachable_only_from_the_functions(
    synthesized: Synthesized,
) -> None:
    (cache,) = synthesized.resources("AWS::ElastiCache::ServerlessCache").values()
    assert cache["Properties"]["Engine"] == "valkey"
    ingress = synthesized.resources("AWS::EC2::SecurityGroupIngress")
    to_cache = [
        i["Properties"] for i in ingress.values() if i["Properties"].get("FromPort") == 6379
    ]
    assert len(to_cache) == 1
    assert "SourceSecurityGroupId" in to_cache[0]
    (_, zip_api) = app_functions(synthesized)["registry_zip"]
    redis_url = json.dumps(zip_api["Environment"]["Variables"]["REDIS_URL"])
    assert "rediss://" in redis_url


def test_documentdb_by_default_encrypted_with_tls(synthesized: Synthesized) -> None:
    t = synthesized.assertions
    t.has_resource_properties("AWS::DocDB::DBCluster", {"StorageEncrypted": True})
    t.has_resource_properties(
        "AWS::DocDB::DBClusterParameterGroup",
        {"Parameters": {"tls": "enabled", "audit_logs": "enabled"}},
    )
    # the master user's, the two users' the functions connect as, the download-link key
    t.resource_count_is("AWS::SecretsManager::Secret", 4)


def test_download_function_url_streams_and_shares_the_signing_key(synthesized: Synthesized) -> None:
    functions = app_functions(synthesized)
    download_id, download = functions[DOWNLOAD.name]
    synthesized.assertions.has_resource_properties(
        "AWS::Lambda::Url",
        {
            "InvokeMode": "RESPONSE_STREAM",
            "AuthType": "NONE",
            "TargetFunctionArn": {"Fn::GetAtt": [download_id, "Arn"]},
        },
    )
    env = download["Environment"]["Variables"]
    assert env["AWS_LAMBDA_EXEC_WRAPPER"] == "/var/task/bootstrap"
    zip_env = functions["registry_zip"][1]["Environment"]["Variables"]
    assert zip_env["DOWNLOAD_SIGNING_KEY_SECRET_ARN"] == env["DOWNLOAD_SIGNING_KEY_SECRET_ARN"]
    assert "DOWNLOAD_URL" in zip_env


def test_outputs(synthesized: Synthesized) -> None:
    assert {"ApiUrl", "DownloadUrl", "BucketName"} <= set(synthesized.template["Outputs"])


def policy_statements(s: Synthesized, function: str) -> list[dict[str, Any]]:
    _, props = app_functions(s)[function]
    role = props["Role"]["Fn::GetAtt"][0]
    statements = []
    for policy in s.resources("AWS::IAM::Policy").values():
        if {"Ref": role} in policy["Properties"]["Roles"]:
            statements += policy["Properties"]["PolicyDocument"]["Statement"]
    return statements


def actions(statements: list[dict[str, Any]]) -> set[str]:
    found: set[str] = set()
    for statement in statements:
        value = statement["Action"]
        found |= {value} if isinstance(value, str) else set(value)
    return found


def s3_resources(statements: list[dict[str, Any]]) -> str:
    return json.dumps(
        [s["Resource"] for s in statements if any(a.startswith("s3:") for a in actions([s]))]
    )


def prefixes_of(resources: str) -> set[str]:
    """The bucket key prefixes that S3 resources name (``.../<prefix>/*``)."""
    import re

    return set(re.findall(r'/([a-z]+)/\*"', resources))


def test_the_stream_and_the_builder_are_outside_the_vpc_and_fed_as_designed(
    synthesized: Synthesized,
) -> None:
    functions = app_functions(synthesized)
    for name in (DOWNLOAD.name, ARCHIVE_BUILDER.name):
        assert "VpcConfig" not in functions[name][1], name
    builder_id, builder = functions[ARCHIVE_BUILDER.name]
    queues = synthesized.resources("AWS::SQS::Queue")
    (queue_id,) = [k for k in queues if k.startswith("StorageArchiveQueue")]
    assert queues[queue_id]["Properties"]["VisibilityTimeout"] >= 6 * builder["Timeout"]
    assert "RedrivePolicy" in queues[queue_id]["Properties"]
    mappings = synthesized.resources("AWS::Lambda::EventSourceMapping").values()
    (fed,) = [
        m["Properties"] for m in mappings if m["Properties"]["FunctionName"] == {"Ref": builder_id}
    ]
    assert fed["EventSourceArn"] == {"Fn::GetAtt": [queue_id, "Arn"]}
    assert fed["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    (notifications,) = synthesized.resources("Custom::S3BucketNotifications").values()
    rules = [
        (c["Filter"]["Key"]["FilterRules"], c["QueueArn"])
        for c in notifications["Properties"]["NotificationConfiguration"]["QueueConfigurations"]
    ]
    assert (
        [{"Name": "suffix", "Value": ".build.json"}, {"Name": "prefix", "Value": "archives/"}],
        {"Fn::GetAtt": [queue_id, "Arn"]},
    ) in rules or (
        [{"Name": "prefix", "Value": "archives/"}, {"Name": "suffix", "Value": ".build.json"}],
        {"Fn::GetAtt": [queue_id, "Arn"]},
    ) in rules
    zip_env = functions["registry_zip"][1]["Environment"]["Variables"]
    assert zip_env["STREAM_MAX_BYTES"] == "150000000"
    (bucket,) = [
        b
        for k, b in synthesized.resources("AWS::S3::Bucket").items()
        if k.startswith("StorageBucket")
    ]
    expiring = {
        r.get("Prefix"): r.get("ExpirationInDays")
        for r in bucket["Properties"]["LifecycleConfiguration"]["Rules"]
    }
    assert expiring["downloads/"] == 1
    assert expiring["archives/"] == 7


def test_least_privilege(synthesized: Synthesized) -> None:
    for group in API_GROUPS:
        granted = actions(policy_statements(synthesized, group.name))
        assert "*" not in granted, group.name
        assert "s3:*" not in granted, group.name
    # The files routes presign and HEAD stored files: reads under assets/, nothing else
    query = policy_statements(synthesized, "registry_query")
    assert not any(a.startswith(("s3:Put", "s3:Delete")) for a in actions(query))
    assert prefixes_of(s3_resources(query)) == {"assets"}
    # The write routes only delete, under assets/: the content an admin's purge releases
    write = policy_statements(synthesized, "registry_write")
    assert {a for a in actions(write) if a.startswith("s3:")} == {"s3:DeleteObject*"}
    assert prefixes_of(s3_resources(write)) == {"assets"}
    for name in (
        "registry_graphql",
        "components",
        "dbregistry",
    ):
        assert not any(
            a.startswith("s3:") for a in actions(policy_statements(synthesized, name))
        ), name
    zip_statements = policy_statements(synthesized, "registry_zip")
    assert "/incoming/*" in s3_resources(zip_statements)
    assert "/assets/" not in s3_resources(zip_statements)
    deletes = [s for s in zip_statements if any(a.startswith("s3:Delete") for a in actions([s]))]
    assert "/archives/*" in s3_resources(deletes)
    assert "/incoming/" not in s3_resources(deletes)
    # The stream reads its manifests and the stored files, and nothing else
    download = policy_statements(synthesized, DOWNLOAD.name)
    assert not any(a.startswith(("s3:Put", "s3:Delete")) for a in actions(download))
    assert prefixes_of(s3_resources(download)) == {"assets", "downloads"}
    # The builder copies from stored files into archives/ only
    builder = policy_statements(synthesized, ARCHIVE_BUILDER.name)
    writes = [s for s in builder if any(a.startswith("s3:Put") for a in actions([s]))]
    assert prefixes_of(s3_resources(writes)) == {"archives"}
    assert prefixes_of(s3_resources(builder)) == {"archives", "assets"}
    ingest = policy_statements(synthesized, INGEST.name)
    assert {"sqs:ReceiveMessage", "sqs:DeleteMessage"} <= actions(ingest)
    # Ingest writes under incoming/ only the markers of its next runs, never a bundle
    puts = [s for s in ingest if "s3:PutObject" in actions([s])]
    incoming = [r for r in json.loads(s3_resources(puts)) if "/incoming/" in json.dumps(r)]
    assert incoming
    assert all("/incoming/*.run-*.zip" in json.dumps(r) for r in incoming), incoming


def test_layers_do_not_ship_the_local_backends(synthesized: Synthesized) -> None:
    layers = synthesized.resources("AWS::Lambda::LayerVersion").values()
    # The two layers of the functions; the console's BucketDeployment brings the AWS CLI's.
    ours = [p for p in layers if p["Properties"].get("Description") != "/opt/awscli/aws"]
    assert len(ours) == 2
    assert len(layers) == 3
    shipped = [p for p in synthesized.directory.glob("asset.*/python/*") if p.is_dir()]
    names = {p.name for p in shipped}
    assert "assets_core" in names
    assert not names & {"mongomock", "moto", "fakeredis", "secantusdb", "localstack"}


def test_cdk_nag_has_no_unsuppressed_finding(synthesized: Synthesized) -> None:
    findings = [
        f"{path}: {entry['data']}"
        for path, entries in synthesized.metadata.items()
        for entry in entries
        if entry["type"] in ("aws:cdk:error", "aws:cdk:warning")
        and str(entry["data"]).startswith("AwsSolutions-")
    ]
    assert findings == []
    report = next(synthesized.directory.glob("AwsSolutions-*-NagReport.csv")).read_text()
    assert "Non-Compliant" not in report
    assert "Suppressed" in report


def test_cfn_lint_reports_no_error(synthesized: Synthesized) -> None:
    template = next(synthesized.directory.glob("*.template.json"))
    run = subprocess.run(
        [sys.executable, "-m", "cfnlint", "--format", "json", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    results = json.loads(run.stdout or "[]")
    errors = [r for r in results if r["Level"] == "Error"]
    assert errors == [], errors


def test_the_built_layers_ship_313_bytecode_for_every_module(synthesized: Synthesized) -> None:
    """make layer (run by make test) compiled both layers with 3.13, unchecked-hash, and the
    synthesized core layer is that build, bytecode included."""
    from infra_cdk.constants import CORE_LAYER_BUILD_DIR, DEPS_LAYER_DIR
    from infra_cdk.layers import missing_bytecode

    for built in (CORE_LAYER_BUILD_DIR / "python", DEPS_LAYER_DIR / "python"):
        assert built.is_dir(), f"{built} is not built: run make layer"
        assert missing_bytecode(built) == []
    shipped = next(
        p.parent for p in synthesized.directory.glob("asset.*/python/assets_core") if p.is_dir()
    )
    assert missing_bytecode(shipped) == []
    assert any(shipped.rglob("*.cpython-313.pyc"))


def test_the_janitor_consumes_the_dead_letter_queue_and_sweeps_daily(
    synthesized: Synthesized,
) -> None:
    functions = app_functions(synthesized)
    janitor_id, janitor = functions[JANITOR.name]
    assert janitor["Timeout"] <= INGEST.timeout_s
    queues = synthesized.resources("AWS::SQS::Queue")
    (main_id,) = [
        k for k, q in queues.items() if "RedrivePolicy" in q["Properties"] and "Ingest" in k
    ]
    dlq_arn = queues[main_id]["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]
    dlq_id = dlq_arn["Fn::GetAtt"][0]
    # A queue that feeds a function must stay invisible at least as long as the function runs.
    assert queues[dlq_id]["Properties"]["VisibilityTimeout"] >= 6 * janitor["Timeout"]
    mappings = synthesized.resources("AWS::Lambda::EventSourceMapping").values()
    fed = [
        m["Properties"] for m in mappings if m["Properties"]["FunctionName"] == {"Ref": janitor_id}
    ]
    assert [m["EventSourceArn"] for m in fed] == [{"Fn::GetAtt": [dlq_id, "Arn"]}]
    assert fed[0]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    rules = [
        r["Properties"]
        for r in synthesized.resources("AWS::Events::Rule").values()
        if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [janitor_id, "Arn"]}
    ]
    assert [r["ScheduleExpression"] for r in rules] == ["rate(1 day)"]
    statements = policy_statements(synthesized, JANITOR.name)
    assert {"s3:DeleteObject*", "s3:Abort*"} <= actions(statements)
    for prefix in ("/incoming/*", "/assets/*", "/assetdb/*"):
        assert prefix in s3_resources(statements)


def test_the_purge_runs_hourly_and_may_delete_stored_content(synthesized: Synthesized) -> None:
    functions = app_functions(synthesized)
    purge_id, purge = functions[PURGE.name]
    assert (purge["Timeout"], purge["ReservedConcurrentExecutions"]) == (900, 1)
    rules = [
        r["Properties"]
        for r in synthesized.resources("AWS::Events::Rule").values()
        if r["Properties"]["Targets"][0]["Arn"] == {"Fn::GetAtt": [purge_id, "Arn"]}
    ]
    assert [r["ScheduleExpression"] for r in rules] == ["rate(1 hour)"]
    statements = policy_statements(synthesized, PURGE.name)
    assert "s3:DeleteObject*" in actions(statements)
    assert "/assets/*" in s3_resources(statements)
    assert "/incoming/*" not in s3_resources(statements)
    # an admin's ?purge=true removes content too, from the write routes
    write = policy_statements(synthesized, "registry_write")
    assert "s3:DeleteObject*" in actions(write)
    assert "/assets/*" in s3_resources(write)


def test_only_the_asset_routes_ingest_and_the_janitor_keep_credentials_secrets(
    synthesized: Synthesized,
) -> None:
    functions = app_functions(synthesized)
    keepers = {  # what each may do with them
        "registry_write": {"CreateSecret", "TagResource", "GetSecretValue", "DeleteSecret"},
        "ingest": {"CreateSecret", "TagResource", "DeleteSecret"},
        "janitor": {"DeleteSecret"},
        "purge": {"DeleteSecret"},
    }
    for name, (_, props) in functions.items():
        env = props["Environment"]["Variables"]
        statements = [
            s
            for s in policy_statements(synthesized, name)
            if CREDENTIALS_SECRET_PREFIX in json.dumps(s["Resource"])
        ]
        if name not in keepers:
            assert "CREDENTIALS_SECRET_PREFIX" not in env, name
            assert statements == [], name
            continue
        assert env["CREDENTIALS_SECRET_PREFIX"] == CREDENTIALS_SECRET_PREFIX
        [statement] = statements
        assert f":secret:{CREDENTIALS_SECRET_PREFIX}*" in json.dumps(statement["Resource"])
        assert actions([statement]) == {f"secretsmanager:{a}" for a in keepers[name]}, name


def test_functions_connect_as_the_user_their_access_needs(synthesized: Synthesized) -> None:
    """Two database users, each a secret attached to the cluster: the functions that only
    read connect as the read-only one, the others as the read-write one, and only the
    custom resource that creates them holds the master credentials."""
    functions = app_functions(synthesized)
    assert len(synthesized.resources("Custom::DatabaseUsers")) == 1
    attachments = synthesized.resources("AWS::SecretsManager::SecretTargetAttachment")
    access = {g.name: g.database for g in API_GROUPS}
    access.update({f.name: f.database for f in (INGEST, JANITOR, PURGE)})
    connects_as: dict[str, set[str]] = {READ_ONLY: set(), READ_WRITE: set()}
    _, creator = functions[DATABASE_USERS.name]
    creator_env = creator["Environment"]["Variables"]
    master = creator_env["MASTER_SECRET_ARN"]["Ref"]
    for name, wanted in access.items():
        env = functions[name][1]["Environment"]["Variables"]
        secret = env["MONGODB_SECRET_ARN"]["Ref"]
        assert secret in attachments, name  # a user's secret, with the cluster's address
        connects_as[wanted].add(secret)
        assert (env.get("MONGODB_READ_ONLY") == "true") is (wanted == READ_ONLY), name
        readable = json.dumps(policy_statements(synthesized, name))
        assert secret in readable, name
        assert master not in readable, name
    assert all(len(ids) == 1 for ids in connects_as.values())
    assert connects_as[READ_ONLY] != connects_as[READ_WRITE]
    users = json.dumps(creator_env["USERS"])
    assert READ_ONLY in users
    assert READ_WRITE in users
    assert master in json.dumps(policy_statements(synthesized, DATABASE_USERS.name))
