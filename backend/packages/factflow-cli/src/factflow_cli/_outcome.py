"""After starting an execution: follow it, wait for it, or just say how to.

Every path ends the same way: the final execution (``--format json``) or a
summary (status, duration, per-route counts, storage, first failures), and the
exit code of how it ended (``exit_code_for_run``: a run that completed with
failed messages exits 1 unless ``--allow-failures``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.text import Text

from factflow_cli._context import Globals
from factflow_cli._durations import format_duration
from factflow_cli._errors import (
    ExitCode,
    FollowInterruptedError,
    exit_code_for_run,
    failed_messages,
)
from factflow_cli._render import line, status_text
from factflow_cli._render_runs import failures_table, stats_table

__all__ = ["after_start", "finish", "follow", "summary", "wait_for"]

_ICONS = {"completed": "✓", "failed": "✗", "cancelled": "■", "interrupted": "■"}


def summary(execution: Mapping[str, Any], failures: Sequence[Mapping[str, Any]]) -> Group:
    """The end-of-run summary of a terminal execution."""
    status = str(execution.get("status"))
    stats = execution.get("stats") or {}
    head = Text()
    head.append(f"{_ICONS.get(status, '•')} ", style=status_text(status).style)
    head.append(status_text(status))
    version = execution.get("config_version")
    head.append(f"  {execution.get('config_name')}" + (f" v{version}" if version else ""))
    head.append(f"  {execution.get('id')}", style="dim")
    head.append(f"  in {format_duration(stats.get('duration_seconds'))}")
    parts: list[RenderableType] = [head]
    if execution.get("error"):
        parts.append(Text(f"error: {execution['error']}", style="red"))
    if stats.get("routes"):
        parts.append(stats_table(stats, hide_idle=bool(execution.get("parent_execution_id"))))
    parts.append(
        line(
            f"storage: {stats.get('storage_objects', 0)} objects, "
            f"{stats.get('storage_bytes', 0)} bytes  "
            f"(factflow storage ls {execution.get('id')})"
        )
    )
    failed = int((stats.get("totals") or {}).get("failed", 0))
    if failed:
        parts.append(Text(f"failures: {failed} messages failed; the first errors:", style="red"))
        if failures:
            parts.append(failures_table(failures))
        parts.append(
            line(f"replay them with: factflow execution replay {execution.get('id')} --failed")
        )
    return Group(*parts)


def first_failures(g: Globals, execution_id: str, limit: int = 5) -> list[dict[str, Any]]:
    page = g.client().lineage(execution_id, {"status": "failed", "limit": limit})
    return [dict(item) for item in page.get("items") or []]


def finish(
    g: Globals,
    execution_id: str,
    *,
    timed_out: bool,
    last_status: str,
    failures: Sequence[Mapping[str, Any]] | None = None,
    emit: bool = True,
    allow_failures: bool = False,
) -> ExitCode:
    """Print the outcome (the execution JSON only if ``emit``) and return the exit code."""
    execution = g.client().get_execution(execution_id)
    status = str(execution.get("status"))
    if timed_out and status not in _ICONS:
        if g.json:
            if emit:
                g.emit_json(execution)
        else:
            g.note(
                f"timed out waiting: execution {execution_id} is still {status or last_status}; "
                f"keep waiting with: factflow execution wait {execution_id}"
            )
        return ExitCode.TIMED_OUT
    code = exit_code_for_run(execution, allow_failures=allow_failures)
    if g.json:
        if emit:
            g.emit_json(execution)
        return code
    failed = failed_messages(execution)
    if failed and not failures:
        failures = first_failures(g, execution_id)
    g.out.print(summary(execution, list(failures or [])))
    if failed and status == "completed" and code is ExitCode.FAILED:
        g.note(
            f"exit 1: the run completed, but {failed} messages failed "
            "(--allow-failures exits 0 for that)"
        )
    return code


def wait_for(
    g: Globals, execution_id: str, timeout: float | None, *, allow_failures: bool = False
) -> ExitCode:
    """Long-poll until terminal (or ``timeout``), then ``finish``."""
    try:
        result = g.client().wait_until(execution_id, timeout)
    except KeyboardInterrupt:
        raise FollowInterruptedError(execution_id) from None
    return finish(
        g,
        str(result.get("execution_id") or execution_id),
        timed_out=bool(result.get("timed_out")),
        last_status=str(result.get("status")),
        allow_failures=allow_failures,
    )


def follow(
    g: Globals,
    execution_id: str,
    timeout: float | None,
    *,
    emit: bool = True,
    allow_failures: bool = False,
) -> ExitCode:
    """Follow the SSE stream with live progress, then ``finish``."""
    from factflow_cli._follow import follow_events

    client = g.client()
    try:
        outcome = follow_events(
            lambda on_reconnect: client.events(execution_id, on_reconnect=on_reconnect),
            execution_id=execution_id,
            console=g.err,
            timeout=timeout,
            quiet=g.json,
        )
    except KeyboardInterrupt:
        raise FollowInterruptedError(execution_id) from None
    return finish(
        g,
        execution_id,
        timed_out=outcome.timed_out,
        last_status=outcome.status,
        failures=outcome.failures,
        emit=emit,
        allow_failures=allow_failures,
    )


def after_start(
    g: Globals,
    execution: Mapping[str, Any],
    *,
    wait: bool,
    follow_it: bool,
    timeout: float | None,
    verb: str = "started",
    allow_failures: bool = False,
) -> ExitCode:
    """What ``config run`` / ``execution replay`` do once the server accepted the run."""
    execution_id = str(execution.get("id"))
    position = execution.get("queue_position")
    if execution.get("status") == "pending" and position is not None:
        verb = f"queued at position {position}: it starts when a server has a free slot"
    if not (wait or follow_it):
        if g.json:
            g.emit_json(dict(execution))
        else:
            g.out.print(line(f"execution {execution_id} {verb}"))
            g.note(
                f"follow it with: factflow execution events {execution_id} --follow, "
                f"or wait with: factflow execution wait {execution_id}"
            )
        return ExitCode.OK
    if not g.json:
        g.note(f"execution {execution_id} {verb}")
    if follow_it:
        return follow(g, execution_id, timeout, allow_failures=allow_failures)
    return wait_for(g, execution_id, timeout, allow_failures=allow_failures)
