"""``factflow execution logs``: what a run's processors and adapters logged, and its
failures with their tracebacks; printed, or followed until the run ends."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Annotated, Any

import typer
from rich.text import Text

from factflow_cli._errors import ExitCode, InputError
from factflow_cli._ids import IdArg
from factflow_cli._options import AllowFailuresOpt, TimeoutOpt, globals_of, seconds

__all__ = ["log_lines", "register"]

LEVELS = ("debug", "info", "warning", "error", "critical")
LEVEL_STYLES = {"debug": "dim", "warning": "yellow", "error": "red", "critical": "bold red"}
#: The server's largest page of log records.
PAGE_MAX = 10_000


def logs(
    ctx: typer.Context,
    execution_id: IdArg,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the run ends.")
    ] = False,
    message: Annotated[
        str | None,
        typer.Option("--message", "-m", metavar="MESSAGE_ID", help="Only this message's records."),
    ] = None,
    level: Annotated[
        str | None,
        typer.Option("--level", "-l", help=f"Only this level and above: {', '.join(LEVELS)}."),
    ] = None,
    after: Annotated[
        int, typer.Option("--after", metavar="SEQ", min=0, help="Only records after this seq.")
    ] = 0,
    timeout: TimeoutOpt = None,
    allow_failures: AllowFailuresOpt = False,
) -> None:
    """Print an execution's log: what its processors and adapters logged, and every
    failed attempt at a message with its traceback.

    Each line: seq, local time to the millisecond, level, route, message id and
    attempt, then the message; tracebacks follow, indented.  With --follow, print
    new records as they are written until the run ends; the exit code is then
    how it ended, as for `execution wait`.  With --format json, one JSON object
    per line.

    Examples:

      factflow execution logs 0199a3f2 --level warning

      factflow execution logs 0199a3f2 --message 0199a3f2-77c1-… --follow

      factflow --format json execution logs 0199a3f2 | jq -r 'select(.traceback) | .traceback'
    """
    g = globals_of(ctx)
    if level is not None and level.lower() not in LEVELS:
        raise InputError(f"unknown log level {level!r}; choose from {', '.join(LEVELS)}")
    client = g.client()
    full_id = str(client.get_execution(execution_id).get("id"))
    filters = {"message_id": message, "level": level.lower() if level else None}
    if not follow:
        for record in _pages(client, full_id, filters, after):
            _print(g, record)
        return
    from factflow_cli._errors import FollowInterruptedError, exit_code_for_run
    from factflow_cli._follow import TimedStream

    stream = TimedStream(
        lambda on_reconnect: client.log_stream(
            full_id, after=after or None, params=filters, on_reconnect=on_reconnect
        ),
        seconds(timeout),
        lambda reason, n: g.note(f"reconnecting ({reason})"),
    )
    try:
        for event in stream:
            if event.event == "log":
                _print(g, event.json())
    except KeyboardInterrupt:
        raise FollowInterruptedError(full_id) from None
    if stream.timed_out:
        raise typer.Exit(int(ExitCode.TIMED_OUT))
    code = exit_code_for_run(client.get_execution(full_id), allow_failures=allow_failures)
    raise typer.Exit(int(code))


def _pages(
    client: Any, execution_id: str, filters: Mapping[str, Any], after: int
) -> Iterator[dict[str, Any]]:
    cursor: int | None = after
    while cursor is not None:
        page = client.logs(execution_id, {**filters, "after": cursor, "limit": PAGE_MAX})
        yield from page.get("items") or []
        cursor = page.get("next_after")


def _print(g: Any, record: dict[str, Any]) -> None:
    if g.json:
        import json

        print(json.dumps(record, ensure_ascii=False), flush=True)
        return
    for text in log_lines(record):
        g.out.print(text, soft_wrap=True)  # long lines wrap in the terminal, not in Rich


def log_lines(record: Mapping[str, Any]) -> list[Text]:
    """One record as lines: ``seq  time  LEVEL  route message#attempt  message``, then
    its traceback indented (printed unwrapped: ids and paths stay copyable)."""
    from factflow_cli._render import timestamp

    level = str(record.get("level") or "")
    style = LEVEL_STYLES.get(level, "")
    head = Text(no_wrap=True, overflow="ignore")
    head.append(f"{record.get('seq', ''):>5}  ", style="dim")
    head.append(timestamp(record.get("at"), precise=True) + "  ", style="dim")
    head.append(f"{level.upper():<8}", style=style or "bold")
    where = str(record.get("route") or "-")
    if record.get("message_id"):
        where += f" {record['message_id']}#{record.get('attempt') or '?'}"
    head.append(where + "  ", style="cyan")
    first, *more = str(record.get("message") or "").splitlines() or [""]
    head.append(first, style=style)
    lines = [head]
    rest = more + str(record.get("traceback") or "").splitlines()
    indent = " " * 8
    lines += [Text(indent + text, style="dim", no_wrap=True, overflow="ignore") for text in rest]
    return lines


def register(app: typer.Typer) -> None:
    app.command("logs")(logs)
