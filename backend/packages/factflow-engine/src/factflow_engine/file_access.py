"""``FileAccess``: the one way a component reads the server's filesystem.

A config is written by whoever holds the API token, and every payload it
produces is stored and served back; a component that opens any path it is
handed would let a token holder read the server's files and environment
(``/proc/self/environ`` holds ``FACTFLOW_API_TOKEN`` and the database URL).
So the built-ins that touch files (``files``, ``jsonl``, ``read_text``, and
any later one) go through a ``FileAccess``:

- only paths under the operator's roots (``FACTFLOW_FILE_ROOTS``; none by
  default, so nothing is readable until the operator names a directory);
- never under ``/proc``, ``/sys`` or ``/dev``, even when a root contains them;
- symlinks are resolved first and the *target* is checked against the roots;
- only regular files are opened (checked on the open descriptor, after
  opening without following a last-moment symlink and without blocking on a
  FIFO), and byte limits count the bytes actually read, never ``st_size``.

A refusal is a ``FileAccessError`` (a ``PermissionError``) whose message
names the path and the rule; at config save time a static path is refused
the same way, as a config issue (see ``FileOptions``).

Components get the policy through Pydantic's validation context: the
``Registry`` validates every ``Options`` with ``{"file_access": …}``, so an
``Options`` subclassing ``FileOptions`` (``factflow_engine.builtins.file_options``)
carries it as ``options.file_access``.
Without a context the policy refuses everything.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Final

__all__ = ["CONTEXT_KEY", "DENY_ALL", "FileAccess", "FileAccessError"]

#: The key of the policy in the Pydantic validation context.
CONTEXT_KEY: Final = "file_access"
#: Never readable, whatever the roots say: the kernel's views of processes,
#: devices and the system (environments, memory, endless streams).
FORBIDDEN: Final = (Path("/proc"), Path("/sys"), Path("/dev"))
_SETTING: Final = "FACTFLOW_FILE_ROOTS"


class FileAccessError(PermissionError):
    """A path the file-access policy refuses; ``str()`` says which rule."""


@dataclass(frozen=True, slots=True)
class FileAccess:
    """Which directories components may read; ``roots`` are resolved absolute paths."""

    roots: tuple[Path, ...] = ()

    @classmethod
    def under(cls, roots: Iterable[str | os.PathLike[str]]) -> FileAccess:
        """A policy allowing ``roots`` (resolved now; ``~`` expanded)."""
        return cls(tuple(Path(os.path.realpath(Path(r).expanduser())) for r in roots))

    # -- checks ---------------------------------------------------------------

    def refusal(self, path: str | os.PathLike[str]) -> str | None:
        """Why ``path`` may not be read (``None``: it may), judged on the path with
        every symlink that exists resolved.  Nothing is opened."""
        text = os.fspath(path)
        if "\x00" in text:
            return f"the path {_short(text)} contains a NUL character"
        resolved = Path(os.path.realpath(Path(text).expanduser()))
        for forbidden in FORBIDDEN:
            if resolved == forbidden or forbidden in resolved.parents:
                return (
                    f"the path {_short(text)} is under {forbidden}, which components may never read"
                )
        if not self.roots:
            return (
                f"the path {_short(text)} cannot be read: no file roots are configured "
                f"(the operator sets {_SETTING} to the directories components may read)"
            )
        if not any(resolved == root or root in resolved.parents for root in self.roots):
            via = " (through a symlink)" if str(resolved) != os.path.abspath(text) else ""
            return f"the path {_short(text)} is outside the configured file roots{via} ({_SETTING})"
        return None

    def check(self, path: str | os.PathLike[str]) -> Path:
        """``path`` resolved, or ``FileAccessError`` when it may not be read."""
        reason = self.refusal(path)
        if reason is not None:
            raise FileAccessError(reason)
        return Path(os.path.realpath(Path(os.fspath(path)).expanduser()))

    # -- reading --------------------------------------------------------------

    def open_binary(self, path: str | os.PathLike[str]) -> IO[bytes]:
        """Open a regular file under the roots for reading.

        ``FileAccessError`` for a refused path or a non-regular file;
        ``FileNotFoundError`` when it does not exist.
        """
        resolved = self.check(path)
        flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(resolved, flags)
        except OSError as exc:
            if isinstance(exc, FileNotFoundError):
                raise FileNotFoundError(f"{_short(os.fspath(path))} does not exist") from None
            raise FileAccessError(
                f"the path {_short(os.fspath(path))} cannot be opened ({exc.strerror})"
            ) from None
        try:
            mode = os.fstat(fd).st_mode
            if not stat.S_ISREG(mode):
                raise FileAccessError(
                    f"the path {_short(os.fspath(path))} is not a regular file "
                    f"({_kind(mode)}); only regular files are read"
                )
            os.set_blocking(fd, True)
            return os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise

    def read_bytes(self, path: str | os.PathLike[str], max_bytes: int) -> bytes:
        """The whole file, or ``ValueError`` as soon as more than ``max_bytes``
        have been read (the count is of bytes read, whatever ``st_size`` says)."""
        with self.open_binary(path) as handle:
            data = handle.read(max_bytes + 1)
        if len(data) > max_bytes:
            raise ValueError(
                f"{_short(os.fspath(path))} is larger than max_bytes={max_bytes} "
                f"(stopped reading after {len(data)} bytes)"
            )
        return data


def _short(text: str, limit: int = 200) -> str:
    return repr(text if len(text) <= limit else text[: limit - 3] + "...")


def _kind(mode: int) -> str:
    for test, name in (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISFIFO, "a FIFO"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return name
    return "not a regular file"


DENY_ALL: Final = FileAccess()
