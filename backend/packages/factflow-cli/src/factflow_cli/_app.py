"""The ``factflow`` command tree and its root options.

::

    factflow [--server URL] [--token T] [--format table|json] [--version]
    ├── server                       run the API (same options as factflow-server)
    ├── demo                         the example pipeline end to end, embedded server
    ├── config      apply | validate | list | show | versions | archive | run | limit
    ├── execution   list | show | cancel | replay | resume | wait | dag | events | logs
    │               | lineage | stats | delete | prune
    ├── schedule    create | list | show | pause | resume | delete | next | fires
    ├── storage     watch | ls | get | export
    ├── components  list | show
    └── queue                        the runs waiting for a slot, and the config limits

The root options may also be written after the subcommand
(``factflow execution list --format json``); ``--output`` is the older name of
``--format``.  Errors print one line (no traceback) and end the process with
the code ``ExitCode`` documents.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from factflow_cli import _cmd_events, _cmd_lineage, _cmd_logs, _cmd_queue, _cmd_retention
from factflow_cli._cmd_components import app as components_app
from factflow_cli._cmd_config import app as config_app
from factflow_cli._cmd_execution import app as execution_app
from factflow_cli._cmd_schedule import app as schedule_app
from factflow_cli._cmd_server import register as register_server_commands
from factflow_cli._cmd_storage import app as storage_app
from factflow_cli._context import DEFAULT_SERVER_URL, Globals, OutputFormat, make_console
from factflow_cli._errors import CliError, ExitCode, FollowInterruptedError, ProblemError
from factflow_cli._version import __version__

__all__ = ["app", "main"]

_GLOBAL_WITH_VALUE = ("--server", "--token", "--format", "--output")


def hoist_global_options(args: Sequence[str]) -> list[str]:
    """Move root options written after a subcommand to the front.

    Only the long forms listed in ``_GLOBAL_WITH_VALUE`` move (``--opt V`` and
    ``--opt=V``); nothing after ``--`` does.
    """
    front: list[str] = []
    rest: list[str] = []
    items = list(args)
    i = 0
    while i < len(items):
        arg = items[i]
        if arg == "--":
            rest.extend(items[i:])
            break
        name = arg.split("=", 1)[0]
        if name in _GLOBAL_WITH_VALUE and rest:
            if "=" in arg:
                front.append(arg)
            else:
                front.extend(items[i : i + 2])
                i += 1
        else:
            rest.append(arg)
        i += 1
    return front + rest


def report(error: CliError, *, as_json: bool) -> None:
    """Print ``error`` on stderr: one line, then field issues, candidates and hints."""
    from rich.text import Text

    console = make_console(sys.stderr)
    if as_json:
        body: dict[str, Any] = {"message": error.message, "exit_code": int(error.exit_code)}
        if isinstance(error, ProblemError):
            body["problem"] = error.problem
        import json

        sys.stderr.write(json.dumps({"error": body}, ensure_ascii=False) + "\n")
        return
    console.print(Text("error: ", style="bold red") + Text(error.message), soft_wrap=True)
    if isinstance(error, ProblemError):
        source = error.source_name
        for issue in error.issues:
            where = ""
            if source:
                where = f"{source}:{issue['line']}: " if issue.get("line") else f"{source}: "
            elif issue.get("line"):
                where = f"line {issue['line']}: "
            path = issue.get("path") or ""
            message = f"  {where}{path}{': ' if path else ''}{issue.get('message', '')}"
            console.print(Text(message), soft_wrap=True)
        if error.candidates:
            console.print(Text("  candidates:"), soft_wrap=True)
            for candidate in error.candidates:
                console.print(Text(f"    {candidate}"), soft_wrap=True)
    for hint in error.hints:
        console.print(Text(f"hint: {hint}", style="dim"), soft_wrap=True)


class FactFlowGroup(TyperGroup):
    """The root group: hoists root options, and turns CliErrors into exit codes."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, hoist_global_options(args))

    def invoke(self, ctx: Any) -> Any:
        try:
            return super().invoke(ctx)
        except CliError as error:
            g = ctx.obj if isinstance(ctx.obj, Globals) else Globals()
            report(error, as_json=g.json)
            raise typer.Exit(int(error.exit_code)) from None
        except FollowInterruptedError as stop:
            execution_id = stop.args[0] if stop.args else "<id>"
            sys.stderr.write(
                f"\nstopped following; execution {execution_id} keeps running on the server.\n"
                f"cancel it with: factflow execution cancel {execution_id}\n"
            )
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None
        except KeyboardInterrupt:
            sys.stderr.write("\ninterrupted\n")
            raise typer.Exit(int(ExitCode.INTERRUPTED)) from None


app = typer.Typer(
    cls=FactFlowGroup,
    name="factflow",
    help=(
        "FactFlow: run message-driven pipelines as observable executions.\n\n"
        "Talks to a FactFlow server over HTTP (start one with `factflow server`, "
        "or try everything at once with `factflow demo`).\n\n"
        "Exit codes: 0 completed, 1 failed (or any other error), 2 usage or input error, "
        "3 cancelled or interrupted, 4 timed out waiting, 130 stopped with Ctrl-C."
    ),
    epilog=(
        "Examples:\n\n"
        "  factflow demo\n\n"
        "  factflow config run examples/pipelines/facts.yaml --follow\n\n"
        "  factflow execution list --status failed --since 1h\n\n"
        "  factflow --format json execution show 0199a3f2 | jq .stats.totals\n\n"
        "Shell completion: factflow --install-completion (bash, zsh, fish, PowerShell)."
    ),
    no_args_is_help=True,
    add_completion=True,
    rich_markup_mode=None,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _output_format(ctx: typer.Context, value: str) -> str:
    """``--format``: table or json (FACTFLOW_OUTPUT, the older variable, when neither
    the option nor FACTFLOW_FORMAT is given), with a pointer for those who meant a file."""
    from typer._click.core import ParameterSource

    if ctx.get_parameter_source("output") is ParameterSource.DEFAULT:
        value = os.environ.get("FACTFLOW_OUTPUT") or value
    choice = value.strip().lower()
    if choice in {f.value for f in OutputFormat}:
        return choice
    raise typer.BadParameter(
        f"{value!r} is not an output format (table or json); to write a stored object "
        "to a file, use: factflow storage get ID KEY --to FILE"
    )


def _version(value: bool) -> None:
    if value:
        typer.echo(f"factflow {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    server: Annotated[
        str,
        typer.Option(
            "--server",
            envvar="FACTFLOW_SERVER_URL",
            metavar="URL",
            help="FactFlow server to talk to.",
        ),
    ] = DEFAULT_SERVER_URL,
    token: Annotated[
        str | None,
        typer.Option(
            "--token",
            envvar="FACTFLOW_API_TOKEN",
            help="Bearer token, when the server requires one.",
            show_default=False,
        ),
    ] = None,
    output: Annotated[
        str,
        typer.Option(
            "--format",
            "--output",
            envvar="FACTFLOW_FORMAT",
            metavar="table|json",
            callback=_output_format,
            help="table for people; json (stable, complete) for scripts.  "
            "--output is its older name.",
        ),
    ] = OutputFormat.TABLE.value,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """FactFlow command line."""
    g = Globals(server_url=server.rstrip("/"), token=token or None, output=OutputFormat(output))
    ctx.obj = g
    ctx.call_on_close(g.close)


_cmd_events.register(execution_app)
_cmd_lineage.register(execution_app)
_cmd_retention.register(execution_app)
_cmd_logs.register(execution_app)
app.add_typer(config_app, name="config")
app.add_typer(execution_app, name="execution")
app.add_typer(schedule_app, name="schedule")
app.add_typer(storage_app, name="storage")
app.add_typer(components_app, name="components")
_cmd_queue.register(app)
register_server_commands(app)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``factflow`` console script; returns the exit code."""
    command = typer.main.get_command(app)
    try:
        command.main(
            args=list(sys.argv[1:] if argv is None else argv),
            prog_name="factflow",
            standalone_mode=True,
        )
    except SystemExit as exit_:
        code = exit_.code
        return code if isinstance(code, int) else (0 if code is None else 1)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
