"""Built-in ``storage_write``: store each payload as an artifact of the execution."""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from typing import Any, Literal

from factflow_protocols import Message, ProcessorContext
from pydantic import Field, field_validator

from factflow_engine.builtins.payloads import MISSING, field_value, require_field
from factflow_engine.registry import ComponentOptions

__all__ = ["StorageWrite"]

_FIELD = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*$")
_BUILTIN_FIELDS = ("execution_id", "message_id", "origin_id", "route")


def _template_fields(template: str) -> list[str]:
    names: list[str] = []
    for _, name, spec, conversion in string.Formatter().parse(template):
        if name is None:
            continue
        if not _FIELD.match(name) or spec or conversion:
            raise ValueError(
                f"key template {template!r} has an invalid placeholder {{{name}}}; use"
                " {field}, {a.b}, or one of {execution_id} {message_id} {origin_id} {route}"
            )
        names.append(name)
    return names


_MARK = "\x00"  # stands for a placeholder's value: never part of a literal key
_CONTROL = re.compile(r"[\x01-\x1f\x7f-\x9f]")


def _static_key_problem(template: str) -> str | None:
    """What is certainly wrong with every key ``template`` can render, judged on
    its literal text alone (placeholders may hold anything), or ``None``.

    The same rules as the storage layer's key check: relative, '/'-separated,
    no '.', '..' or empty segment, no backslash, no control character."""
    rendered = "".join(
        literal.replace(_MARK, "") + (_MARK if name is not None else "")
        for literal, name, _, _ in string.Formatter().parse(template)
    )
    if rendered.startswith(("/", "\\")):
        return "it is absolute (starts with '/' or '\\'); a key is a relative path"
    if re.match(r"^[A-Za-z]:", rendered):
        return "it starts with a drive letter; a key is a relative path"
    if "\\" in rendered:
        return "it contains a backslash; separate segments with '/'"
    if _CONTROL.search(rendered):
        return "it contains a control character"
    for index, segment in enumerate(rendered.split("/")):
        if segment in (".", ".."):
            return f"segment {index + 1} is {segment!r}; a key stays inside the run's storage"
        if not segment:
            return f"segment {index + 1} is empty (a leading, trailing or doubled '/')"
    return None


class StorageWrite:
    """Writes the payload through ``ctx.storage.put`` and passes it on with ``"stored_key"``.

    ``key`` is a template: ``{field}`` (dotted paths allowed) takes a payload
    field, and ``{execution_id}``, ``{message_id}``, ``{origin_id}`` and
    ``{route}`` take the message's.  In a pipeline config the braces of a key
    template are written doubled (``{{message_id}}``) so they are not read as
    param placeholders.  ``format: json`` stores the payload as indented JSON;
    ``format: text`` stores the ``field`` text as ``text/plain``.
    """

    class Options(ComponentOptions):
        key: str = Field(default="{route}/{message_id}.json", description="Key template.")
        format: Literal["json", "text"] = Field(
            default="json", description="'json': the payload as JSON; 'text': the field as text."
        )
        field: str = Field(default="text", description="Field stored by format: text.")

        @field_validator("key")
        @classmethod
        def _valid_template(cls, value: str) -> str:
            try:
                _template_fields(value)
            except ValueError as exc:
                raise ValueError(str(exc)) from None
            problem = _static_key_problem(value)
            if problem is not None:
                raise ValueError(f"key template {value!r} can never be a valid key: {problem}")
            return value

    def __init__(self, options: Options) -> None:
        self.options = options
        self._fields = _template_fields(options.key)
        self._parts = list(string.Formatter().parse(options.key))

    def render_key(self, message: Message) -> str:
        """The storage key for ``message`` (raises ``ValueError`` naming a missing field)."""
        builtin = {
            "execution_id": message.execution_id,
            "message_id": message.id,
            "origin_id": message.origin_id,
            "route": message.route,
        }
        values: dict[str, str] = {}
        for name in self._fields:
            if name in builtin:
                values[name] = builtin[name]
                continue
            value = field_value(message.payload, name)
            if value is MISSING:
                fields = (
                    ", ".join(sorted(map(str, message.payload)))
                    if isinstance(message.payload, Mapping)
                    else "(payload is not a mapping)"
                )
                raise ValueError(
                    f"storage_write: key template {self.options.key!r} needs payload field"
                    f" {name!r}, which is missing (fields: {fields or '(none)'})"
                )
            values[name] = str(value)
        return "".join(
            literal + (values[name] if name is not None else "")
            for literal, name, _, _ in self._parts
        )

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        key = self.render_key(message)
        payload = message.payload
        if self.options.format == "text":
            text = require_field(payload, self.options.field, "storage_write")
            data = str(text).encode("utf-8")
            content_type = "text/plain; charset=utf-8"
        else:
            data = json.dumps(
                payload, ensure_ascii=False, indent=2, sort_keys=True, default=str
            ).encode("utf-8")
            content_type = "application/json"
        stored = await ctx.storage.put(
            key, data, content_type=content_type, route=ctx.route, message_id=message.id
        )
        if isinstance(payload, Mapping):
            return {**payload, "stored_key": stored.key}
        return {"value": payload, "stored_key": stored.key}
