"""``factflow execution …``: list, inspect, control and follow executions.

Anywhere an ID is asked for, a unique prefix of at least 4 characters works;
an ambiguous one is an error that lists the candidates.
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

import typer

from factflow_cli._context import Globals
from factflow_cli._errors import ExitCode, InputError

__all__ = ["app"]

app = typer.Typer(
    help="List, inspect, cancel, replay, wait for and follow executions.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

IdArg = Annotated[str, typer.Argument(metavar="ID", help="Execution id or unique prefix (≥4).")]
TimeoutOpt = Annotated[
    str | None,
    typer.Option("--timeout", metavar="DURATION", help="Give up waiting after this long (exit 4)."),
]
STATUSES = ("pending", "running", "completed", "failed", "cancelled", "interrupted")
LINEAGE_STATUSES = ("processed", "failed", "filtered", "cancelled")


def _g(ctx: typer.Context) -> Globals:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Globals) else Globals()


def _seconds(timeout: str | None) -> float | None:
    from factflow_cli._durations import parse_duration

    return parse_duration(timeout) if timeout is not None else None


def _iso(value: str | None) -> str | None:
    if value is None:
        return None
    from factflow_cli._durations import parse_since

    return parse_since(value).astimezone(UTC).isoformat()


@app.command("list")
def list_(
    ctx: typer.Context,
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status", "-s", help=f"Only these statuses (repeatable): {', '.join(STATUSES)}."
        ),
    ] = None,
    config: Annotated[
        str | None, typer.Option("--config", "-c", help="Only runs of this config.")
    ] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="Only runs started by: cli, api, replay, demo, schedule."),
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="TIME", help="Created at or after: ISO time, or a duration ago (1h)."
        ),
    ] = None,
    until: Annotated[
        str | None,
        typer.Option("--until", metavar="TIME", help="Created before: ISO time or duration ago."),
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=500, help="At most this many.")
    ] = 20,
    cursor: Annotated[
        str | None, typer.Option("--cursor", help="Continue a previous listing (its next_cursor).")
    ] = None,
) -> None:
    """List executions, newest first.

    Examples:

      factflow execution list

      factflow execution list --status failed --status cancelled --since 1h

      factflow --output json execution list --config facts --limit 5
    """
    g = _g(ctx)
    for value in status or []:
        if value not in STATUSES:
            raise InputError(f"unknown status {value!r}; choose from {', '.join(STATUSES)}")
    page = g.client().list_executions(
        statuses=status or [],
        config=config,
        source=source,
        since=_iso(since),
        until=_iso(until),
        limit=limit,
        cursor=cursor,
    )
    if g.json:
        g.emit_json(page)
        return
    from factflow_cli._render import executions_table

    items = page.get("items") or []
    if not items:
        g.note("no executions match")
        return
    g.out.print(executions_table(items))
    if page.get("next_cursor"):
        g.note(f"more: factflow execution list --cursor {page['next_cursor']}")


@app.command("show")
def show(ctx: typer.Context, execution_id: IdArg) -> None:
    """Show an execution: status, times, params, per-route stats.

    Example:

      factflow execution show 0199a3f2
    """
    g = _g(ctx)
    execution = g.client().get_execution(execution_id)
    if g.json:
        g.emit_json(execution)
        return
    from factflow_cli._render import execution_detail

    g.out.print(execution_detail(execution))


@app.command("stats")
def stats(ctx: typer.Context, execution_id: IdArg) -> None:
    """Show an execution's per-route counts (live while it runs).

    Example:

      factflow execution stats 0199a3f2
    """
    g = _g(ctx)
    result = g.client().stats(execution_id)
    if g.json:
        g.emit_json(result)
        return
    from factflow_cli._render import stats_table

    g.out.print(stats_table(result))


@app.command("cancel")
def cancel(
    ctx: typer.Context,
    execution_id: IdArg,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why (recorded on the run).")
    ] = None,
) -> None:
    """Cancel a pending or running execution.

    Example:

      factflow execution cancel 0199a3f2 --reason "wrong source_dir"
    """
    g = _g(ctx)
    execution = g.client().cancel(execution_id, reason)
    if g.json:
        g.emit_json(execution)
        return
    g.out.print(f"execution {execution.get('id')} {execution.get('status')}")


@app.command("replay")
def replay(
    ctx: typer.Context,
    execution_id: IdArg,
    failed: Annotated[
        bool, typer.Option("--failed", help="Re-inject the failed messages (default).")
    ] = False,
    all_: Annotated[
        bool, typer.Option("--all", help="Re-inject every root message at its source routes.")
    ] = False,
    message: Annotated[
        list[str] | None,
        typer.Option(
            "--message", "-m", metavar="MESSAGE_ID", help="Re-inject this message (repeatable)."
        ),
    ] = None,
    route: Annotated[
        str | None, typer.Option("--route", "-r", help="Only messages of this route.")
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", "-l", metavar="KEY=VALUE", help="Label the replay."),
    ] = None,
    wait: Annotated[bool, typer.Option("--wait", "-w", help="Wait for the replay to end.")] = False,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Show live progress of the replay.")
    ] = False,
    timeout: TimeoutOpt = None,
) -> None:
    """Replay messages of an execution as a new execution (from its snapshot).

    Examples:

      factflow execution replay 0199a3f2 --failed --follow

      factflow execution replay 0199a3f2 --all --route store

      factflow execution replay 0199a3f2 --message 0199a3f2-77c1-… --wait
    """
    from factflow_cli._cmd_config import parse_pairs
    from factflow_cli._outcome import after_start

    g = _g(ctx)
    chosen = [
        name
        for name, on in (("--failed", failed), ("--all", all_), ("--message", bool(message)))
        if on
    ]
    if len(chosen) > 1:
        raise InputError(
            f"choose one of --failed, --all and --message (got {' and '.join(chosen)})"
        )
    if wait and follow:
        raise InputError("choose one of --wait and --follow")
    mode = "ids" if message else ("all" if all_ else "failed")
    seconds = _seconds(timeout)
    execution = g.client().replay(
        execution_id,
        mode=mode,
        message_ids=message or [],
        route=route,
        labels=parse_pairs(label, "label"),
    )
    code = after_start(
        g, execution, wait=wait, follow_it=follow, timeout=seconds, verb="started (replay)"
    )
    raise typer.Exit(int(code))


@app.command("wait")
def wait(ctx: typer.Context, execution_id: IdArg, timeout: TimeoutOpt = None) -> None:
    """Wait for an execution to end; the exit code says how it ended.

    0 completed, 1 failed, 3 cancelled or interrupted, 4 still running at --timeout.

    Examples:

      factflow execution wait 0199a3f2

      factflow execution wait 0199a3f2 --timeout 30s || echo "not done"
    """
    from factflow_cli._outcome import wait_for

    g = _g(ctx)
    raise typer.Exit(int(wait_for(g, execution_id, _seconds(timeout))))


@app.command("dag")
def dag(ctx: typer.Context, execution_id: IdArg) -> None:
    """Draw an execution's routes and edges with message counts.

    Example:

      factflow execution dag 0199a3f2
    """
    g = _g(ctx)
    result = g.client().dag(execution_id)
    if g.json:
        g.emit_json(result)
        return
    from factflow_cli._dag_view import dag_tree

    g.out.print(dag_tree(result))


@app.command("events")
def events(
    ctx: typer.Context,
    execution_id: IdArg,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the run ends.")
    ] = False,
    after: Annotated[int, typer.Option("--after", min=0, help="Only events after this seq.")] = 0,
    timeout: TimeoutOpt = None,
) -> None:
    """Print an execution's event log (status, routes, progress, failures, storage).

    With --follow, print new events as they happen until the run ends; the exit
    code is then the run's status.  With --output json, one JSON object per line.

    Examples:

      factflow execution events 0199a3f2

      factflow execution events 0199a3f2 --follow

      factflow --output json execution events 0199a3f2 | jq -c 'select(.kind=="message.failed")'
    """
    from factflow_cli._errors import FollowInterruptedError

    g = _g(ctx)
    client = g.client()
    execution = client.get_execution(execution_id)
    full_id = str(execution.get("id"))
    last_seq = int(execution.get("last_event_seq") or 0)
    if not follow and last_seq <= after:
        return
    code = _print_events(
        g,
        lambda on_reconnect: client.events(full_id, after=after or None, on_reconnect=on_reconnect),
        follow,
        last_seq,
        _seconds(timeout),
    )
    if code is None:
        raise FollowInterruptedError(full_id)
    raise typer.Exit(int(code))


def _print_events(
    g: Globals, events: Any, follow: bool, last_seq: int, timeout: float | None
) -> ExitCode | None:
    """Print events; stop at ``last_seq`` (no --follow) or at the end; ``None`` on Ctrl-C."""
    import json

    from factflow_cli._client import is_terminal_event
    from factflow_cli._errors import exit_code_for_status
    from factflow_cli._follow import TimedStream
    from factflow_cli._render import event_line

    status = ""
    stream = TimedStream(events, timeout, lambda reason, n: g.note(f"reconnecting ({reason})"))
    try:
        for event in stream:
            body = event.json()
            if g.json:
                print(json.dumps(body, ensure_ascii=False), flush=True)
            else:
                g.out.print(event_line(body))
            if body.get("kind") == "status":
                status = str((body.get("data") or {}).get("status"))
            if is_terminal_event(event):
                return exit_code_for_status(status) if follow else ExitCode.OK
            if not follow and int(body.get("seq") or 0) >= last_seq:
                return ExitCode.OK
    except KeyboardInterrupt:
        return None
    return ExitCode.TIMED_OUT if stream.timed_out else ExitCode.OK


@app.command("lineage")
def lineage(
    ctx: typer.Context,
    execution_id: IdArg,
    route: Annotated[str | None, typer.Option("--route", "-r", help="Only this route.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", "-s", help=f"Only: {', '.join(LINEAGE_STATUSES)}.")
    ] = None,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=10_000, help="At most this many.")
    ] = 50,
    after: Annotated[
        int | None, typer.Option("--after", min=0, help="Continue after this record #.")
    ] = None,
) -> None:
    """List what happened to each message at each route (lineage records).

    Examples:

      factflow execution lineage 0199a3f2 --status failed

      factflow execution lineage 0199a3f2 --route store --limit 10
    """
    g = _g(ctx)
    if status is not None and status not in LINEAGE_STATUSES:
        raise InputError(
            f"unknown lineage status {status!r}; choose from {', '.join(LINEAGE_STATUSES)}"
        )
    page = g.client().lineage(execution_id, route=route, status=status, after=after, limit=limit)
    if g.json:
        g.emit_json(page)
        return
    from factflow_cli._render import lineage_table

    items = page.get("items") or []
    if not items:
        g.note("no lineage records match")
        return
    g.out.print(lineage_table(items))
    if page.get("next_after") is not None:
        g.note(f"more: factflow execution lineage {execution_id} --after {page['next_after']}")
