"""The FactFlow exception tree.

Every error FactFlow raises on purpose derives from :class:`FactFlowError`.
Each package subclasses the branch that says what kind of failure it is, so
callers (the HTTP server above all) can map a whole branch in one place::

    FactFlowError                      code              HTTP
    ├── InvalidInputError              invalid-input     422
    │   ├── ConfigValidationError      (engine)          422, with field issues
    │   └── InvalidStorageKeyError     (infra)           422
    ├── NotFoundError                  not-found         404
    ├── ConflictError                  conflict          409
    │   └── IllegalTransitionError     (execution)       409
    ├── CapacityExceededError          capacity-exceeded 503
    └── InfrastructureError            infrastructure    503

``code`` is a stable slug (the problem ``type`` on the wire); ``detail`` is the
human sentence.  Subclasses may override ``code`` with a more specific slug.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = [
    "CapacityExceededError",
    "ConflictError",
    "FactFlowError",
    "InfrastructureError",
    "InvalidInputError",
    "NotFoundError",
]


class FactFlowError(Exception):
    """Root of every error FactFlow raises deliberately."""

    code: str = "factflow-error"

    def __init__(self, detail: str, *, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra: dict[str, Any] = dict(extra or {})

    def __str__(self) -> str:
        return self.detail


class InvalidInputError(FactFlowError):
    """Something a caller sent (a config, a key, a parameter) is not acceptable."""

    code = "invalid-input"


class NotFoundError(FactFlowError):
    """A referenced entity (config, execution, object) does not exist."""

    code = "not-found"


class ConflictError(FactFlowError):
    """The request is well formed but conflicts with the current state."""

    code = "conflict"


class CapacityExceededError(FactFlowError):
    """A bounded resource (running executions, queue space) is full."""

    code = "capacity-exceeded"


class InfrastructureError(FactFlowError):
    """A backing service (database, storage, broker) failed or is unreachable."""

    code = "infrastructure"
