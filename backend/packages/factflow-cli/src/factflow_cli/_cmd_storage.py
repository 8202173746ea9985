"""``factflow storage …``: the artifacts an execution wrote."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from factflow_cli._context import Globals
from factflow_cli._errors import ExitCode, InputError

__all__ = ["app"]

app = typer.Typer(
    help="List, fetch and watch the objects executions store.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

IdArg = Annotated[str, typer.Argument(metavar="ID", help="Execution id or unique prefix (≥4).")]
PAGE = 1000


def _g(ctx: typer.Context) -> Globals:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Globals) else Globals()


@app.command("ls")
def ls(
    ctx: typer.Context,
    execution_id: IdArg,
    limit: Annotated[
        int | None, typer.Option("--limit", "-n", min=1, help="At most this many (default: all).")
    ] = None,
    after: Annotated[
        int | None, typer.Option("--after", min=0, help="Continue after this id.")
    ] = None,
) -> None:
    """List the objects an execution stored.

    Examples:

      factflow storage ls 0199a3f2

      factflow --output json storage ls 0199a3f2 | jq -r '.items[].key'
    """
    g = _g(ctx)
    client = g.client()
    items: list[dict[str, Any]] = []
    cursor = after
    next_after: int | None = None
    while True:
        want = PAGE if limit is None else min(PAGE, limit - len(items))
        page = client.storage_objects(execution_id, after=cursor, limit=want)
        items += page.get("items") or []
        next_after = page.get("next_after")
        if next_after is None or (limit is not None and len(items) >= limit):
            break
        cursor = next_after
    if g.json:
        g.emit_json({"items": items, "next_after": next_after})
        return
    if not items:
        g.note("no objects stored")
        return
    from factflow_cli._render import storage_table

    g.out.print(storage_table(items))
    total = sum(int(o.get("size") or 0) for o in items)
    g.note(f"{len(items)} objects, {total} bytes")


@app.command("get")
def get(
    ctx: typer.Context,
    execution_id: IdArg,
    key: Annotated[str, typer.Argument(help="Object key (see storage ls).")],
    out: Annotated[
        Path | None,
        typer.Option("-o", "--file", metavar="FILE", help="Write to FILE instead of stdout."),
    ] = None,
) -> None:
    """Fetch one stored object's bytes.

    Examples:

      factflow storage get 0199a3f2 facts/0199…/0199….json

      factflow storage get 0199a3f2 report.csv -o report.csv
    """
    g = _g(ctx)
    data = g.client().storage_object(execution_id, key)
    if out is None:
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    try:
        out.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write {out}: {exc}") from None
    if g.json:
        g.emit_json({"key": key, "file": str(out), "size": len(data)})
    else:
        g.note(f"wrote {len(data)} bytes to {out}")


@app.command("watch")
def watch(
    ctx: typer.Context,
    execution_id: IdArg,
    after: Annotated[
        int, typer.Option("--after", min=0, help="Only writes after this event seq.")
    ] = 0,
    timeout: Annotated[
        str | None,
        typer.Option(
            "--timeout", metavar="DURATION", help="Stop watching after this long (exit 4)."
        ),
    ] = None,
) -> None:
    """Print each object as the execution writes it, until the execution ends.

    The exit code is then the execution's status (0 completed, 1 failed, 3 cancelled).
    With --output json, one JSON object per line.

    Example:

      factflow storage watch 0199a3f2
    """
    import json

    from factflow_cli._durations import parse_duration
    from factflow_cli._errors import FollowInterruptedError, exit_code_for_status
    from factflow_cli._follow import TimedStream
    from factflow_cli._render import event_line

    g = _g(ctx)
    client = g.client()
    full_id = str(client.get_execution(execution_id).get("id"))
    status = ""
    count = 0
    stream = TimedStream(
        lambda on_reconnect: client.storage_events(
            full_id, after=after or None, on_reconnect=on_reconnect
        ),
        parse_duration(timeout) if timeout is not None else None,
    )
    try:
        for event in stream:
            body = event.json()
            kind = body.get("kind")
            data = body.get("data") or {}
            if kind == "status":
                status = str(data.get("status"))
            if g.json:
                print(json.dumps(body, ensure_ascii=False), flush=True)
            elif kind == "storage.written":
                count += 1
                g.out.print(event_line(body))
            else:
                g.note(f"execution {full_id} {status}")
    except KeyboardInterrupt:
        raise FollowInterruptedError(full_id) from None
    if not g.json:
        g.note(f"{count} objects written")
    if stream.timed_out:
        raise typer.Exit(int(ExitCode.TIMED_OUT))
    raise typer.Exit(int(exit_code_for_status(status)) if status else int(ExitCode.OK))
