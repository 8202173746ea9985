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
    from rich.console import Console

    from factflow_cli._client import ApiClient

__all__ = ["DEFAULT_SERVER_URL", "Globals", "OutputFormat", "make_console"]

#: Where ``factflow server`` listens by default (factflow_server.DEFAULT_PORT; a
#: test keeps the two equal without importing the server here).
DEFAULT_SERVER_URL = "http://127.0.0.1:8000"


class OutputFormat(StrEnum):
    TABLE = "table"
    JSON = "json"


#: Width of tables written to a pipe or file (a terminal uses its own width).
PIPE_WIDTH = 160


def make_console(file: Any) -> Console:
    """A Rich console on ``file``; not a terminal and no COLUMNS: wide, so lines
    written to files and pipes are not wrapped at 80 columns."""
    from rich.console import Console

    width = None
    if not (hasattr(file, "isatty") and file.isatty()) and not os.environ.get("COLUMNS"):
        width = PIPE_WIDTH
    return Console(file=file, highlight=False, width=width)


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
        """Print ``value`` as one indented JSON document on stdout (``--output json``)."""
        sys.stdout.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def note(self, message: str) -> None:
        """A human remark on stderr (never mixed into stdout's data); not wrapped, so
        the commands it suggests stay copyable."""
        self.err.print(message, soft_wrap=True, markup=False)
