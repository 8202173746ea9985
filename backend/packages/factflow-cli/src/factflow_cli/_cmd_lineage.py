"""``factflow execution lineage``: what happened to each message at each route."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from factflow_cli._errors import InputError
from factflow_cli._ids import IdArg
from factflow_cli._options import globals_of
from factflow_cli._paging import DEFAULT_LIMIT, AfterOpt, AllOpt, LimitOpt

__all__ = ["register"]

LINEAGE_STATUSES = ("processed", "failed", "filtered", "cancelled")
#: The server's largest page of lineage records.
PAGE_MAX = 10_000


def lineage(
    ctx: typer.Context,
    execution_id: IdArg,
    route: Annotated[str | None, typer.Option("--route", "-r", help="Only this route.")] = None,
    status: Annotated[
        str | None, typer.Option("--status", "-s", help=f"Only: {', '.join(LINEAGE_STATUSES)}.")
    ] = None,
    message: Annotated[
        str | None,
        typer.Option("--message", "-m", help="Only this message (its full id)."),
    ] = None,
    tree: Annotated[
        bool,
        typer.Option("--tree", help="With --message: its ancestry and descendants as a tree."),
    ] = False,
    payload: Annotated[
        bool,
        typer.Option(
            "--payload", help="With --message: print its input payload (JSON), even a large one."
        ),
    ] = False,
    depth: Annotated[
        int,
        typer.Option("--depth", min=1, max=10_000, help="With --tree: levels of descendants."),
    ] = 100,
    limit: LimitOpt = DEFAULT_LIMIT,
    all_: AllOpt = False,
    after: AfterOpt = None,
) -> None:
    """List what happened to each message at each route (lineage records).

    Examples:

      factflow execution lineage 0199a3f2 --status failed

      factflow execution lineage 0199a3f2 --route store --limit 10

      factflow execution lineage 0199a3f2 --message 0199a3f3-5c1e-7d2a-9f00-3b6c1d2e4f5a --tree

      factflow execution lineage 0199a3f2 --message 0199a3f3-5c1e-7d2a-9f00-3b6c1d2e4f5a --payload
    """
    from factflow_cli._paging import collect, continuation, int_cursor

    g = globals_of(ctx)
    if status is not None and status not in LINEAGE_STATUSES:
        raise InputError(
            f"unknown lineage status {status!r}; choose from {', '.join(LINEAGE_STATUSES)}"
        )
    if payload:
        if message is None or tree:
            raise InputError("--payload prints one message's payload: give --message, not --tree")
        import json

        value = g.client().message_payload(execution_id, message)
        sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
        return
    if tree:
        if message is None:
            raise InputError("--tree shows one message's lineage: add --message MESSAGE_ID")
        if route is not None or status is not None or after is not None or all_:
            raise InputError("--tree takes only --message and --depth (no list filters)")
        _show_tree(ctx, execution_id, message, depth)
        return
    start = int_cursor(after)
    client = g.client()

    def fetch(size: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        params = {
            "route": route,
            "status": status,
            "message_id": message,
            "after": cursor,
            "limit": size,
        }
        page = client.lineage(execution_id, params)
        next_after = page.get("next_after")
        return list(page.get("items") or []), None if next_after is None else str(next_after)

    page = collect(
        fetch,
        limit=None if all_ else limit,
        after=None if start is None else str(start),
        page_max=PAGE_MAX,
    )
    if g.json:
        next_after = None if page.next is None else int(page.next)
        g.emit_json({"items": page.items, "next_after": next_after})
        return
    from factflow_cli._render import lineage_table

    if not page.items:
        g.note("no lineage records match")
        return
    g.out.print(lineage_table(page.items))
    if page.next is not None:
        g.note(f"more: {continuation(ctx, page.next)}")


def _show_tree(ctx: typer.Context, execution_id: str, message: str, depth: int) -> None:
    g = globals_of(ctx)
    client = g.client()
    chain = client.ancestry(execution_id, message)
    below = client.descendants(execution_id, message, {"depth": depth})
    if g.json:
        g.emit_json({"ancestry": chain, "descendants": below})
        return
    from factflow_cli._render_lineage import lineage_tree

    g.out.print(lineage_tree(chain, below))


def register(app: typer.Typer) -> None:
    app.command("lineage")(lineage)
