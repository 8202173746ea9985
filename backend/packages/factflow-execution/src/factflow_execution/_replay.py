"""Replay selection: which messages of a finished execution a replay re-injects.

The same selection runs twice: when the replay is requested (so selecting
nothing is an error before any row exists) and when the replay execution starts
(its ``replay_source`` is the record of what to re-inject; the parent's lineage
is immutable once it is terminal, so both give the same messages).
"""

from __future__ import annotations

from factflow_foundation import ConflictError, InvalidInputError
from factflow_lineage import LineageRecord, load_payload, select_for_replay
from factflow_protocols import Message, StorageBackend
from sqlalchemy.ext.asyncio import AsyncConnection

from factflow_execution._errors import NothingToReplayError
from factflow_execution._models import PipelineExecution, ReplaySource

__all__ = ["replay_messages", "select_replay_records"]


async def select_replay_records(
    conn: AsyncConnection, parent: PipelineExecution, selection: ReplaySource
) -> list[LineageRecord]:
    """The parent's lineage records ``selection`` names; never empty.

    Raises ``ConflictError`` while the parent still runs, ``InvalidInputError``
    for a route the parent does not have, ``NotFoundError`` for unknown message
    ids and ``NothingToReplayError`` when nothing matches.
    """
    if not parent.terminal:
        raise ConflictError(
            f"execution {parent.id} is still {parent.status}; replay it once it has finished"
        )
    routes = parent.config_snapshot.get("definition", {}).get("routes", {})
    if selection.route is not None and selection.route not in routes:
        raise InvalidInputError(
            f"route {selection.route!r} is not part of execution {parent.id} "
            f"(its routes: {', '.join(routes)})"
        )
    records = await select_for_replay(
        conn,
        parent.id,
        mode=selection.mode,
        message_ids=selection.message_ids or None,
        route=selection.route,
    )
    if not records:
        where = f" at route {selection.route!r}" if selection.route else ""
        if selection.mode in ("failed", "cancelled", "unfinished"):
            hint = "choose mode 'all' or name message ids"
            if parent.status in ("interrupted", "cancelled", "failed"):
                hint = "resume it to finish what was never recorded, or " + hint
            raise NothingToReplayError(
                f"execution {parent.id} has no {selection.mode} messages{where} to replay; {hint}"
            )
        raise NothingToReplayError(f"execution {parent.id} has no messages{where} to replay")
    return list(records)


async def replay_messages(
    records: list[LineageRecord], execution_id: str, storage: StorageBackend
) -> list[Message]:
    """Messages for ``execution_id`` that re-enter at the records' routes, keeping
    each message's id, parent and origin (their input payloads, even spilled ones)."""
    messages = []
    for record in records:
        payload = await load_payload(record, storage=storage)
        messages.append(
            Message(
                id=record.message_id,
                execution_id=execution_id,
                route=record.route,
                payload=payload,
                origin_id=record.origin_message_id,
                parent_id=record.parent_message_id,
            )
        )
    return messages
