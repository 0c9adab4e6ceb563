"""Change events in the synthesized template: the bus, its archive, the outbox function on
a schedule with a dead-letter queue, and PutEvents on that bus only, for the writers."""

from __future__ import annotations

from typing import Any

from assets_core.routes import API_GROUPS, OUTBOX, READ_ONLY
from tests.infra.conftest import Synthesized
from tests.infra.test_stack import app_functions


def policies_of(s: Synthesized, logical_id: str, role: dict[str, Any]) -> list[dict[str, Any]]:
    """Every statement of the policies attached to a function's role."""
    role_ref = role["Properties"]["Role"]["Fn::GetAtt"][0]
    found = []
    for policy in s.resources("AWS::IAM::Policy").values():
        roles = [r.get("Ref") for r in policy["Properties"].get("Roles", [])]
        if role_ref in roles:
            found.extend(policy["Properties"]["PolicyDocument"]["Statement"])
    return found


def test_one_bus_with_an_archive_of_every_change_event(synthesized: Synthesized) -> None:
    [bus_id] = synthesized.resources("AWS::Events::EventBus")
    [archive] = synthesized.resources("AWS::Events::Archive").values()
    props = archive["Properties"]
    assert props["SourceArn"] == {"Fn::GetAtt": [bus_id, "Arn"]}
    assert props["EventPattern"] == {"source": [{"prefix": "assets-registry."}]}
    assert props["RetentionDays"] == 90
    outputs = synthesized.template["Outputs"]
    assert any(key.startswith("EventBusName") for key in outputs)


def test_the_outbox_runs_every_minute_with_a_dead_letter_queue(synthesized: Synthesized) -> None:
    functions = app_functions(synthesized)
    logical_id, props = functions[OUTBOX.name]
    assert props["ReservedConcurrentExecutions"] == 1
    assert "VpcConfig" in props  # it reads the outbox in DocumentDB
    rules = [
        r["Properties"]
        for r in synthesized.resources("AWS::Events::Rule").values()
        if r["Properties"].get("ScheduleExpression") == "rate(1 minute)"
    ]
    [rule] = rules
    [target] = rule["Targets"]
    assert target["Arn"] == {"Fn::GetAtt": [logical_id, "Arn"]}
    assert "DeadLetterConfig" in target
    assert target["RetryPolicy"]["MaximumRetryAttempts"] == 2


def test_only_the_writers_may_put_events_and_only_on_the_bus(synthesized: Synthesized) -> None:
    [bus_id] = synthesized.resources("AWS::Events::EventBus")
    functions = app_functions(synthesized)
    resources = synthesized.template["Resources"]
    writers = {g.name for g in API_GROUPS if g.database != READ_ONLY}
    writers |= {"ingest", "janitor", "purge", OUTBOX.name}
    for name, (logical_id, props) in functions.items():
        statements = policies_of(synthesized, logical_id, resources[logical_id])
        puts = [s for s in statements if "events:PutEvents" in str(s["Action"])]
        if name in writers:
            assert puts, name
            for statement in puts:
                assert statement["Resource"] == {"Fn::GetAtt": [bus_id, "Arn"]}, name
            assert "EVENT_BUS_NAME" in props["Environment"]["Variables"], name
        else:
            assert not puts, name


def test_functions_reach_eventbridge_without_nat(synthesized: Synthesized) -> None:
    endpoints = [
        str(e["Properties"]["ServiceName"])
        for e in synthesized.resources("AWS::EC2::VPCEndpoint").values()
    ]
    assert any("events" in name for name in endpoints)
