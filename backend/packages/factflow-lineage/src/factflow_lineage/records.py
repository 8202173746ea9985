"""``LineageRecord``: one ``lineage_records`` row as an immutable value."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from factflow_foundation import InvalidInputError, loads
from factflow_protocols import StorageBackend

__all__ = ["LineageRecord", "load_payload"]


@dataclass(frozen=True, slots=True)
class LineageRecord:
    """The settled outcome of one message at one route, as stored.

    ``id`` orders records by write and is the paging cursor.  ``payload`` is
    the message's input payload, or ``None`` when it was spilled to storage
    (then ``payload_ref`` names the storage key; use ``load_payload``).
    ``duration_ms`` is ``finished_at - started_at`` (``None`` without a start).
    """

    id: int
    execution_id: str
    message_id: str
    parent_message_id: str | None
    origin_message_id: str
    route: str
    status: str
    attempt: int
    started_at: datetime | None
    finished_at: datetime
    duration_ms: float | None
    error: str | None
    outputs: int
    payload: Any
    payload_ref: str | None

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> LineageRecord:
        """Build from a ``select(lineage_records)`` row mapping."""
        return cls(
            id=row["id"],
            execution_id=row["execution_id"],
            message_id=row["message_id"],
            parent_message_id=row["parent_message_id"],
            origin_message_id=row["origin_message_id"],
            route=row["route"],
            status=row["status"],
            attempt=row["attempt"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            duration_ms=row["duration_ms"],
            error=row["error"],
            outputs=row["outputs"],
            payload=row["payload"],
            payload_ref=row["payload_ref"],
        )

    @property
    def is_root(self) -> bool:
        """True when the message has no parent (it entered the pipeline here)."""
        return self.parent_message_id is None

    def as_dict(self) -> dict[str, Any]:
        """JSON-friendly form (ISO 8601 timestamps)."""
        return {
            "id": self.id,
            "execution_id": self.execution_id,
            "message_id": self.message_id,
            "parent_message_id": self.parent_message_id,
            "origin_message_id": self.origin_message_id,
            "route": self.route,
            "status": self.status,
            "attempt": self.attempt,
            "started_at": self.started_at.isoformat() if self.started_at else None,
            "finished_at": self.finished_at.isoformat(),
            "duration_ms": self.duration_ms,
            "error": self.error,
            "outputs": self.outputs,
            "payload": self.payload,
            "payload_ref": self.payload_ref,
        }


async def load_payload(record: LineageRecord, storage: StorageBackend | None = None) -> Any:
    """The input payload of ``record``: inline, or read back from ``storage``.

    Raises:
        InvalidInputError: the payload was spilled and no ``storage`` was given.
        NotFoundError: the spilled object is missing from ``storage``.
    """
    if record.payload_ref is None:
        return record.payload
    if storage is None:
        raise InvalidInputError(
            f"payload of message {record.message_id} at route {record.route!r} was stored "
            f"in storage at {record.payload_ref!r}; pass the StorageBackend to read it"
        )
    return loads(await storage.read(record.payload_ref))
