"""Lineage errors (branches of the ``factflow_foundation`` tree)::

FactFlowError
├── InvalidInputError
│   └── (bad query arguments: unknown status, replay mode, page limit)
├── NotFoundError
│   └── (unknown message / ids asked for replay)
├── ConflictError
│   └── LineageRecorderClosedError   record() after close()
└── InfrastructureError
    └── LineageFlushError            a batch could not be written (yet)
"""

from __future__ import annotations

from factflow_foundation import ConflictError, InfrastructureError

__all__ = ["LineageFlushError", "LineageRecorderClosedError"]


class LineageFlushError(InfrastructureError):
    """Entries recorded before a ``flush()`` are not durable: the write failed.

    Nothing is dropped: the recorder keeps the batch and retries it with a
    bounded backoff; ``pending`` says how many entries are still unwritten.
    """

    code = "lineage-flush-failed"

    def __init__(self, detail: str, *, pending: int) -> None:
        super().__init__(detail, extra={"pending": pending})
        self.pending = pending


class LineageRecorderClosedError(ConflictError):
    """An entry was recorded after the recorder was closed."""

    code = "lineage-recorder-closed"
