"""The DAG view of an execution: routes as nodes, route→route edges (DESIGN §6).

Built from the execution's snapshot (never the current stored config), and
annotated with per-node stats and per-edge message counts from lineage
(``factflow_lineage.edge_counts``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from factflow_execution._models import ExecutionStats, ExecutionStatus, RouteStats

__all__ = ["DAGEdge", "DAGNode", "DAGResponse", "build_dag"]


class DAGNode(BaseModel):
    """One route: a source (has an adapter), a stage, or a sink (feeds nothing)."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(description="The route name.")
    kind: Literal["source", "stage", "sink"] = Field(
        description="'source' (has an adapter), 'sink' (feeds nothing) or 'stage'."
    )
    queue: str | None = Field(description="The queue the route consumes, from the snapshot.")
    adapter: str | None = Field(default=None, description="The adapter type of a source.")
    processors: list[str] = Field(
        default_factory=list, description="The processor types of the route, in order."
    )
    concurrency: int | None = Field(default=None, description="Workers the route runs.")
    stats: RouteStats = Field(
        default_factory=RouteStats, description="The route's counts and durations."
    )


class DAGEdge(BaseModel):
    """``source`` publishes to ``target`` through ``queue``; ``messages`` went along it."""

    model_config = ConfigDict(frozen=True)

    source: str = Field(description="The publishing route.")
    target: str = Field(description="The consuming route.")
    queue: str | None = Field(description="The target's queue, from the snapshot.")
    messages: int = Field(default=0, description="Messages the source sent to the target.")


class DAGResponse(BaseModel):
    """What ``GET /executions/{id}/dag`` returns."""

    model_config = ConfigDict(frozen=True)

    execution_id: str = Field(description="The execution.")
    status: ExecutionStatus = Field(description="Its status when the view was built.")
    nodes: list[DAGNode] = Field(description="Every route of the snapshot.")
    edges: list[DAGEdge] = Field(description="Every route→route link of the snapshot.")


def _targets(route: Mapping[str, Any]) -> list[str]:
    to = route.get("to") or []
    return [to] if isinstance(to, str) else [str(t) for t in to]


def build_dag(
    execution_id: str,
    status: ExecutionStatus,
    snapshot: Mapping[str, Any],
    stats: ExecutionStats,
    edges: Mapping[tuple[str, str], int],
) -> DAGResponse:
    """Assemble the DAG from a snapshot, stats and edge counts."""
    definition = snapshot.get("definition") or {}
    routes: Mapping[str, Mapping[str, Any]] = definition.get("routes") or {}
    directory: Mapping[str, str] = snapshot.get("directory") or {}
    nodes: list[DAGNode] = []
    dag_edges: list[DAGEdge] = []
    for name, route in routes.items():
        targets = _targets(route)
        adapter = route.get("adapter")
        kind: Literal["source", "stage", "sink"] = (
            "source" if adapter else ("stage" if targets else "sink")
        )
        nodes.append(
            DAGNode(
                id=name,
                kind=kind,
                queue=directory.get(name),
                adapter=adapter.get("type") if isinstance(adapter, Mapping) else None,
                processors=[str(p.get("type")) for p in route.get("processors") or []],
                concurrency=route.get("concurrency"),
                stats=stats.routes.get(name, RouteStats()),
            )
        )
        for target in targets:
            dag_edges.append(
                DAGEdge(
                    source=name,
                    target=target,
                    queue=directory.get(target),
                    messages=edges.get((name, target), 0),
                )
            )
    return DAGResponse(execution_id=execution_id, status=status, nodes=nodes, edges=dag_edges)
