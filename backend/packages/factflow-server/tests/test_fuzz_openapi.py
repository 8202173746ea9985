"""Schemathesis against the served OpenAPI document: positive and negative data for
every operation; no 5xx and no response that breaks the document (status codes,
media types, schemas).  Bounded: a fixed number of derandomised examples per
operation and mode, so CI time stays flat."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from typing import Any

import hypothesis
import pytest
import schemathesis
from factflow_execution import ExecutionService
from factflow_foundation import FactFlowSettings
from factflow_server import create_app
from hypothesis import HealthCheck, Phase
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from .conftest import failing_config, serve_in_process

# Bounded and reproducible for CI; for a deeper, random hunt run e.g.
#   FACTFLOW_FUZZ_EXAMPLES=300 FACTFLOW_FUZZ_RANDOM=1 pytest …/test_fuzz_openapi.py
EXAMPLES_PER_OPERATION_AND_MODE = int(os.environ.get("FACTFLOW_FUZZ_EXAMPLES", "25"))
DERANDOMIZE = not os.environ.get("FACTFLOW_FUZZ_RANDOM")
# The work is bounded by the example count (it grows with the operations, about
# two seconds each on a quiet machine); the suite's 120 s hang guard is too
# tight for ~50 operations on a loaded one, so this test gets its own.
pytestmark = pytest.mark.timeout(600)
CHECKS: list[Callable[..., Any]] = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _fuzz(base_url: str) -> tuple[int, list[str]]:
    """Run every operation in both modes; ``(operations, failures)``."""
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @hypothesis.settings(
                max_examples=EXAMPLES_PER_OPERATION_AND_MODE,
                deadline=None,
                database=None,
                derandomize=DERANDOMIZE,
                phases=[Phase.explicit, Phase.generate],
                suppress_health_check=list(HealthCheck),
            )
            @hypothesis.given(case=operation.as_strategy(generation_mode=mode))
            def check(case: Any) -> None:
                response = case.call(base_url=base_url, timeout=30)
                case.validate_response(response, checks=CHECKS)

            try:
                check()
            except Unsatisfiable:
                pass  # an operation without inputs has no negative data
            except (Exception, BaseExceptionGroup) as exc:  # collect every failure
                failures.append(f"{operation.label} [{mode.value}]: {exc}")
    return operations, failures


async def test_fuzzing_the_served_openapi_finds_no_5xx_and_no_schema_violation(
    settings: FactFlowSettings, service: ExecutionService
) -> None:
    await service.save_config(failing_config("t"))
    finished = await service.run("t")
    await service.wait(finished.id, timeout=60)
    async with serve_in_process(create_app(settings, service=service)) as base_url:
        operations, failures = await asyncio.to_thread(_fuzz, base_url)
    documented = create_app(settings, service=service).openapi()["paths"]
    assert operations == sum(len(item) for item in documented.values())  # every one fuzzed
    assert not failures, "\n\n".join(failures)
