"""``factflow queue``: the runs waiting for a slot, in start order, and the
per-config limits (set them with ``factflow config limit``)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from factflow_cli._options import globals_of
from factflow_cli._render import timestamp

__all__ = ["register"]


def queue(
    ctx: typer.Context,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=1000, help="Show at most this many.")
    ] = 20,
) -> None:
    """Show the run queue: runs waiting for a free slot, the next to start first.

    A run waits here when every server is at capacity, or its config is at its
    limit; any server on the database starts the next one as a slot frees
    (higher priority first, then first come, first served).

    Examples:

      factflow queue

      factflow --format json queue --limit 500 | jq '.items[].execution_id'
    """
    g = globals_of(ctx)
    view = g.client().queue(limit)
    if g.json:
        g.emit_json(view)
        return
    items = view.get("items") or []
    g.out.print(
        f"{view.get('total', 0)} run(s) waiting; this server runs "
        f"{view.get('running_here', 0)} of {view.get('capacity', '?')} at once"
    )
    if items:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for name in ("#", "EXECUTION", "CONFIG", "PRIORITY", "QUEUED"):
            table.add_column(name, no_wrap=True, justify="right" if name == "#" else "left")
        for item in items:
            table.add_row(
                str(item.get("position")),
                str(item.get("execution_id")),
                str(item.get("config_name")),
                str(item.get("priority")),
                timestamp(item.get("enqueued_at")),
            )
        g.out.print(table)
    limits = view.get("limits") or []
    for entry in limits:
        g.out.print(
            f"limit {entry.get('config_name')}: at most {entry.get('max_running')} at once "
            f"({entry.get('running', 0)} running, {entry.get('queued', 0)} queued)"
        )


def register(app: typer.Typer) -> None:
    app.command("queue")(queue)
