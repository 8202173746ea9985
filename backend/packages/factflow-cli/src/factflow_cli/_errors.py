"""Exit codes and the CLI's error tree.

Every error the CLI reports on purpose is a ``CliError`` carrying the exit code
the process ends with; the root command group prints its message (one line,
no traceback) and exits::

    CliError                    exit 1 unless a subclass says otherwise
    ├── InputError              2  a bad argument, file, duration or config
    ├── ServerUnreachableError  1  nothing answered at the URL tried
    ├── ProblemError            2 for 4xx except 409, else 1 (RFC 9457 body)
    └── ProtocolError           1  the server answered something unexpected

``FollowInterruptedError`` (Ctrl-C while following or waiting) is not a
``CliError``: the run goes on, and the root group says how to cancel it.

The process exit codes (``ExitCode``) are part of the CLI's contract with
scripts: 0 completed, 1 failed, 2 usage or input error, 3 cancelled or
interrupted, 4 timed out waiting, 130 stopped with Ctrl-C.  A run that
completed with failed messages exits 1 unless ``--allow-failures``
(``exit_code_for_run``).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import IntEnum
from typing import Any

__all__ = [
    "CliError",
    "ExitCode",
    "FollowInterruptedError",
    "InputError",
    "ProblemError",
    "ProtocolError",
    "ServerUnreachableError",
    "exit_code_for_run",
    "exit_code_for_status",
    "failed_messages",
]


class ExitCode(IntEnum):
    """How the ``factflow`` process ends."""

    OK = 0
    FAILED = 1
    USAGE = 2
    CANCELLED = 3
    TIMED_OUT = 4
    INTERRUPTED = 130


_BY_STATUS = {
    "completed": ExitCode.OK,
    "failed": ExitCode.FAILED,
    "cancelled": ExitCode.CANCELLED,
    "interrupted": ExitCode.CANCELLED,
}


def exit_code_for_status(status: str) -> ExitCode:
    """The exit code of a command that waited for an execution ending in ``status``.

    A status that is not terminal (``pending``/``running``) means the wait timed out.
    """
    return _BY_STATUS.get(status, ExitCode.TIMED_OUT)


def failed_messages(execution: Mapping[str, Any]) -> int:
    """How many messages of ``execution`` ended failed (its stats' ``totals.failed``)."""
    totals = (execution.get("stats") or {}).get("totals") or {}
    try:
        return int(totals.get("failed") or 0)
    except (TypeError, ValueError):
        return 0


def exit_code_for_run(execution: Mapping[str, Any], *, allow_failures: bool) -> ExitCode:
    """The exit code of a command that waited for ``execution`` to end.

    Its status decides (``exit_code_for_status``), except that a run that
    *completed* with failed messages (``on_message_error: continue`` keeps the
    run going past them) exits 1 too, so a script or CI job notices, unless
    ``allow_failures``.  The run's status itself stays what the server says.
    """
    code = exit_code_for_status(str(execution.get("status")))
    if code is ExitCode.OK and not allow_failures and failed_messages(execution):
        return ExitCode.FAILED
    return code


class CliError(Exception):
    """An error reported to the user as one message and an exit code."""

    exit_code: ExitCode = ExitCode.FAILED

    def __init__(self, message: str, *, hints: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hints: list[str] = list(hints or [])


class InputError(CliError):
    """Something the user typed or pointed at cannot be used."""

    exit_code = ExitCode.USAGE


class ServerUnreachableError(CliError):
    """No FactFlow server answered at the URL tried."""

    def __init__(self, url: str, reason: str) -> None:
        super().__init__(
            f"cannot reach the FactFlow server at {url} ({reason}); start one with "
            "`factflow server` or point --server / FACTFLOW_SERVER_URL at it"
        )
        self.url = url


class ProtocolError(CliError):
    """The server's answer was not what the REST contract promises."""


class ProblemError(CliError):
    """An RFC 9457 problem the server answered with.

    ``code`` is the slug of ``urn:factflow:problem:<code>``; ``problem`` the
    whole body (``issues`` and ``candidates`` among its extensions).
    """

    def __init__(self, status: int, problem: dict[str, Any]) -> None:
        self.status = status
        self.problem = problem
        super().__init__(self._headline())
        #: The file the request's body came from (``config apply``), to name in issues.
        self.source_name: str | None = None
        kind = str(problem.get("type") or "")
        self.code = kind.rsplit(":", 1)[-1] if kind.startswith("urn:factflow:problem:") else kind
        # 4xx is the caller's input (unknown id, invalid config, ambiguous prefix);
        # 409 (cancel a finished run, nothing to replay) and 5xx are not.
        self.exit_code = (
            ExitCode.USAGE if 400 <= status < 500 and status != 409 else ExitCode.FAILED
        )

    def _headline(self) -> str:
        """The one-line message.  The issues and candidates the problem lists in
        fields are printed from those fields, so the headline leaves out the
        copies the server's ``detail`` spells out for clients that read only it."""
        problem = self.problem
        detail = str(problem.get("detail") or problem.get("title") or f"HTTP {self.status}")
        if self.issues:
            return detail.splitlines()[0].rstrip(":") or detail
        if self.candidates and problem.get("prefix"):
            count = len(self.candidates)
            many = f"{count} or more" if count >= 10 else str(count)  # the server lists 10
            prefix = problem["prefix"]
            return f"id prefix {prefix!r} matches {many} executions; type more characters"
        return detail

    @property
    def issues(self) -> list[dict[str, Any]]:
        issues = self.problem.get("issues")
        return [i for i in issues if isinstance(i, dict)] if isinstance(issues, list) else []

    @property
    def candidates(self) -> list[str]:
        candidates = self.problem.get("candidates")
        return [str(c) for c in candidates] if isinstance(candidates, list) else []


class FollowInterruptedError(Exception):
    """Ctrl-C while following or waiting: the run goes on; exit 130 with a hint.

    ``args[0]`` is the execution id.
    """
