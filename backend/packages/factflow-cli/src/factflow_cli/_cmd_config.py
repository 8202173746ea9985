"""``factflow config …``: store, inspect, archive and run pipeline configs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from factflow_cli._context import Globals
from factflow_cli._errors import InputError, ProblemError
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

__all__ = ["app", "apply_file"]

app = typer.Typer(
    help="Store, inspect, archive and run pipeline configs.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _read(path: str) -> tuple[str, str, str]:
    """(text, content type, display name) of a config file, or ``-`` for stdin."""
    if path == "-":
        return sys.stdin.read(), "application/yaml", "<stdin>"
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"no such file: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read {path}: {exc}") from None
    media = "application/json" if file.suffix.lower() == ".json" else "application/yaml"
    return text, media, path


def apply_file(g: Globals, path: str) -> dict[str, Any]:
    """Store the config in ``path``; ``{config, created}``.  Field issues name the file."""
    text, media, name = _read(path)
    try:
        return g.client().apply_config(text, content_type=media)
    except ProblemError as error:
        error.source_name = name
        raise


def _looks_like_file(target: str) -> bool:
    if target == "-":
        return True
    path = Path(target)
    return path.suffix.lower() in (".yaml", ".yml", ".json") or path.is_file()


@app.command("apply")
def apply_(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE", help="YAML or JSON config; - for stdin.")],
) -> None:
    """Store a config: a new version when it changed, the same one otherwise.

    Examples:

      factflow config apply examples/pipelines/facts.yaml

      cat facts.yaml | factflow config apply -
    """
    g = globals_of(ctx)
    saved = apply_file(g, file)
    if g.json:
        g.emit_json(saved)
        return
    config = saved.get("config") or {}
    what = "created" if saved.get("created") else "unchanged"
    g.out.print(f"config {config.get('name')} version {config.get('version')} {what}")


@app.command("validate")
def validate(
    ctx: typer.Context,
    file: Annotated[str, typer.Argument(metavar="FILE", help="YAML or JSON config; - for stdin.")],
) -> None:
    """Check a config as `config apply` would, without storing anything.

    Exit 0 when valid (and say what applying it would do), 2 with every issue
    (file, line, field) when not.  Params are checked when a run starts.

    Examples:

      factflow config validate examples/pipelines/facts.yaml

      git show HEAD:pipelines/facts.yaml | factflow config validate -
    """
    g = globals_of(ctx)
    text, media, source = _read(file)
    try:
        verdict = g.client().validate_config(text, content_type=media)
    except ProblemError as error:
        error.source_name = source
        raise
    if g.json:
        g.emit_json(verdict)
        return
    name, latest = verdict.get("name"), verdict.get("latest_version")
    if latest is None:
        effect = "applying it creates version 1"
    elif verdict.get("changed"):
        effect = f"applying it creates version {int(latest) + 1}"
    else:
        effect = f"identical to version {latest}: applying it changes nothing"
    g.out.print(f"config {name} is valid; {effect}")


@app.command("list")
def list_(
    ctx: typer.Context,
    archived: Annotated[bool, typer.Option("--archived", help="Include archived configs.")] = False,
) -> None:
    """List configs (the latest version of each name).

    Example:

      factflow config list
    """
    g = globals_of(ctx)
    items = g.client().list_configs(include_archived=archived)
    if g.json:
        g.emit_json(items)
        return
    from factflow_cli._render import configs_table

    rows = items.get("items") or []
    if not rows:
        g.note("no configs yet; store one with: factflow config apply FILE")
        return
    g.out.print(configs_table(rows))


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Config name.")],
    version: Annotated[
        int | None, typer.Option("--version", "-v", min=1, help="A specific version.")
    ] = None,
    definition: Annotated[
        bool,
        typer.Option(
            "--definition",
            help="Print only the stored definition, as JSON (valid in a file or pipe).",
        ),
    ] = False,
) -> None:
    """Show a config (the latest version, or --version N).

    Examples:

      factflow config show facts

      factflow config show facts --version 2 --definition > facts-v2.json
    """
    g = globals_of(ctx)
    config = g.client().get_config(name, version)
    if definition:
        # The definition alone, as plain JSON text: never laid out by Rich, so a
        # redirect or pipe gets a document json.load can read (and apply again).
        g.emit_json(config.get("definition") or {})
        return
    if g.json:
        g.emit_json(config)
        return
    from factflow_cli._render import config_detail

    g.out.print(config_detail(config))


@app.command("versions")
def versions(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Config name.")]) -> None:
    """List every version of a config.

    Example:

      factflow config versions facts
    """
    g = globals_of(ctx)
    items = g.client().config_versions(name)
    if g.json:
        g.emit_json({"items": items})
        return
    from factflow_cli._render import configs_table

    g.out.print(configs_table(items))


@app.command("archive")
def archive(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Config name.")]) -> None:
    """Archive every version of a config (it can no longer be run; runs keep their snapshot).

    Example:

      factflow config archive facts
    """
    g = globals_of(ctx)
    items = g.client().archive_config(name)
    if g.json:
        g.emit_json({"items": items})
        return
    g.out.print(f"config {name} archived ({len(items)} versions)")


@app.command("run")
def run(
    ctx: typer.Context,
    target: Annotated[
        str, typer.Argument(metavar="NAME|FILE", help="A stored config's name, or a file to apply.")
    ],
    param: Annotated[
        list[str] | None,
        typer.Option(
            "--param",
            "-p",
            metavar="KEY=VALUE",
            help="Override a param (repeatable); KEY=@FILE.json reads a JSON value.",
        ),
    ] = None,
    label: LabelOpt = None,
    version: Annotated[
        int | None, typer.Option("--version", "-v", min=1, help="Run this stored version.")
    ] = None,
    wait: WaitOpt = False,
    follow: FollowOpt = False,
    timeout: TimeoutOpt = None,
    allow_failures: AllowFailuresOpt = False,
    no_queue: NoQueueOpt = False,
    priority: PriorityOpt = 0,
) -> None:
    """Run a config; a FILE is applied first.

    When the server is at capacity (or the config at its limit) the run waits
    in the run queue and starts as a slot frees, on any server sharing the
    database; its queue position is printed.  --no-queue fails instead.

    Without --wait or --follow, prints the new execution's id and returns.
    With them, the exit code says how the run ended: 0 completed, 1 failed or
    completed with failed messages (0 with --allow-failures), 3 cancelled, 4
    still running at --timeout.

    --param values are text the server converts to the param's type; KEY=@FILE
    sends the JSON in FILE; a path-typed param is made absolute against this
    working directory (the server resolves relative paths against its own).

    Examples:

      factflow config run facts --param source_dir=docs --follow

      factflow config run facts -p pattern=@patterns.json --wait --allow-failures

      factflow config run examples/pipelines/facts.yaml --wait --timeout 10m

      factflow --format json config run facts --wait | jq .stats.totals

      factflow config run facts --priority 10 --no-queue
    """
    from factflow_cli._outcome import after_start
    from factflow_cli._params import parse_labels, parse_params, resolve_path_params

    g = globals_of(ctx)
    if wait and follow:
        raise InputError("choose one of --wait and --follow")
    timeout_s = seconds(timeout)
    params = parse_params(param)
    labels = parse_labels(label)
    name = target
    config: dict[str, Any] | None = None
    if _looks_like_file(target):
        saved = apply_file(g, target)
        config = saved.get("config") or {}
        name = str(config.get("name"))
        if version is None:
            version = int(config["version"]) if config.get("version") else None
        if not g.json:
            what = "created" if saved.get("created") else "unchanged"
            g.note(f"config {name} version {config.get('version')} {what} (from {target})")
    if params:
        if config is None:
            config = g.client().get_config(name, version)
        declared = (config.get("definition") or {}).get("params") or {}
        params = resolve_path_params(params, declared)
    execution = g.client().run_config(
        name,
        params=params,
        version=version,
        labels=labels,
        queue=not no_queue,
        priority=priority,
    )
    code = after_start(
        g,
        execution,
        wait=wait,
        follow_it=follow,
        timeout=timeout_s,
        allow_failures=allow_failures,
    )
    raise typer.Exit(int(code))


@app.command("limit")
def limit(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Config name.")],
    max_running: Annotated[
        int | None,
        typer.Argument(
            metavar="[MAX_RUNNING]",
            min=0,
            help="At most this many of its runs at once, across all servers (0 holds them "
            "all in the queue). Omit it to show the limit.",
        ),
    ] = None,
    clear: Annotated[bool, typer.Option("--clear", help="Remove the config's limit.")] = False,
) -> None:
    """Show or set how many runs of a config may run at once, on all servers together.

    Runs over the limit wait in the run queue (see `factflow queue`).

    Examples:

      factflow config limit facts 2

      factflow config limit facts

      factflow config limit facts --clear
    """
    g = globals_of(ctx)
    if clear and max_running is not None:
        raise InputError("give MAX_RUNNING or --clear, not both")
    client = g.client()
    if clear:
        shown = client.set_limit(name, None)
    elif max_running is not None:
        shown = client.set_limit(name, max_running)
    else:
        shown = client.get_limit(name)
    if g.json:
        g.emit_json(shown)
        return
    value = shown.get("max_running")
    g.out.print(
        f"config {name}: "
        + ("no limit" if value is None else f"at most {value} running at once")
        + f"; {shown.get('running', 0)} running, {shown.get('queued', 0)} queued"
    )
