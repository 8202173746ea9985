"""``Globals``: what the root options decide for every command of one invocation.

Consoles and the HTTP client are made on first use, so ``--help`` and
``--version`` import neither Rich nor httpx.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console, RenderableType

    from factflow_cli._client import ApiClient

__all__ = ["DEFAULT_SERVER_URL", "Globals", "OutputFormat", "make_console"]

#: Where ``factflow server`` listens by default (factflow_server.DEFAULT_PORT; a
#: test keeps the two equal without importing the server here).
DEFAULT_SERVER_URL = "http://127.0.0.1:8000"


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


#: Layout width for output that is not a terminal (a pipe, a file) when COLUMNS
#: is not set: wide enough that no table row or note is wrapped, so every line
#: stays whole for grep and friends.  Lines are not padded to it (``_TrimmedLines``).
UNWRAPPED_WIDTH = 10_000
#: Rules (section lines) are never wider than this.
RULE_WIDTH = 100


class _TrimmedLines:
    """A text file whose lines lose their trailing spaces (Rich pads table cells
    to the column width; a file or pipe should not carry that padding)."""

    def __init__(self, file: Any) -> None:
        self._file = file
        self._partial = ""

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        if lines:
            self._file.write("".join(line.rstrip(" ") + "\n" for line in lines))
        return len(text)

    def flush(self) -> None:
        if self._partial:
            self._file.write(self._partial)
            self._partial = ""
        self._file.flush()

    def isatty(self) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._file, name)


def _is_terminal(file: Any) -> bool:
    try:
        return bool(file.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def make_console(file: Any) -> Console:
    """A Rich console on ``file``.

    A terminal: its own width (or COLUMNS).  Anything else: COLUMNS if set,
    else ``UNWRAPPED_WIDTH``, and no trailing padding on any line.
    """
    from rich.console import Console

    if _is_terminal(file):
        return Console(file=file, highlight=False)
    columns = os.environ.get("COLUMNS", "")
    width = int(columns) if columns.isdigit() and int(columns) > 0 else UNWRAPPED_WIDTH
    trimmed: Any = _TrimmedLines(file)  # a text file as far as Rich is concerned
    return Console(file=trimmed, highlight=False, width=width)


@dataclass
class Globals:
    """The invocation's server, token and output format, plus lazily made helpers."""

    server_url: str = DEFAULT_SERVER_URL
    token: str | None = None
    output: OutputFormat = OutputFormat.TABLE
    _client: ApiClient | None = field(default=None, repr=False)
    _out: Console | None = field(default=None, repr=False)
    _err: Console | None = field(default=None, repr=False)

    @property
    def json(self) -> bool:
        return self.output is OutputFormat.JSON

    def client(self) -> ApiClient:
        if self._client is None:
            from factflow_cli._client import ApiClient

            self._client = ApiClient(self.server_url, token=self.token)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    @property
    def out(self) -> Console:
        """Rich console on stdout (data: tables, trees, summaries)."""
        if self._out is None:
            self._out = make_console(sys.stdout)
        return self._out

    @property
    def err(self) -> Console:
        """Rich console on stderr (progress, notes, errors)."""
        if self._err is None:
            self._err = make_console(sys.stderr)
        return self._err

    def emit_json(self, value: Any) -> None:
        """Print ``value`` as one indented JSON document on stdout (``--format json``)."""
        sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def show(self, renderable: RenderableType) -> None:
        """Print a table, tree or summary on stdout."""
        self.out.print(renderable)

    def rule(self, title: str) -> None:
        """A section line on stdout, at most ``RULE_WIDTH`` wide."""
        from rich.rule import Rule

        self.out.print(Rule(title), width=min(self.out.width, RULE_WIDTH))

    def note(self, message: str) -> None:
        """A human remark on stderr (never mixed into stdout's data); not wrapped, so
        the commands it suggests stay copyable."""
        self.err.print(message, soft_wrap=True, markup=False)
