"""Errors of the execution package (branches of the ``factflow_foundation`` tree).

NotFoundError
├── ExecutionNotFoundError
└── ConfigNotFoundError
InvalidInputError
└── AmbiguousIdError            an id prefix matches several executions
ConflictError
├── IllegalTransitionError      e.g. cancel a completed run
├── ConfigArchivedError         run an archived config
├── NothingToReplayError        replay 'failed' of a run without failures
└── ExecutionInUseError         delete a run a pending/running replay or resume reads
CapacityExceededError
├── ExecutionCapacityError      the orchestrator manager is full
└── ConfigLimitReachedError     the config runs its limit (_queue_models; queue=False)
"""

from __future__ import annotations

from collections.abc import Sequence

from factflow_foundation import (
    CapacityExceededError,
    ConflictError,
    InvalidInputError,
    NotFoundError,
)

__all__ = [
    "AmbiguousIdError",
    "ConfigArchivedError",
    "ConfigNotFoundError",
    "ExecutionCapacityError",
    "ExecutionInUseError",
    "ExecutionNotFoundError",
    "IllegalTransitionError",
    "NothingToReplayError",
]


class ExecutionNotFoundError(NotFoundError):
    """No execution has this id (or id prefix)."""

    code = "execution-not-found"

    def __init__(self, execution_id: str) -> None:
        super().__init__(f"no execution with id {execution_id!r}", extra={"id": execution_id})


class ConfigNotFoundError(NotFoundError):
    """No stored config has this name (or this version of it)."""

    code = "config-not-found"

    def __init__(self, name: str, version: int | None = None) -> None:
        what = f"config {name!r}" + (f" version {version}" if version is not None else "")
        super().__init__(f"no {what}", extra={"name": name, "version": version})


class AmbiguousIdError(InvalidInputError):
    """An id prefix matches several executions; ``extra["candidates"]`` lists them."""

    code = "ambiguous-id"

    def __init__(self, prefix: str, candidates: Sequence[str]) -> None:
        listed = ", ".join(candidates)
        super().__init__(
            f"id prefix {prefix!r} matches several executions: {listed}; type more characters",
            extra={"prefix": prefix, "candidates": list(candidates)},
        )


class IllegalTransitionError(ConflictError):
    """The execution's status does not allow the request (e.g. cancel a completed run);
    ``status`` is the status it has."""

    code = "illegal-transition"

    def __init__(self, execution_id: str, action: str, status: str, allowed: Sequence[str]) -> None:
        super().__init__(
            f"cannot {action} execution {execution_id}: it is {status} "
            f"(only {' or '.join(sorted(allowed))} executions can be {_past(action)})",
            extra={"id": execution_id, "current_status": status, "action": action},
        )
        self.status = status


_PAST = {
    "cancel": "cancelled",
    "start": "started",
    "finish": "finished",
    "resume": "resumed",
    "delete": "deleted",
}


def _past(action: str) -> str:
    return _PAST.get(action, f"{action}ed")


class ConfigArchivedError(ConflictError):
    """The config is archived; apply it again to run it."""

    code = "config-archived"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"config {name!r} is archived; apply it again to make a new, runnable version",
            extra={"name": name},
        )


class NothingToReplayError(ConflictError):
    """A replay selection matched no messages of the parent execution."""

    code = "nothing-to-replay"


class ExecutionInUseError(ConflictError):
    """A pending or running run (a replay, a resume) continues this one; delete it
    once that run has ended."""

    code = "execution-in-use"

    def __init__(self, execution_id: str, child_id: str) -> None:
        super().__init__(
            f"cannot delete execution {execution_id}: execution {child_id} continues it "
            "and is still pending or running; delete it once that run has ended",
            extra={"id": execution_id, "child_id": child_id},
        )


class ExecutionCapacityError(CapacityExceededError):
    """This server already runs as many executions as it may (``max_running_executions``)."""

    code = "capacity-exceeded"

    def __init__(self, capacity: int) -> None:
        super().__init__(
            f"this server already runs {capacity} executions (its limit, "
            "FACTFLOW_MAX_RUNNING_EXECUTIONS); retry when one finishes",
            extra={"capacity": capacity},
        )
