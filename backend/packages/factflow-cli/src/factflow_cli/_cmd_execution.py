"""``factflow execution …``: list, inspect, control and follow executions.

Anywhere an ID is asked for, a unique prefix of at least 4 characters works;
an ambiguous one is an error that lists the candidates.  More commands of this
group live in ``_cmd_events`` and ``_cmd_lineage`` (registered by ``_app``).
"""

from __future__ import annotations

from datetime import UTC
from typing import Annotated, Any

import typer

from factflow_cli._errors import InputError
from factflow_cli._ids import IdArg
from factflow_cli._options import (
    AllowFailuresOpt,
    FollowOpt,
    LabelOpt,
    NoQueueOpt,
    PriorityOpt,
    TimeoutOpt,
    WaitOpt,
    globals_of,
    seconds,
)
from factflow_cli._paging import DEFAULT_LIMIT, AllOpt, LimitOpt

__all__ = ["app"]

app = typer.Typer(
    help="List, inspect, cancel, replay, resume, wait for and follow executions.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

STATUSES = ("pending", "running", "completed", "failed", "cancelled", "interrupted")
#: The server's largest page of executions.
PAGE_MAX = 500


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
        typer.Option(
            "--source", help="Only runs started by: cli, api, replay, resume, demo, schedule."
        ),
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
    label: Annotated[
        list[str] | None,
        typer.Option(
            "--label",
            "-l",
            metavar="KEY:VALUE",
            help="Only runs with this label (repeatable; all must hold; KEY=VALUE works too).",
        ),
    ] = None,
    limit: LimitOpt = DEFAULT_LIMIT,
    all_: AllOpt = False,
    after: Annotated[
        str | None,
        typer.Option(
            "--after",
            "--cursor",
            metavar="CURSOR",
            help="Continue a listing: the CURSOR its 'more:' line (or JSON next_cursor) gave.",
        ),
    ] = None,
) -> None:
    """List executions, newest first.

    When the terminal is too narrow for full ids, the ID column shows the
    shortest prefix that tells the listed runs apart; every command takes it.

    Examples:

      factflow execution list

      factflow execution list --status failed --status cancelled --since 1h

      factflow --format json execution list --config facts --limit 5

      factflow execution list --label team:search --label env:prod
    """
    from factflow_cli._paging import collect, continuation
    from factflow_cli._params import label_filter

    g = globals_of(ctx)
    for value in status or []:
        if value not in STATUSES:
            raise InputError(f"unknown status {value!r}; choose from {', '.join(STATUSES)}")
    filters: list[tuple[str, Any]] = [("status", s) for s in status or []]
    filters += [
        ("config", config),
        ("source", source),
        ("since", _iso(since)),
        ("until", _iso(until)),
    ]
    filters += [("label", label_filter(value)) for value in label or []]
    client = g.client()

    def fetch(size: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = client.list_executions([*filters, ("limit", size), ("cursor", cursor)])
        return list(page.get("items") or []), page.get("next_cursor")

    page = collect(fetch, limit=None if all_ else limit, after=after, page_max=PAGE_MAX)
    if g.json:
        g.emit_json({"items": page.items, "next_cursor": page.next})
        return
    from factflow_cli._render_runs import executions_table

    if not page.items:
        g.note("no executions match")
        return
    g.out.print(executions_table(page.items, g.out))
    if page.next:
        g.note(f"more: {continuation(ctx, page.next)}")


@app.command("show")
def show(ctx: typer.Context, execution_id: IdArg) -> None:
    """Show an execution: status, times, labels, params, per-route stats.

    Example:

      factflow execution show 0199a3f2
    """
    g = globals_of(ctx)
    execution = g.client().get_execution(execution_id)
    if g.json:
        g.emit_json(execution)
        return
    from factflow_cli._render_runs import execution_detail

    g.out.print(execution_detail(execution))


@app.command("stats")
def stats(ctx: typer.Context, execution_id: IdArg) -> None:
    """Show an execution's per-route counts (live while it runs).

    Example:

      factflow execution stats 0199a3f2
    """
    g = globals_of(ctx)
    result = g.client().stats(execution_id)
    if g.json:
        g.emit_json(result)
        return
    from factflow_cli._render_runs import stats_table

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
    g = globals_of(ctx)
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
    cancelled: Annotated[
        bool,
        typer.Option("--cancelled", help="Re-inject the messages a stop left unfinished."),
    ] = False,
    unfinished: Annotated[
        bool, typer.Option("--unfinished", help="Re-inject the failed and the cancelled messages.")
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
    label: LabelOpt = None,
    wait: WaitOpt = False,
    follow: FollowOpt = False,
    timeout: TimeoutOpt = None,
    allow_failures: AllowFailuresOpt = False,
    no_queue: NoQueueOpt = False,
    priority: PriorityOpt = 0,
) -> None:
    """Replay messages of an execution as a new execution (from its snapshot).

    Like `config run`, it waits in the run queue when the server is full
    (--no-queue fails instead).

    With --wait or --follow the exit code is the replay's, as for `config run`.

    Examples:

      factflow execution replay 0199a3f2 --failed --follow

      factflow execution replay 0199a3f2 --cancelled --wait

      factflow execution replay 0199a3f2 --all --route store

      factflow execution replay 0199a3f2 --message 0199a3f2-77c1-… --wait
    """
    from factflow_cli._outcome import after_start
    from factflow_cli._params import parse_labels

    g = globals_of(ctx)
    modes = (
        ("--failed", "failed", failed),
        ("--cancelled", "cancelled", cancelled),
        ("--unfinished", "unfinished", unfinished),
        ("--all", "all", all_),
        ("--message", "ids", bool(message)),
    )
    chosen = [(flag, mode) for flag, mode, on in modes if on]
    if len(chosen) > 1:
        raise InputError(
            "choose one of --failed, --cancelled, --unfinished, --all and --message"
            f" (got {' and '.join(flag for flag, _ in chosen)})"
        )
    if wait and follow:
        raise InputError("choose one of --wait and --follow")
    mode = chosen[0][1] if chosen else "failed"
    timeout_s = seconds(timeout)
    execution = g.client().replay(
        execution_id,
        mode=mode,
        message_ids=message or [],
        route=route,
        labels=parse_labels(label),
        queue=not no_queue,
        priority=priority,
    )
    code = after_start(
        g,
        execution,
        wait=wait,
        follow_it=follow,
        timeout=timeout_s,
        verb="started (replay)",
        allow_failures=allow_failures,
    )
    raise typer.Exit(int(code))


@app.command("resume")
def resume(
    ctx: typer.Context,
    execution_id: IdArg,
    label: LabelOpt = None,
    wait: WaitOpt = False,
    follow: FollowOpt = False,
    timeout: TimeoutOpt = None,
    allow_failures: AllowFailuresOpt = False,
) -> None:
    """Finish an interrupted or cancelled execution as a new execution.

    The resume runs the parent's snapshot and does exactly what the parent
    left unfinished (inputs never produced, messages that never settled); what
    settled in the parent is not done again.  A resume that is interrupted or
    cancelled in turn can be resumed.  With --wait or --follow the exit code
    is the resume's, as for `config run`.

    Examples:

      factflow execution resume 0199a3f2 --follow

      factflow execution resume 0199a3f2 --label reason=after-crash --wait
    """
    from factflow_cli._outcome import after_start
    from factflow_cli._params import parse_labels

    g = globals_of(ctx)
    if wait and follow:
        raise InputError("choose one of --wait and --follow")
    timeout_s = seconds(timeout)
    execution = g.client().resume(execution_id, labels=parse_labels(label))
    code = after_start(
        g,
        execution,
        wait=wait,
        follow_it=follow,
        timeout=timeout_s,
        verb="started (resume)",
        allow_failures=allow_failures,
    )
    raise typer.Exit(int(code))


@app.command("wait")
def wait(
    ctx: typer.Context,
    execution_id: IdArg,
    timeout: TimeoutOpt = None,
    allow_failures: AllowFailuresOpt = False,
) -> None:
    """Wait for an execution to end; the exit code says how it ended.

    0 completed, 1 failed (or completed with failed messages, unless
    --allow-failures), 3 cancelled or interrupted, 4 still running at --timeout.

    Examples:

      factflow execution wait 0199a3f2

      factflow execution wait 0199a3f2 --timeout 30s || echo "not done"
    """
    from factflow_cli._outcome import wait_for

    g = globals_of(ctx)
    code = wait_for(g, execution_id, seconds(timeout), allow_failures=allow_failures)
    raise typer.Exit(int(code))


@app.command("dag")
def dag(ctx: typer.Context, execution_id: IdArg) -> None:
    """Draw an execution's routes and edges with message counts.

    Example:

      factflow execution dag 0199a3f2
    """
    g = globals_of(ctx)
    result = g.client().dag(execution_id)
    if g.json:
        g.emit_json(result)
        return
    from factflow_cli._dag_view import dag_tree

    g.out.print(dag_tree(result))
