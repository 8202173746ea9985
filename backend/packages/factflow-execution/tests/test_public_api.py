"""The package exports the seed's names (a floor, not a ceiling), each real and documented,
and nothing that is not in ``__all__``."""

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


# What public signatures return or raise, exported so a library user can name
# and catch them (``ExecutionService.list`` returns an ``ExecutionPage``, …).
SIGNATURE_NAMES = {
    "ExecutionPage",
    "ExecutionEvent",
    "EventKind",
    "RouteStats",
    "StatsCounts",
    "ReplayMode",
    "ExecutionNotFoundError",
    "ConfigNotFoundError",
    "AmbiguousIdError",
    "IllegalTransitionError",
    "ConfigArchivedError",
    "NothingToReplayError",
    "ExecutionCapacityError",
}


def test_all_holds_the_seed_names_and_what_signatures_return() -> None:
    assert set(factflow_execution.__all__) >= SEED_NAMES
    assert set(factflow_execution.__all__) >= SIGNATURE_NAMES
    assert len(factflow_execution.__all__) == len(set(factflow_execution.__all__))


def test_nothing_outside_all_is_public() -> None:
    public = {name for name in dir(factflow_execution) if not name.startswith("_")}
    assert public == set(factflow_execution.__all__)


def test_every_error_a_caller_may_catch_is_exported() -> None:
    from factflow_execution import _errors

    assert set(_errors.__all__) <= set(factflow_execution.__all__)


def test_every_name_is_real_and_documented() -> None:
    for name in factflow_execution.__all__:
        value = getattr(factflow_execution, name)
        if name in ("TransitionResult", "ReplayMode"):  # type aliases
            continue
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
