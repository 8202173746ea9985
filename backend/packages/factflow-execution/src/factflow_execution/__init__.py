"""Execution lifecycle: the per-run entity that binds stored config, lineage,
storage and status together into one observable unit.

An execution is a row (immutable config snapshot, status, timestamps, source,
replay source) plus a coordinated lifecycle: the ``OrchestratorManager`` owns
one ``PipelineOrchestrator`` per running execution, the
``ExecutionStatusCallbackAdapter`` finalises the row atomically with the
orchestrator's stop, ``ExecutionWaiter`` resolves reactively when the run is
terminal, and ``ExecutionEventStreamer`` / ``StorageEventStreamer`` replay and
follow the persisted event log.  ``ExecutionService`` is the canonical entry
point; the REST API maps onto its methods.

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
from factflow_execution._manager import OrchestratorManager
from factflow_execution._models import (
    ConfigSourceType,
    ExecutionStats,
    ExecutionStatus,
    PipelineConfig,
    PipelineExecution,
    ReplaySource,
)
from factflow_execution._repositories import (
    PipelineConfigRepository,
    PipelineExecutionRepository,
)
from factflow_execution._service import ExecutionService
from factflow_execution._streaming import ExecutionEventStreamer, StorageEventStreamer
from factflow_execution._waiter import ExecutionWaiter, ExecutionWaitResult

__all__ = [
    "ConfigSourceType",
    "DAGEdge",
    "DAGNode",
    "DAGResponse",
    "ExecutionEventStreamer",
    "ExecutionService",
    "ExecutionStats",
    "ExecutionStatus",
    "ExecutionStatusCallbackAdapter",
    "ExecutionWaitResult",
    "ExecutionWaiter",
    "OrchestratorManager",
    "PipelineConfig",
    "PipelineConfigRepository",
    "PipelineExecution",
    "PipelineExecutionRepository",
    "ReplaySource",
    "StorageEventStreamer",
]
