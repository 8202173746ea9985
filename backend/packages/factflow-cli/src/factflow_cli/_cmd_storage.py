"""``factflow storage …``: the artifacts an execution wrote."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from factflow_cli._cmd_storage_export import export
from factflow_cli._context import Globals
from factflow_cli._errors import ExitCode, InputError, ProblemError
from factflow_cli._ids import IdArg
from factflow_cli._options import AllowFailuresOpt, globals_of, seconds
from factflow_cli._paging import DEFAULT_LIMIT, AfterOpt, AllOpt, LimitOpt

__all__ = ["app"]

app = typer.Typer(
    help="List, fetch and watch the objects executions store.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

#: The server's largest page of stored objects.
PAGE_MAX = 10_000


@app.command("ls")
def ls(
    ctx: typer.Context,
    execution_id: IdArg,
    limit: LimitOpt = DEFAULT_LIMIT,
    all_: AllOpt = False,
    after: AfterOpt = None,
) -> None:
    """List the objects an execution stored, in the order written.

    The # column numbers the objects; --after N continues after object N.

    Examples:

      factflow storage ls 0199a3f2

      factflow storage ls 0199a3f2 --limit 10 --after 120

      factflow --format json storage ls 0199a3f2 --all | jq -r '.items[].key'
    """
    from factflow_cli._paging import collect, continuation, int_cursor

    g = globals_of(ctx)
    client = g.client()
    start = int_cursor(after)

    def fetch(size: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        page = client.storage_objects(execution_id, {"after": cursor, "limit": size})
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
    from factflow_cli._render import storage_table

    if page.items:
        g.out.print(storage_table(page.items))
    size = sum(int(o.get("size") or 0) for o in page.items)
    if page.next is None and start is None:
        g.note(f"{len(page.items)} objects, {size} bytes" if page.items else "no objects stored")
        return
    # Part of the listing: say of how much, from the execution's own counts.
    stats = client.get_execution(execution_id).get("stats") or {}
    total, total_size = stats.get("storage_objects"), stats.get("storage_bytes")
    of = f" of {total}" if total is not None else ""
    of_size = f" of {total_size}" if total_size is not None else ""
    g.note(f"{len(page.items)}{of} objects shown, {size}{of_size} bytes")
    if page.next is not None:
        g.note(f"more: {continuation(ctx, page.next)}")


@app.command("get")
def get(
    ctx: typer.Context,
    execution_id: IdArg,
    key: Annotated[str, typer.Argument(help="Object key, as `storage ls` shows it.")],
    to: Annotated[
        Path | None,
        typer.Option(
            "--to",
            "-o",
            "--file",
            metavar="FILE",
            help="Write to FILE (- for stdout; default stdout).  An existing FILE "
            "with the same content is left alone.",
        ),
    ] = None,
) -> None:
    """Fetch one stored object's bytes.

    With --to FILE, the download is skipped when FILE already holds the
    object (the server's ETag is its SHA-256, sent as If-None-Match), and a
    new FILE appears whole or not at all.

    Examples:

      factflow storage get 0199a3f2 facts/0199…/0199….json

      factflow storage get 0199a3f2 report.csv --to report.csv
    """
    g = globals_of(ctx)
    if to is not None and str(to) == "-":
        to = None
    current = _etag_of(to) if to is not None else None
    try:
        fetched = g.client().storage_object(execution_id, key, if_none_match=current)
    except ProblemError as error:
        if error.status == 404:
            error.hints.append(f"list the keys with: factflow storage ls {execution_id}")
        raise
    if to is None:
        sys.stdout.buffer.write(fetched.data or b"")
        sys.stdout.flush()
        return
    written = 0
    if fetched.data is not None:
        _write_whole(to, fetched.data)
        written = len(fetched.data)
    if g.json:
        g.emit_json(
            {"key": key, "file": str(to), "size": written, "unchanged": fetched.not_modified}
        )
    elif fetched.not_modified:
        g.note(f"{to} is up to date (same content as {key}); nothing downloaded")
    else:
        g.note(f"wrote {written} bytes to {to}")


def _etag_of(path: Path) -> str | None:
    """The ETag the server gives an object with ``path``'s bytes, if it is a file."""
    import hashlib

    try:
        with path.open("rb") as file:
            digest = hashlib.file_digest(file, "sha256")
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        return None
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    return f'"{digest.hexdigest()}"'


def _write_whole(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file beside it, so a failed
    download never leaves a half-written file."""
    import os
    import tempfile

    try:
        fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(data)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc}") from None


app.command("export")(export)


@app.command("watch")
def watch(
    ctx: typer.Context,
    execution_id: IdArg,
    after: Annotated[
        int, typer.Option("--after", metavar="SEQ", min=0, help="Only writes after this event seq.")
    ] = 0,
    timeout: Annotated[
        str | None,
        typer.Option(
            "--timeout", metavar="DURATION", help="Stop watching after this long (exit 4)."
        ),
    ] = None,
    allow_failures: AllowFailuresOpt = False,
) -> None:
    """Print each object as the execution writes it, until the execution ends.

    The exit code is then how the execution ended, as for `execution wait`.
    With --format json, one JSON object per line.

    Example:

      factflow storage watch 0199a3f2
    """
    from factflow_cli._errors import FollowInterruptedError, exit_code_for_run

    g = globals_of(ctx)
    client = g.client()
    full_id = str(client.get_execution(execution_id).get("id"))
    try:
        status, timed_out = _print_writes(g, full_id, after, seconds(timeout))
    except KeyboardInterrupt:
        raise FollowInterruptedError(full_id) from None
    if timed_out:
        raise typer.Exit(int(ExitCode.TIMED_OUT))
    if not status:
        raise typer.Exit(int(ExitCode.OK))
    final = client.get_execution(full_id)
    raise typer.Exit(int(exit_code_for_run(final, allow_failures=allow_failures)))


def _print_writes(
    g: Globals, execution_id: str, after: int, timeout: float | None
) -> tuple[str, bool]:
    """Print storage writes until the end; (last status seen, whether it timed out)."""
    import json

    from factflow_cli._follow import TimedStream
    from factflow_cli._render import event_line

    client = g.client()
    status = ""
    count = 0
    stream = TimedStream(
        lambda on_reconnect: client.storage_events(
            execution_id, after=after or None, on_reconnect=on_reconnect
        ),
        timeout,
    )
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
            g.note(f"execution {execution_id} {status}")
    if not g.json:
        g.note(f"{count} objects written")
    return status, stream.timed_out
