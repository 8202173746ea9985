"""Errors of schedules (branches of the ``factflow_foundation`` tree).

NotFoundError
└── ScheduleNotFoundError      no schedule with that id or name
ConflictError
└── ScheduleExistsError        a schedule of that name exists already
InvalidInputError
└── InvalidScheduleError       a spec the scheduler cannot use
"""

from __future__ import annotations

from factflow_foundation import ConflictError, InvalidInputError, NotFoundError

__all__ = ["InvalidScheduleError", "ScheduleExistsError", "ScheduleNotFoundError"]


class ScheduleNotFoundError(NotFoundError):
    code = "schedule-not-found"

    def __init__(self, ref: str) -> None:
        super().__init__(f"no schedule with id or name {ref!r}", extra={"schedule": ref})


class ScheduleExistsError(ConflictError):
    code = "schedule-exists"

    def __init__(self, name: str) -> None:
        super().__init__(
            f"a schedule named {name!r} exists already; delete it first or pick another name",
            extra={"name": name},
        )


class InvalidScheduleError(InvalidInputError):
    code = "invalid-schedule"
