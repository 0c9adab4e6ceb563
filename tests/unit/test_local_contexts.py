"""The local stack hands an event consumer the context Lambda would: the name, memory and
timeout its FunctionSpec deploys it with."""

from __future__ import annotations

import pytest

from assets_core.routes import INGEST, JANITOR, FunctionSpec
from local.poller import function_context


@pytest.mark.parametrize("spec", [INGEST, JANITOR], ids=lambda spec: spec.name)
def test_a_consumer_gets_its_deployed_memory_and_timeout(spec: FunctionSpec) -> None:
    context = function_context(spec)
    assert context.function_name == spec.name
    assert context.memory_limit_in_mb == spec.memory_mb
    assert spec.timeout_s * 1000 - 5000 < context.get_remaining_time_in_millis()
    assert context.get_remaining_time_in_millis() <= spec.timeout_s * 1000
