"""FactFlow lineage: one row per message per route, written in batches, queried in bulk.

* ``LineageRecorder`` - the batched ``LineageSink`` (see ``recorder``);
  ``NullLineageSink`` records nothing (to measure lineage's cost).
* ``LineageRecord`` - a stored row; ``load_payload`` reads its input payload,
  inline or spilled to storage.
* ``factflow_lineage.queries`` - ``route_stats`` / ``execution_totals`` (many
  executions, one round trip), ``edge_counts`` (messages per route→route
  edge), ``get_record``, ``ancestry``, ``descendants``, ``subtree``
  (descendants bounded in depth and size, with a truncation flag),
  ``list_records``, ``select_for_replay``.
* ``factflow_lineage.continuation`` - what a resume needs: ``recorded_ids``,
  ``unsettled_records``, ``settled_ids``, ``incomplete_parents``,
  ``lost_per_route``.

Errors: ``LineageFlushError`` (``InfrastructureError``), ``LineageRecorderClosedError``
(``ConflictError``); queries raise ``NotFoundError`` / ``InvalidInputError``.
"""

from factflow_lineage.continuation import (
    SETTLED_STATUSES,
    incomplete_parents,
    lost_per_route,
    recorded_ids,
    settled_ids,
    unsettled_records,
)
from factflow_lineage.errors import LineageFlushError, LineageRecorderClosedError
from factflow_lineage.null import NullLineageSink
from factflow_lineage.queries import (
    ExecutionTotals,
    ReplayMode,
    RouteStats,
    Subtree,
    ancestry,
    descendants,
    edge_counts,
    execution_totals,
    get_record,
    list_records,
    route_stats,
    select_for_replay,
    subtree,
)
from factflow_lineage.recorder import LineageRecorder, RecorderCounters
from factflow_lineage.records import LineageRecord, load_payload
from factflow_lineage.writer import spill_key

__all__ = [
    "SETTLED_STATUSES",
    "ExecutionTotals",
    "LineageFlushError",
    "LineageRecord",
    "LineageRecorder",
    "LineageRecorderClosedError",
    "NullLineageSink",
    "RecorderCounters",
    "ReplayMode",
    "RouteStats",
    "Subtree",
    "ancestry",
    "descendants",
    "edge_counts",
    "execution_totals",
    "get_record",
    "incomplete_parents",
    "list_records",
    "load_payload",
    "lost_per_route",
    "recorded_ids",
    "route_stats",
    "select_for_replay",
    "settled_ids",
    "spill_key",
    "subtree",
    "unsettled_records",
]
