"""Who owns a run: this process's owner id, and whether another owner still lives.

An owner id is ``host:pid:token``: unique per process, and it says where the
process lived, so a process on the same host can tell at once that an owner
is gone (its pid no longer exists) without waiting for its heartbeat to age.
"""

from __future__ import annotations

import os
import socket
import uuid

__all__ = ["default_owner_id", "parse_owner_id", "pid_alive", "this_host"]


def this_host() -> str:
    return socket.gethostname()


def default_owner_id() -> str:
    """``host:pid:token`` for this process."""
    return f"{this_host()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def parse_owner_id(owner: str) -> tuple[str, int] | None:
    """``(host, pid)`` of an owner id made by ``default_owner_id`` (None otherwise)."""
    parts = owner.rsplit(":", 2)
    if len(parts) != 3 or not parts[1].isdigit():
        return None
    return parts[0], int(parts[1])


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
