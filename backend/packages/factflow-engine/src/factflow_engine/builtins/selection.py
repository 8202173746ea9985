"""Built-in selection processors: ``filter`` and ``dedupe`` (both return ``None`` to drop)."""

from __future__ import annotations

import re
from typing import Any

from factflow_foundation import fingerprint
from factflow_protocols import Message, ProcessorContext
from pydantic import Field, field_validator, model_validator

from factflow_engine.builtins.payloads import MISSING, field_value, require_field
from factflow_engine.registry import ComponentOptions

__all__ = ["Dedupe", "Filter"]


class Filter:
    """Passes the payload on when every given condition holds, else drops it.

    The tested value is ``payload[field]`` (dotted paths allowed) or the whole
    payload.  ``equals``: equal; ``contains``: substring of a text or element
    of a list; ``regex``: ``re.search`` matches a text; ``min_length``: the
    value's length is at least this.  A missing field never matches.
    ``negate`` inverts the verdict.
    """

    class Options(ComponentOptions):
        field: str | None = Field(default=None, description="Field to test; default the payload.")
        equals: Any = Field(default=None, description="Passes when the value equals this.")
        contains: Any = Field(
            default=None, description="Passes when the text has this substring (a list: element)."
        )
        regex: str | None = Field(
            default=None, description="Passes when re.search finds this in the text."
        )
        min_length: int | None = Field(
            default=None, ge=0, description="Passes when the value's length is at least this."
        )
        negate: bool = Field(default=False, description="Invert the verdict.")

        @field_validator("regex")
        @classmethod
        def _compiles(cls, value: str | None) -> str | None:
            if value is not None:
                try:
                    re.compile(value)
                except re.error as exc:
                    raise ValueError(f"regex {value!r} does not compile: {exc}") from None
            return value

        @model_validator(mode="after")
        def _some_condition(self) -> Filter.Options:
            given = self.model_fields_set & {"equals", "contains", "regex", "min_length"}
            if not given:
                raise ValueError(
                    "filter needs at least one condition: equals, contains, regex or min_length"
                )
            return self

    def __init__(self, options: Options) -> None:
        self.options = options
        given = options.model_fields_set
        self._equals = "equals" in given
        self._contains = "contains" in given
        self._regex = re.compile(options.regex) if options.regex is not None else None

    def matches(self, payload: Any) -> bool:
        """Whether ``payload`` passes the configured conditions (before ``negate``)."""
        opts = self.options
        value = payload if opts.field is None else field_value(payload, opts.field)
        if value is MISSING:
            return False
        if self._equals and value != opts.equals:
            return False
        if self._contains and not (
            (isinstance(value, str) and isinstance(opts.contains, str) and opts.contains in value)
            or (isinstance(value, list) and opts.contains in value)
        ):
            return False
        if self._regex is not None and not (
            isinstance(value, str) and self._regex.search(value) is not None
        ):
            return False
        return opts.min_length is None or (
            isinstance(value, (str, list, dict)) and len(value) >= opts.min_length
        )

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        keep = self.matches(message.payload) != self.options.negate
        return message.payload if keep else None


class Dedupe:
    """Drops payloads whose ``key`` field (or whole payload) was already seen in this run.

    Memory lasts for one execution (one instance per route per run).  The
    check-and-remember step never awaits, so concurrent workers cannot both
    pass the same key; a retry of the message that first claimed a key passes
    again (otherwise a retried chain would filter its own output).
    """

    class Options(ComponentOptions):
        key: str | None = Field(default=None, description="Field to compare; default the payload.")

    def __init__(self, options: Options) -> None:
        self.options = options
        self._seen: dict[str, tuple[str, int]] = {}

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        payload = message.payload
        value = (
            payload
            if self.options.key is None
            else require_field(payload, self.options.key, "dedupe")
        )
        digest = fingerprint(value)
        claim = (message.id, message.attempt)
        owner = self._seen.get(digest)
        if owner is None or (owner[0] == claim[0] and owner[1] != claim[1]):
            self._seen[digest] = claim
            return payload
        return None
