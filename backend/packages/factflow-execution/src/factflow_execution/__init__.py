"""Execution lifecycle: the per-run entity that binds stored config, lineage,
storage and status together into one observable unit.

An execution is a row (immutable config snapshot, status, timestamps, source,
replay source) plus a coordinated lifecycle: the ``OrchestratorManager`` (the
run controller) owns all in-process run state - admission slots, one
orchestrator per running execution, the first stop request - and finishes
each run once its orchestrator stopped, as the ``ExecutionStatusCallbackAdapter``
tells it; ``ExecutionWaiter`` resolves reactively when the run is terminal, and
``ExecutionEventStreamer`` / ``StorageEventStreamer`` replay and follow the
persisted event log, ``ExecutionLogStreamer`` a run's log (what its
processors and adapters logged, written by ``RunLogWriter``).
``ExecutionService`` is the canonical entry point; the REST API maps onto
its methods.  Every error it raises on purpose is exported (see ``_errors``
for the tree), as is every type its public signatures return.

Quick use::

    service = ExecutionService.from_settings(FactFlowSettings())
    await service.startup(migrate=True)
    config, _ = await service.save_config(Path("facts.yaml").read_text())
    execution = await service.run(config.name, params={"source_dir": "docs"})
    result = await service.waiter(execution.id).wait(timeout=timedelta(minutes=10))
    print(result.status, result.stats)
    await service.shutdown()
"""

from factflow_execution._callbacks import ExecutionStatusCallbackAdapter
from factflow_execution._dag import DAGEdge, DAGNode, DAGResponse
from factflow_execution._errors import (
    AmbiguousIdError,
    ConfigArchivedError,
    ConfigNotFoundError,
    ExecutionCapacityError,
    ExecutionInUseError,
    ExecutionNotFoundError,
    IllegalTransitionError,
    NothingToReplayError,
)
from factflow_execution._events import EventKind, ExecutionEvent
from factflow_execution._logs_records import ExecutionLogRecord
from factflow_execution._logs_stream import ExecutionLogStreamer
from factflow_execution._logs_writer import RunLog, RunLogWriter
from factflow_execution._manager import Admission, OrchestratorManager
from factflow_execution._metrics import ExecutionMetrics, LatencyHistogram
from factflow_execution._models import (
    ConfigSourceType,
    ExecutionStats,
    ExecutionStatus,
    PipelineConfig,
    PipelineExecution,
    ReplayMode,
    ReplaySource,
    RouteStats,
    StatsCounts,
)
from factflow_execution._orchestrators import OrchestratorFactory, OrchestratorRequest
from factflow_execution._queue import RunQueue
from factflow_execution._queue_models import ConfigLimit, ConfigLimitReachedError, QueuedRun
from factflow_execution._repositories import (
    ExecutionPage,
    PipelineConfigRepository,
    PipelineExecutionRepository,
)
from factflow_execution._retention import PruneResult, Retention
from factflow_execution._runs import LocalRun, RunPhase, StopKind, StopRequest
from factflow_execution._service import ExecutionService
from factflow_execution._streaming import ExecutionEventStreamer, StorageEventStreamer
from factflow_execution._transitions import Applied, Refusal, Refused, TransitionResult
from factflow_execution._waiter import ExecutionWaiter, ExecutionWaitResult

__all__ = [
    "Admission",
    "AmbiguousIdError",
    "Applied",
    "ConfigArchivedError",
    "ConfigLimit",
    "ConfigLimitReachedError",
    "ConfigNotFoundError",
    "ConfigSourceType",
    "DAGEdge",
    "DAGNode",
    "DAGResponse",
    "EventKind",
    "ExecutionCapacityError",
    "ExecutionEvent",
    "ExecutionEventStreamer",
    "ExecutionInUseError",
    "ExecutionLogRecord",
    "ExecutionLogStreamer",
    "ExecutionMetrics",
    "ExecutionNotFoundError",
    "ExecutionPage",
    "ExecutionService",
    "ExecutionStats",
    "ExecutionStatus",
    "ExecutionStatusCallbackAdapter",
    "ExecutionWaitResult",
    "ExecutionWaiter",
    "IllegalTransitionError",
    "LatencyHistogram",
    "LocalRun",
    "NothingToReplayError",
    "OrchestratorFactory",
    "OrchestratorManager",
    "OrchestratorRequest",
    "PipelineConfig",
    "PipelineConfigRepository",
    "PipelineExecution",
    "PipelineExecutionRepository",
    "PruneResult",
    "QueuedRun",
    "Refusal",
    "Refused",
    "ReplayMode",
    "ReplaySource",
    "Retention",
    "RouteStats",
    "RunLog",
    "RunLogWriter",
    "RunPhase",
    "RunQueue",
    "StatsCounts",
    "StopKind",
    "StopRequest",
    "StorageEventStreamer",
    "TransitionResult",
]
