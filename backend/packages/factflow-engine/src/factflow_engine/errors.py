"""The engine's errors: every config problem found, each pinned to a field path and line.

The engine's branch of the FactFlow exception tree::

    FactFlowError
    └── InvalidInputError                 (HTTP 422)
        ├── ConfigValidationError         .issues: list[ValidationIssue]
        └── ComponentNotFoundError        (registry.lookup; also a LookupError)

``InvalidInputError`` itself is raised for bad orchestrator inputs (a queue
mapping missing a route, a replay message for an unknown route) and by
``RouteDirectory`` when two routes would share a queue.  Exceptions raised by
processors are ordinary exceptions: they become per-message failures.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeAlias

from factflow_foundation import InvalidInputError

__all__ = ["ConfigValidationError", "FieldPath", "ValidationIssue", "format_path"]

FieldPath: TypeAlias = tuple[str | int, ...]

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_-]+$")


def format_path(path: FieldPath) -> str:
    """Render a path such as ``("routes", "split", "processors", 0, "type")`` as text.

    That path renders as ``routes.split.processors[0].type``.

    Keys that are not plain words are quoted (``with["a b"]``); the empty path
    (the whole document) renders as ``(top level)``.
    """
    out: list[str] = []
    for part in path:
        if isinstance(part, int):
            out.append(f"[{part}]")
        elif _PLAIN_KEY.match(part):
            out.append(f".{part}" if out else part)
        else:
            out.append(f"[{json.dumps(part, ensure_ascii=False)}]")
    return "".join(out) or "(top level)"


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem in a pipeline config.

    ``path`` is the dotted field path (``routes.split.processors[0].type``),
    ``message`` says what is wrong and what would be right, ``line`` is the
    1-based line in the config text (``None`` when the config was not text).
    """

    path: str
    message: str
    line: int | None = None

    def format(self, filename: str | None = None) -> str:
        """``file:line: path: message`` (parts that are unknown are left out)."""
        where = filename or ""
        if self.line is not None:
            where = f"{where or '<config>'}:{self.line}"
        prefix = f"{where}: " if where else ""
        return f"{prefix}{self.path}: {self.message}"

    def as_dict(self) -> dict[str, str | int | None]:
        """JSON-ready form (the server's problem+json ``issues`` entries)."""
        return {"path": self.path, "message": self.message, "line": self.line}

    def __str__(self) -> str:
        return self.format()


class ConfigValidationError(InvalidInputError):
    """A pipeline config (or its params) is invalid; ``issues`` lists every problem found."""

    code = "invalid-config"

    def __init__(self, issues: Sequence[ValidationIssue], *, filename: str | None = None) -> None:
        self.issues: list[ValidationIssue] = list(issues)
        self.filename = filename
        count = len(self.issues)
        title = f"pipeline config {filename!r}" if filename else "pipeline config"
        lines = [f"{title} is invalid ({count} issue{'s' if count != 1 else ''}):"]
        lines.extend(f"  {issue.format(filename)}" for issue in self.issues)
        super().__init__(
            "\n".join(lines),
            extra={"issues": [issue.as_dict() for issue in self.issues], "filename": filename},
        )
