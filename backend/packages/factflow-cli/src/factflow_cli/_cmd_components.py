"""``factflow components …``: the processors and adapters the server can run."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from factflow_cli._errors import InputError
from factflow_cli._options import globals_of

__all__ = ["app"]

app = typer.Typer(
    help="The processors and adapters the server can run, with their options.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

KINDS = ("processor", "adapter")

KindOpt = Annotated[
    str | None,
    typer.Option("--kind", "-k", metavar="processor|adapter", help="Only this kind."),
]


def _kind(value: str | None) -> str | None:
    if value is not None and value not in KINDS:
        raise InputError(f"unknown kind {value!r}; choose processor or adapter")
    return value


@app.command("list")
def list_(ctx: typer.Context, kind: KindOpt = None) -> None:
    """List the processors and adapters of the server (its plugins included).

    Examples:

      factflow components list

      factflow components list --kind adapter
    """
    g = globals_of(ctx)
    catalogue = g.client().list_components(_kind(kind))
    if g.json:
        g.emit_json(catalogue)
        return
    from factflow_cli._render_components import components_table

    items = catalogue.get("items") or []
    if not items:
        g.note("no components")
        return
    g.out.print(components_table(items))
    g.note("options of one: factflow components show NAME")


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The name a config uses as `type`.")],
    kind: KindOpt = None,
) -> None:
    """Show a processor or adapter: what it does and the options of its `with:` block.

    Examples:

      factflow components show read_text

      factflow --format json components show files --kind adapter | jq .options_schema
    """
    g = globals_of(ctx)
    items: list[dict[str, Any]] = g.client().list_components(_kind(kind)).get("items") or []
    found = [item for item in items if item.get("name") == name]
    if not found:
        import difflib

        names = sorted({str(item.get("name")) for item in items})
        close = difflib.get_close_matches(name, names, n=3)
        what = f"{kind}" if kind else "processor or adapter"
        raise InputError(
            f"no {what} named {name!r}" + (f"; did you mean {', '.join(close)}?" if close else ""),
            hints=["list them with: factflow components list"],
        )
    if g.json:
        g.emit_json(found[0] if len(found) == 1 else {"items": found})
        return
    from factflow_cli._render_components import component_detail

    for index, item in enumerate(found):
        if index:
            g.out.print()
        g.out.print(component_detail(item))
