"""``factflow execution events``: an execution's event log, printed or followed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

import typer

from factflow_cli._context import Globals
from factflow_cli._errors import ExitCode
from factflow_cli._ids import IdArg
from factflow_cli._options import AllowFailuresOpt, TimeoutOpt, globals_of, seconds
from factflow_cli._sse import ServerSentEvent

__all__ = ["register"]

OpenStream = Callable[[Callable[[str, int], None]], Iterator[ServerSentEvent]]


def events(
    ctx: typer.Context,
    execution_id: IdArg,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing until the run ends.")
    ] = False,
    after: Annotated[
        int, typer.Option("--after", metavar="SEQ", min=0, help="Only events after this seq.")
    ] = 0,
    timeout: TimeoutOpt = None,
    allow_failures: AllowFailuresOpt = False,
) -> None:
    """Print an execution's event log (status, routes, progress, failures, storage).

    Times are local, to the millisecond.  With --follow, print new events as
    they happen until the run ends; the exit code is then how it ended, as for
    `execution wait`.  With --format json, one JSON object per line.

    Examples:

      factflow execution events 0199a3f2

      factflow execution events 0199a3f2 --follow

      factflow --format json execution events 0199a3f2 | jq -c 'select(.kind=="message.failed")'
    """
    from factflow_cli._errors import FollowInterruptedError

    g = globals_of(ctx)
    client = g.client()
    execution = client.get_execution(execution_id)
    full_id = str(execution.get("id"))
    last_seq = int(execution.get("last_event_seq") or 0)
    if not follow and last_seq <= after:
        return
    code = _print_events(
        g,
        lambda on_reconnect: client.events(full_id, after=after or None, on_reconnect=on_reconnect),
        follow=follow,
        last_seq=last_seq,
        timeout=seconds(timeout),
    )
    if code is None:
        raise FollowInterruptedError(full_id)
    if code is ExitCode.OK and follow:
        from factflow_cli._errors import exit_code_for_run

        code = exit_code_for_run(client.get_execution(full_id), allow_failures=allow_failures)
    raise typer.Exit(int(code))


def _print_events(
    g: Globals, events: OpenStream, *, follow: bool, last_seq: int, timeout: float | None
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


def register(app: typer.Typer) -> None:
    app.command("events")(events)
