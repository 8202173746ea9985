"""Built-in source adapters: ``inline``, ``files`` and ``jsonl``."""

from __future__ import annotations

import asyncio
import io
import json
import os
import stat
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO, Any

from factflow_protocols import AdapterContext
from pydantic import Field, ValidationInfo, field_validator

from factflow_engine.builtins.file_options import FileOptions, static_path
from factflow_engine.builtins.globbing import compile_glob
from factflow_engine.file_access import FileAccess
from factflow_engine.registry import ComponentOptions

__all__ = ["FilesAdapter", "InlineAdapter", "JsonlAdapter"]


class InlineAdapter:
    """Yields the configured ``items`` one by one, in order (handy for tests and demos)."""

    class Options(ComponentOptions):
        items: list[Any] = Field(description="The payloads to produce, in order.")

    def __init__(self, options: Options) -> None:
        self.options = options

    async def produce(self, ctx: AdapterContext) -> AsyncIterator[Any]:
        for item in self.options.items:
            yield item


class FilesAdapter:
    """Yields ``{"path", "name", "size", "relative"}`` for each file under ``root``
    matching ``pattern`` (one glob, or a list: any of them), sorted by path.

    ``path`` is absolute; ``relative`` is relative to ``root`` (POSIX form).
    Hidden files and directories (a name starting with ``.``) are skipped unless
    ``include_hidden``; ``exclude`` patterns drop matches (and prune whole
    directories such as ``bench/**``).  A missing ``root`` is an error.

    ``root`` must lie under the server's file roots (a root outside them is a
    config issue when the config is saved); symlinked directories are not
    followed, and a file is yielded only when it is a regular file whose real
    path (symlinks resolved) is under the file roots too.
    """

    class Options(FileOptions):
        root: str = Field(
            description="Directory to scan (relative to the working directory); it must lie "
            "under the server's file roots (FACTFLOW_FILE_ROOTS)."
        )
        pattern: str | list[str] = Field(
            default="**/*", description="Glob(s) over relative paths; ** spans directories."
        )
        exclude: list[str] = Field(default_factory=list, description="Globs of paths to skip.")
        max_files: int | None = Field(default=None, ge=1, description="Keep the first N by path.")
        include_hidden: bool = Field(
            default=False, description="Also yield hidden files and directories ('.name')."
        )

        @field_validator("root")
        @classmethod
        def _root_under_file_roots(cls, value: str, info: ValidationInfo) -> str:
            return static_path(value, info)

        @field_validator("pattern")
        @classmethod
        def _relative_pattern(cls, value: str | list[str]) -> str | list[str]:
            for pattern in [value] if isinstance(value, str) else value:
                if not pattern or pattern.startswith("/"):
                    raise ValueError(
                        f"pattern {pattern!r} must be a relative glob such as '**/*.md' (the"
                        " root directory goes in 'root')"
                    )
            if not value:
                raise ValueError("pattern must name at least one glob, e.g. '**/*.md'")
            return value

    def __init__(self, options: Options) -> None:
        self.options = options
        patterns = [options.pattern] if isinstance(options.pattern, str) else options.pattern
        self._patterns = [compile_glob(p) for p in patterns]
        self._exclude = [compile_glob(p) for p in options.exclude]

    async def produce(self, ctx: AdapterContext) -> AsyncIterator[dict[str, Any]]:
        for item in await asyncio.to_thread(self._scan):
            yield item

    def _scan(self) -> list[dict[str, Any]]:
        access = self.options.file_access
        access.check(self.options.root)  # FileAccessError naming the rule
        root = Path(self.options.root).expanduser()
        if not root.exists():
            raise FileNotFoundError(
                f"files adapter: root directory {self.options.root!r} does not exist"
                f" (looked for {root.absolute()})"
            )
        if not root.is_dir():
            raise NotADirectoryError(
                f"files adapter: root {str(root.absolute())!r} is not a directory"
            )
        root = root.resolve()
        found: list[tuple[str, Path]] = []
        for current, dirnames, filenames in os.walk(root):
            base = Path(current)
            rel_dir = base.relative_to(root).as_posix()
            prefix = "" if rel_dir == "." else rel_dir + "/"
            dirnames[:] = sorted(d for d in dirnames if self._keep_dir(prefix + d))
            for name in filenames:
                rel = prefix + name
                if not self.options.include_hidden and name.startswith("."):
                    continue
                if any(p.match(rel) for p in self._patterns) and not self._excluded(rel):
                    path = base / name
                    if _readable(access, path):
                        found.append((rel, path))
        found.sort(key=lambda item: item[0])
        if self.options.max_files is not None:
            found = found[: self.options.max_files]
        return [
            {"path": str(path), "name": path.name, "size": path.stat().st_size, "relative": rel}
            for rel, path in found
        ]

    def _keep_dir(self, rel: str) -> bool:
        if not self.options.include_hidden and rel.rsplit("/", 1)[-1].startswith("."):
            return False
        return not self._excluded(rel + "/")

    def _excluded(self, rel: str) -> bool:
        return any(p.match(rel) for p in self._exclude)


class JsonlAdapter:
    """Yields one payload per non-blank line of a JSON Lines file.

    A line that is not JSON, or longer than ``max_line_chars``, stops the
    adapter with an error naming ``file:line``.  The file must be a regular
    file under the server's file roots (a static path outside them is a config
    issue when the config is saved).
    """

    class Options(FileOptions):
        path: str = Field(
            description="The .jsonl file to read; it must lie under the server's file roots "
            "(FACTFLOW_FILE_ROOTS)."
        )
        max_line_chars: int = Field(
            default=10_000_000, ge=1, description="A longer line (in characters) stops the adapter."
        )

        @field_validator("path")
        @classmethod
        def _path_under_file_roots(cls, value: str, info: ValidationInfo) -> str:
            return static_path(value, info)

    def __init__(self, options: Options) -> None:
        self.options = options

    async def produce(self, ctx: AdapterContext) -> AsyncIterator[Any]:
        path = self.options.path
        try:
            raw = await asyncio.to_thread(self.options.file_access.open_binary, path)
        except FileNotFoundError:
            raise FileNotFoundError(f"jsonl adapter: file {path!r} does not exist") from None
        except PermissionError as exc:
            raise PermissionError(f"jsonl adapter: {exc}") from None
        handle = io.TextIOWrapper(raw, encoding="utf-8")
        limit = self.options.max_line_chars
        try:
            lineno = 0
            while batch := await asyncio.to_thread(_read_lines, handle, 512, limit + 1):
                for line in batch:
                    lineno += 1
                    if len(line) > limit and not line.endswith("\n"):
                        raise ValueError(
                            f"{path}:{lineno}: the line is longer than max_line_chars={limit}"
                        )
                    if not line.strip():
                        continue
                    try:
                        payload = json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise ValueError(
                            f"{path}:{lineno}: not valid JSON ({exc.msg} at column {exc.colno})"
                        ) from None
                    yield payload
        finally:
            handle.close()


def _readable(access: FileAccess, path: Path) -> bool:
    """Whether the walk yields ``path``: a regular file, and, when it is a symlink,
    one whose target the policy allows.  (The walk starts at the checked, resolved
    root and never descends into symlinked directories, so only a symlinked file
    can lead elsewhere.)"""
    try:
        if path.is_symlink() and access.refusal(path) is not None:
            return False
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False


def _read_lines(handle: IO[str], count: int, limit: int) -> list[str]:
    """Up to ``count`` lines, each read at most ``limit`` characters far (a longer
    line comes back cut at ``limit``, and the caller refuses it)."""
    lines: list[str] = []
    for _ in range(count):
        line = handle.readline(limit)
        if not line:
            break
        lines.append(line)
    return lines
