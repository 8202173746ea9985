"""The package exports exactly the seed's names, each real and documented."""

from __future__ import annotations

import inspect

import factflow_execution

SEED_NAMES = {
    "PipelineConfig",
    "PipelineExecution",
    "ConfigSourceType",
    "ReplaySource",
    "ExecutionStatus",
    "ExecutionStats",
    "DAGNode",
    "DAGEdge",
    "DAGResponse",
    "ExecutionService",
    "PipelineExecutionRepository",
    "PipelineConfigRepository",
    "ExecutionWaiter",
    "ExecutionWaitResult",
    "ExecutionEventStreamer",
    "StorageEventStreamer",
    "ExecutionStatusCallbackAdapter",
    "OrchestratorManager",
}


def test_all_is_exactly_the_seed_names() -> None:
    assert set(factflow_execution.__all__) == SEED_NAMES


def test_nothing_else_is_public() -> None:
    public = {name for name in dir(factflow_execution) if not name.startswith("_")}
    assert public == SEED_NAMES


def test_every_name_is_real_and_documented() -> None:
    for name in SEED_NAMES:
        value = getattr(factflow_execution, name)
        if name == "ExecutionStatus":  # a type alias of the status literals
            assert set(value.__args__) == {
                "pending",
                "running",
                "completed",
                "failed",
                "cancelled",
                "interrupted",
            }
            continue
        assert inspect.isclass(value), name
        assert (value.__doc__ or "").strip(), f"{name} has no docstring"
