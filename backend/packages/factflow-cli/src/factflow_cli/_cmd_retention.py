"""``factflow execution delete`` and ``factflow execution prune``: removing finished runs."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from factflow_cli._errors import InputError
from factflow_cli._ids import IdArg
from factflow_cli._options import globals_of

__all__ = ["register"]

FINISHED = ("completed", "failed", "cancelled", "interrupted")
#: The server's largest prune batch.
PRUNE_BATCH = 1000


def delete(
    ctx: typer.Context,
    execution_id: IdArg,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
) -> None:
    """Delete a finished execution: its row, lineage, events, stored objects and files.

    A pending or running run is refused (cancel it first). Replays of it are kept.

    Examples:

      factflow execution delete 0199a3f2

      factflow execution delete 0199a3f2 --yes
    """
    g = globals_of(ctx)
    client = g.client()
    execution = client.get_execution(execution_id)  # resolves a prefix; 404 if unknown
    full_id = str(execution.get("id"))
    status = str(execution.get("status"))
    if not yes and status in FINISHED:
        if not sys.stdin.isatty():
            raise InputError(f"not deleting {full_id} without confirmation: add --yes")
        typer.confirm(
            f"Delete execution {full_id} ({execution.get('config_name')}, {status}) with its "
            "lineage, events and stored objects?",
            abort=True,
            err=True,
        )
    client.delete_execution(full_id)
    if g.json:
        g.emit_json({"id": full_id, "deleted": True})
        return
    g.out.print(f"execution {full_id} deleted")


def _age(text: str) -> str:
    from factflow_cli._durations import parse_duration

    seconds = parse_duration(text)
    if seconds <= 0:
        raise InputError(f"--older-than {text!r} must be longer than zero")
    return f"{seconds:.3f}".rstrip("0").rstrip(".") + "s"


def prune(
    ctx: typer.Context,
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            metavar="DURATION",
            help="Runs that ended longer ago than this (30d, 12h, 1h30m).",
        ),
    ],
    status: Annotated[
        list[str] | None,
        typer.Option(
            "--status", "-s", help=f"Only runs that ended so (repeatable): {', '.join(FINISHED)}."
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be deleted; delete nothing.")
    ] = False,
) -> None:
    """Delete finished executions that ended longer ago than --older-than.

    Each run goes as `execution delete` removes it. Pending and running runs
    are never touched.

    Examples:

      factflow execution prune --older-than 30d --dry-run

      factflow execution prune --older-than 7d --status failed --status cancelled
    """
    g = globals_of(ctx)
    for value in status or []:
        if value not in FINISHED:
            raise InputError(f"cannot prune {value!r} runs; choose from {', '.join(FINISHED)}")
    body: dict[str, Any] = {
        "older_than": _age(older_than),
        "status": list(status or []),
        "limit": PRUNE_BATCH,
        "dry_run": dry_run,
    }
    client = g.client()
    ids: list[str] = []
    while True:
        result = client.prune(body)
        ids += list(result.get("execution_ids") or [])
        if dry_run or not result.get("more"):
            break
    more = bool(dry_run and result.get("more"))
    if g.json:
        g.emit_json(
            {
                "execution_ids": ids,
                "deleted": 0 if dry_run else len(ids),
                "dry_run": dry_run,
                "more": more,
                "ended_before": result.get("ended_before"),
            }
        )
        return
    if dry_run:
        for execution_id in ids:
            g.out.print(execution_id)
        extra = f" (the first {len(ids)}; more match)" if more else ""
        g.note(f"{len(ids)} executions would be deleted{extra}; run again without --dry-run")
        return
    g.out.print(f"deleted {len(ids)} executions that ended before {result.get('ended_before')}")


def register(app: typer.Typer) -> None:
    app.command("delete")(delete)
    app.command("prune")(prune)
