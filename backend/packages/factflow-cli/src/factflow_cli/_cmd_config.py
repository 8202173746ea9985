"""``factflow config …``: store, inspect, archive and run pipeline configs."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from factflow_cli._context import Globals
from factflow_cli._errors import InputError, ProblemError

__all__ = ["app", "apply_file", "parse_pairs"]

app = typer.Typer(
    help="Store, inspect, archive and run pipeline configs.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _g(ctx: typer.Context) -> Globals:
    obj = ctx.find_root().obj
    return obj if isinstance(obj, Globals) else Globals()


def parse_pairs(values: list[str] | None, what: str) -> dict[str, str]:
    """``["k=v", …]`` → ``{k: v}``; values stay strings (the server coerces by type)."""
    pairs: dict[str, str] = {}
    for value in values or []:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise InputError(f"{what} {value!r} is not KEY=VALUE")
        pairs[key.strip()] = rest
    return pairs


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
    g = _g(ctx)
    saved = apply_file(g, file)
    if g.json:
        g.emit_json(saved)
        return
    config = saved.get("config") or {}
    what = "created" if saved.get("created") else "unchanged"
    g.out.print(f"config {config.get('name')} version {config.get('version')} {what}")


@app.command("list")
def list_(
    ctx: typer.Context,
    archived: Annotated[bool, typer.Option("--archived", help="Include archived configs.")] = False,
) -> None:
    """List configs (the latest version of each name).

    Example:

      factflow config list
    """
    g = _g(ctx)
    items = g.client().get_json("/configs", params={"include_archived": archived or None})
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
        bool, typer.Option("--definition", help="Print the stored definition (YAML-like JSON).")
    ] = False,
) -> None:
    """Show a config (the latest version, or --version N).

    Examples:

      factflow config show facts

      factflow config show facts --version 2 --definition
    """
    g = _g(ctx)
    config = g.client().get_config(name, version)
    if g.json:
        g.emit_json(config)
        return
    from factflow_cli._render import config_detail

    g.out.print(config_detail(config))
    if definition:
        from rich.json import JSON

        g.out.print(JSON.from_data(config.get("definition") or {}))


@app.command("versions")
def versions(ctx: typer.Context, name: Annotated[str, typer.Argument(help="Config name.")]) -> None:
    """List every version of a config.

    Example:

      factflow config versions facts
    """
    g = _g(ctx)
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
    g = _g(ctx)
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
        typer.Option("--param", "-p", metavar="KEY=VALUE", help="Override a param (repeatable)."),
    ] = None,
    label: Annotated[
        list[str] | None,
        typer.Option("--label", "-l", metavar="KEY=VALUE", help="Label the run (repeatable)."),
    ] = None,
    version: Annotated[
        int | None, typer.Option("--version", "-v", min=1, help="Run this stored version.")
    ] = None,
    wait: Annotated[
        bool, typer.Option("--wait", "-w", help="Wait for the end; exit code = its status.")
    ] = False,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Show live progress until the end.")
    ] = False,
    timeout: Annotated[
        str | None,
        typer.Option(
            "--timeout", metavar="DURATION", help="Give up waiting after this long (exit 4)."
        ),
    ] = None,
) -> None:
    """Run a config; a FILE is applied first.

    Without --wait or --follow, prints the new execution's id and returns.

    Examples:

      factflow config run facts --param source_dir=/data --follow

      factflow config run examples/pipelines/facts.yaml --wait --timeout 10m

      factflow --output json config run facts --wait | jq .stats.totals
    """
    from factflow_cli._durations import parse_duration
    from factflow_cli._outcome import after_start

    g = _g(ctx)
    if wait and follow:
        raise InputError("choose one of --wait and --follow")
    seconds = parse_duration(timeout) if timeout is not None else None
    params = parse_pairs(param, "param")
    labels = parse_pairs(label, "label")
    name = target
    if _looks_like_file(target):
        saved = apply_file(g, target)
        config = saved.get("config") or {}
        name = str(config.get("name"))
        if version is None:
            version = int(config["version"]) if config.get("version") else None
        if not g.json:
            what = "created" if saved.get("created") else "unchanged"
            g.note(f"config {name} version {config.get('version')} {what} (from {target})")
    execution = g.client().run_config(name, params=params, version=version, labels=labels)
    code = after_start(g, execution, wait=wait, follow_it=follow, timeout=seconds)
    raise typer.Exit(int(code))
