"""Resume: finish an interrupted or cancelled execution as a new one linked to it.

A resume is an execution (``source=resume``, ``parent_execution_id`` = the
run it finishes) that runs the parent's snapshot.  Its *chain* is the first
run and every resume after it; all share message ids, because ids are
derived (``factflow_engine.runtime.continuation``): the first run's id is the
namespace of every root.  Lineage is the log of what settled where, so the
plan is read from the chain's lineage:

* ``known`` - every message id the chain recorded (any status): never created
  again, so nothing that settled at a route is recorded there again;
* ``messages`` - records ``cancelled`` whose message settled nowhere in the
  chain (a stop left them unfinished), and - with a durable broker - what the
  chain's queues still hold and lineage does not show settled;
* ``regenerate`` - messages recorded ``processed`` with fewer recorded (or
  queued) children than they produced: their outputs were lost with the
  process, so their processors run again (not recorded again) to rebuild
  only the missing children;
* the source adapters run again from the start, skipping every root whose id
  is known - the roots a crash lost are produced again.

So a processor may be invoked twice for one message in two cases: the message
was in progress when the process died (its lineage row was never written),
or its outputs were lost (it is regenerated).  A processor is never invoked
again for a message whose settlement and children are all recorded.

Only ``interrupted`` and ``cancelled`` runs are resumable (a resume of them
may itself be resumed), and only once: a second resume of the same run would
redo the first's work.  A replay cannot be resumed (its adapters never ran;
replay it again instead).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from factflow_engine import ResumePlan, child_message_id
from factflow_foundation import ConflictError
from factflow_lineage import (
    LineageRecord,
    incomplete_parents,
    load_payload,
    recorded_ids,
    settled_ids,
    unsettled_records,
)
from factflow_protocols import Message, QueueBackend, StorageBackend
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_execution._errors import IllegalTransitionError
from factflow_execution._events import EventKind, EventLog
from factflow_execution._models import ConfigSourceType, PipelineExecution
from factflow_execution._repositories import (
    PipelineConfigRepository,
    PipelineExecutionRepository,
)

__all__ = [
    "RESUMABLE_STATUSES",
    "add_resume",
    "check_resumable",
    "plan_resume",
    "resume_chain",
]

RESUMABLE_STATUSES: tuple[str, ...] = ("interrupted", "cancelled")


async def resume_chain(
    conn: AsyncConnection, execution: PipelineExecution
) -> list[PipelineExecution]:
    """``execution`` and the runs it resumes, first run first."""
    repo = PipelineExecutionRepository(conn)
    chain = [execution]
    while chain[0].source == ConfigSourceType.RESUME and chain[0].parent_execution_id:
        chain.insert(0, await repo.get(chain[0].parent_execution_id))
    return chain


async def check_resumable(
    conn: AsyncConnection, parent: PipelineExecution, *, resume_id: str | None = None
) -> list[PipelineExecution]:
    """The chain ending at ``parent`` if a new resume may finish it.

    Raises ``IllegalTransitionError`` (409) unless ``parent`` is interrupted
    or cancelled, and ``ConflictError`` (409) when it descends from a replay
    or another resume (than ``resume_id``) already took it on.
    """
    if parent.status not in RESUMABLE_STATUSES:
        raise IllegalTransitionError(parent.id, "resume", parent.status, RESUMABLE_STATUSES)
    chain = await resume_chain(conn, parent)
    if chain[0].source == ConfigSourceType.REPLAY:
        raise ConflictError(
            f"execution {parent.id} finishes replay {chain[0].id}, whose adapters never ran;"
            " a replay cannot be resumed: replay its parent again instead"
        )
    for child in await PipelineExecutionRepository(conn).resumes_of(parent.id):
        # A resume that failed before it started recorded nothing: it does not count.
        if child.id == resume_id or (child.status == "failed" and child.started_at is None):
            continue
        hint = (
            f"resume {child.id} instead"
            if child.status in RESUMABLE_STATUSES
            else "it cannot be resumed twice"
        )
        raise ConflictError(
            f"execution {parent.id} was already resumed by {child.id} ({child.status}); {hint}",
            extra={"id": parent.id, "resumed_by": child.id},
        )
    return chain


async def add_resume(
    events: EventLog,
    parent_id: str,
    resume_id: str,
    *,
    labels: Mapping[str, str] | None,
    owner: str,
) -> PipelineExecution:
    """Insert the ``pending`` resume ``resume_id`` of ``parent_id`` with its first
    event, after checking (in the same transaction) that the parent may be resumed."""
    async with events.writing(resume_id) as writer:
        repo = PipelineExecutionRepository(writer.conn)
        parent = await repo.get(parent_id)
        await check_resumable(writer.conn, parent)
        config = None
        if parent.config_id is not None:
            config = await PipelineConfigRepository(writer.conn).get_by_id(parent.config_id)
        row = await repo.add(
            execution_id=resume_id,
            config=config,
            config_name=parent.config_name,
            snapshot=parent.config_snapshot,
            source=ConfigSourceType.RESUME,
            parent_execution_id=parent.id,
            labels=labels,
            owner=owner,
        )
        await writer.append(EventKind.STATUS, {"status": "pending"})
    return row


def _downstream(snapshot: Mapping[str, object]) -> dict[str, list[str]]:
    definition = snapshot.get("definition")
    routes = definition.get("routes", {}) if isinstance(definition, Mapping) else {}
    return {str(name): [str(t) for t in (route.get("to") or [])] for name, route in routes.items()}


def _message(record: LineageRecord, payload: object, execution_id: str) -> Message:
    return Message(
        record.message_id,
        execution_id,
        record.route,
        payload,
        record.origin_message_id,
        record.parent_message_id,
    )


async def plan_resume(
    conn: AsyncConnection,
    execution: PipelineExecution,
    *,
    storage: StorageBackend,
    queues: QueueBackend,
) -> ResumePlan:
    """The ``ResumePlan`` of resume ``execution`` (see the module docstring).

    Raises like ``check_resumable`` when its parent may no longer be resumed
    by it.  Reads a broker's leftovers without removing them: the run deletes
    them once its own lineage is durable.
    """
    if execution.parent_execution_id is None:  # pragma: no cover - resume rows have one
        raise ConflictError(f"execution {execution.id} resumes nothing")
    parent = await PipelineExecutionRepository(conn).get(execution.parent_execution_id)
    chain = await check_resumable(conn, parent, resume_id=execution.id)
    ids = [run.id for run in chain]
    downstream = _downstream(execution.config_snapshot)
    directory = execution.config_snapshot.get("directory") or {}
    names = list(dict.fromkeys(str(directory[r]) for r in downstream if r in directory))

    known: set[str] = set()
    async for page in recorded_ids(conn, ids):
        known.update(page)
    messages: list[Message] = []
    queued: set[tuple[str, str]] = set()
    for record in await unsettled_records(conn, ids):
        payload = await load_payload(record, storage=storage)
        messages.append(_message(record, payload, execution.id))
        queued.add((record.message_id, record.route))

    leftover_queues: list[tuple[str, Sequence[str]]] = []
    if queues.durable and names:
        left: dict[tuple[str, str], Message] = {}
        for run in chain:
            for message in await queues.leftovers(run.id, names):
                left.setdefault((message.id, message.route), message)
            leftover_queues.append((run.id, names))
        settled = await settled_ids(conn, ids, [key[0] for key in left])
        for key, message in left.items():
            if key in queued or message.id in settled:
                continue
            messages.append(message)
            queued.add(key)
    known.update(message_id for message_id, _route in queued)

    fanout = {route: len(targets) for route, targets in downstream.items()}
    regenerate: list[Message] = []
    for record in await incomplete_parents(conn, ids, fanout):
        expected = (
            child_message_id(record.message_id, index, target)
            for index in range(record.outputs or 0)
            for target in downstream.get(record.route, ())
        )
        if all(child in known for child in expected):
            continue  # its missing children wait in the broker: nothing to rebuild
        payload = await load_payload(record, storage=storage)
        regenerate.append(_message(record, payload, execution.id))

    return ResumePlan(
        namespace=chain[0].id,
        run_adapters=True,
        messages=messages,
        regenerate=regenerate,
        known=known.__contains__,
        leftover_queues=leftover_queues,
    )
