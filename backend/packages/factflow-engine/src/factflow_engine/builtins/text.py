"""Built-in text processors: ``read_text``, ``split_sentences`` and ``chunk``."""

from __future__ import annotations

import asyncio
import codecs
from typing import Any, Literal

from factflow_protocols import Message, ProcessorContext
from pydantic import Field, field_validator, model_validator

from factflow_engine.builtins.file_options import FileOptions
from factflow_engine.builtins.payloads import MISSING, field_value, require_field
from factflow_engine.builtins.sentences import split_into_sentences
from factflow_engine.registry import ComponentOptions

__all__ = ["Chunk", "ReadText", "SplitSentences"]


class ReadText:
    """Reads the file at ``payload["path"]`` and passes the payload on with ``"text"`` added.

    Only regular files under the server's file roots are read (see
    ``factflow_engine.file_access``).  A refused path, a missing file, a file
    over ``max_bytes`` (counted as read) or undecodable bytes (with ``errors:
    strict``) fail the message with a message naming the file.
    """

    class Options(FileOptions):
        encoding: str = Field(default="utf-8", description="Text encoding (a Python codec name).")
        errors: Literal["strict", "replace", "ignore"] = Field(
            default="strict", description="What to do with bytes the encoding cannot decode."
        )
        max_bytes: int = Field(default=10_000_000, ge=1, description="Larger files fail.")

        @field_validator("encoding")
        @classmethod
        def _known_encoding(cls, value: str) -> str:
            try:
                codecs.lookup(value)
            except LookupError:
                raise ValueError(
                    f"unknown text encoding {value!r} (e.g. 'utf-8', 'latin-1')"
                ) from None
            return value

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        path = require_field(message.payload, "path", "read_text")
        text = await asyncio.to_thread(self._read, str(path))
        return {**message.payload, "text": text}

    def _read(self, path: str) -> str:
        try:
            data = self.options.file_access.read_bytes(path, self.options.max_bytes)
        except FileNotFoundError:
            raise FileNotFoundError(f"read_text: file {path!r} does not exist") from None
        except (PermissionError, ValueError) as exc:
            raise type(exc)(f"read_text: {exc}") from None
        try:
            return data.decode(self.options.encoding, self.options.errors)
        except UnicodeDecodeError as exc:
            raise ValueError(
                f"read_text: {path!r} is not valid {self.options.encoding} (byte {exc.start});"
                " set errors: replace to read it anyway"
            ) from None


class SplitSentences:
    """Fans a text out into ``{"sentence", "index", "source"}`` payloads, one per sentence.

    ``source`` is the payload's ``source_field`` (default ``path``) or ``None``;
    sentences shorter than ``min_length`` characters are dropped; ``index``
    counts the sentences emitted, from 0.
    """

    class Options(ComponentOptions):
        field: str = Field(default="text", description="Payload field holding the text.")
        source_field: str = Field(
            default="path", description="Payload field copied to each output as 'source'."
        )
        min_length: int = Field(
            default=1, ge=0, description="Sentences shorter than this (characters) are dropped."
        )

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        text = require_field(message.payload, self.options.field, "split_sentences")
        if not isinstance(text, str):
            raise ValueError(f"split_sentences: field {self.options.field!r} is not text")
        source = _source_of(message.payload, self.options.source_field)
        sentences = [s for s in split_into_sentences(text) if len(s) >= self.options.min_length]
        return [
            {"sentence": sentence, "index": index, "source": source}
            for index, sentence in enumerate(sentences)
        ]


class Chunk:
    """Fans a text out into fixed-size ``{"chunk", "index", "start", "source"}`` payloads.

    Consecutive chunks share ``overlap`` characters (``overlap < size``).
    """

    class Options(ComponentOptions):
        size: int = Field(default=1000, ge=1, description="Characters per chunk.")
        overlap: int = Field(default=0, ge=0, description="Characters shared with the next chunk.")
        field: str = Field(default="text", description="Payload field holding the text.")
        source_field: str = Field(
            default="path", description="Payload field copied to each output as 'source'."
        )

        @model_validator(mode="after")
        def _overlap_below_size(self) -> Chunk.Options:
            if self.overlap >= self.size:
                raise ValueError(
                    f"overlap ({self.overlap}) must be smaller than size ({self.size})"
                )
            return self

    def __init__(self, options: Options) -> None:
        self.options = options

    async def process(self, message: Message, ctx: ProcessorContext) -> Any:
        text = require_field(message.payload, self.options.field, "chunk")
        if not isinstance(text, str):
            raise ValueError(f"chunk: field {self.options.field!r} is not text")
        source = _source_of(message.payload, self.options.source_field)
        step = self.options.size - self.options.overlap
        out: list[dict[str, Any]] = []
        for index, start in enumerate(range(0, len(text), step)):
            out.append(
                {
                    "chunk": text[start : start + self.options.size],
                    "index": index,
                    "start": start,
                    "source": source,
                }
            )
            if start + self.options.size >= len(text):
                break
        return out


def _source_of(payload: Any, field: str) -> Any:
    value = field_value(payload, field)
    return None if value is MISSING else value
