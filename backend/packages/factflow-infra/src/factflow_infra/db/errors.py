"""Driver errors, translated where they arise: inside ``Database``.

A statement that fails inside ``Database.transaction()`` or ``Database.connect()``
leaves the block as a FactFlow error when its cause is clear, so no caller (the
server above all) needs to know SQLAlchemy's or a driver's exception classes::

    InvalidInputError
    └── DatabaseValueError          a value the database cannot store or compare
                                    (SQLSTATE class 22, "data exception": a NUL
                                    character, a number out of range)
    InfrastructureError
    └── DatabaseUnavailableError    the connection was lost or refused, or the
                                    database is busy or otherwise not operational

Anything else (an integrity violation, a programming error) stays the driver's
exception: it is a bug to fix, not a condition to report.  The original error
is always chained (``__cause__``) for the logs.
"""

from __future__ import annotations

from factflow_foundation import FactFlowError, InfrastructureError, InvalidInputError
from sqlalchemy.exc import DataError, DBAPIError, InterfaceError, OperationalError

__all__ = ["DatabaseUnavailableError", "DatabaseValueError", "translate_driver_error"]


class DatabaseValueError(InvalidInputError):
    """The database refused a value of the request (it cannot store or compare it)."""

    code = "invalid-input"


class DatabaseUnavailableError(InfrastructureError):
    """The database connection was lost or refused, or the database is busy."""

    code = "infrastructure"


def _sqlstate(exc: DBAPIError) -> str:
    state = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return state if isinstance(state, str) else ""


def translate_driver_error(exc: DBAPIError) -> FactFlowError | None:
    """The FactFlow error ``exc`` means, or None when it has no clear meaning."""
    if isinstance(exc, DataError) or _sqlstate(exc).startswith("22"):
        return DatabaseValueError(
            "the database cannot store or compare a value in this request "
            "(for example a NUL character, or a number out of range)"
        )
    if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
        return DatabaseUnavailableError("the database is unavailable or busy; retry shortly")
    return None
