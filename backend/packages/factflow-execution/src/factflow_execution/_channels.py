"""PostgreSQL NOTIFY channels between server processes, and the one function that sends.

Four channels carry wake-ups, never state: ``factflow_events`` says "execution
X's log grew up to seq N" (readers then read the log by cursor),
``factflow_logs`` the same of its run log (``execution_logs``),
``factflow_control`` asks the process that owns a run to stop it, and
``factflow_schedules`` says a schedule changed (every scheduler loop looks again),
and ``factflow_queue`` says the run queue may hold a run some server can start
now (a run was queued, a config limit changed, a server let go of a slot it
will not reuse): every server's queue dispatcher looks again.  Every
NOTIFY FactFlow issues goes through ``notify``; it runs inside the caller's
transaction, so PostgreSQL delivers it at commit, never before the rows it
announces are visible.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from factflow_foundation import dumps
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection

__all__ = [
    "CONTROL_CHANNEL",
    "LOGS_CHANNEL",
    "NOTIFY_CHANNEL",
    "QUEUE_CHANNEL",
    "SCHEDULE_CHANNEL",
    "Wakeup",
    "notify",
]

NOTIFY_CHANNEL: Final = "factflow_events"
CONTROL_CHANNEL: Final = "factflow_control"
LOGS_CHANNEL: Final = "factflow_logs"
SCHEDULE_CHANNEL: Final = "factflow_schedules"
QUEUE_CHANNEL: Final = "factflow_queue"

_NOTIFY = text("SELECT pg_notify(:channel, :payload)")


@dataclass(frozen=True, slots=True)
class Wakeup:
    """A notification that an execution's log grew (from another process).

    Carries no event: whoever receives it reads the log (or the row) by cursor.
    """

    execution_id: str
    seq: int | None = None


async def notify(conn: AsyncConnection, channel: str, payload: str | dict[str, Any]) -> None:
    """Queue a NOTIFY on ``channel`` in ``conn``'s transaction (PostgreSQL only;
    a no-op on SQLite, where every reader lives in this process).  A mapping is
    sent as JSON, a string as it is."""
    if conn.dialect.name != "postgresql":
        return
    text_payload = payload if isinstance(payload, str) else dumps(payload)
    await conn.execute(_NOTIFY, {"channel": channel, "payload": text_payload})
