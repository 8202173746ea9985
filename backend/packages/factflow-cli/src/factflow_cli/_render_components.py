"""The component catalogue as tables: the list, and one component's options read
from the JSON Schema of its ``Options`` model."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from factflow_cli._render import fields, repr_value

__all__ = ["component_detail", "components_table", "schema_type"]


def components_table(items: Sequence[Mapping[str, Any]]) -> Table:
    table = Table(box=None, pad_edge=False, header_style="bold")
    table.add_column("KIND", no_wrap=True)
    table.add_column("NAME", no_wrap=True)
    table.add_column("SUMMARY")
    for item in items:
        summary = Text(str(item.get("summary") or ""))
        if item.get("error"):
            summary = Text(f"failed to load: {item['error']}", style="red")
        table.add_row(str(item.get("kind")), str(item.get("name")), summary)
    return table


def schema_type(schema: Mapping[str, Any], defs: Mapping[str, Any] | None = None) -> str:
    """A JSON Schema's type in a few characters: ``string``, ``list[string]``,
    ``integer | null``, ``'a' | 'b'``."""
    if "enum" in schema:
        return " | ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return repr(schema["const"])
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            return " | ".join(schema_type(s, defs) for s in schema[combinator])
    ref = schema.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        target = (defs or {}).get(name)
        return schema_type(target, defs) if isinstance(target, Mapping) else name
    kind = schema.get("type")
    if kind == "array":
        items = schema.get("items")
        return f"list[{schema_type(items, defs)}]" if isinstance(items, Mapping) else "list"
    if kind == "object":
        return "object"
    if isinstance(kind, list):
        return " | ".join(str(k) for k in kind)
    return str(kind or "any")


def _options(schema: Mapping[str, Any]) -> Table | Text:
    properties = schema.get("properties") or {}
    if not properties:
        return Text("options: none", style="dim")
    required = set(schema.get("required") or [])
    defs = schema.get("$defs") or {}
    table = Table(title="options (with:)", title_justify="left", box=None, header_style="bold")
    table.add_column("NAME", no_wrap=True)
    table.add_column("TYPE")
    table.add_column("DEFAULT")
    table.add_column("DESCRIPTION")
    for name, spec in properties.items():
        spec = spec if isinstance(spec, Mapping) else {}
        default = "required" if name in required else repr_value(spec.get("default"))
        table.add_row(name, schema_type(spec, defs), default, str(spec.get("description") or ""))
    return table


def component_detail(item: Mapping[str, Any]) -> RenderableType:
    rows: list[tuple[str, Any]] = [
        ("name", item.get("name")),
        ("kind", item.get("kind")),
        ("summary", item.get("summary") or "-"),
        ("from", item.get("origin") or "built in"),
    ]
    if item.get("error"):
        rows.append(("error", Text(str(item["error"]), style="red")))
    parts: list[RenderableType] = [fields(rows)]
    if item.get("description"):
        parts += [Text(""), Text(str(item["description"]))]
    schema = item.get("options_schema")
    if isinstance(schema, Mapping):
        parts += [Text(""), _options(schema)]
    return Group(*parts)
