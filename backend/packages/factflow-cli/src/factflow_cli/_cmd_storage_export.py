"""``factflow storage export ID DIR``: every object of a run, from one streamed archive.

The server sends the run's objects as one tar stream
(``GET …/storage/archive``); it is unpacked as it arrives, member by member,
so memory stays at one chunk whatever the run stored.  Each file appears
whole (written beside its target, then renamed); members that are not plain
files or would land outside DIR are refused (the archive is checked like
``tarfile``'s ``data`` filter would).
"""

from __future__ import annotations

import os
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Annotated

import typer

from factflow_cli._errors import CliError, InputError
from factflow_cli._ids import IdArg
from factflow_cli._options import globals_of

__all__ = ["export"]


class _ChunkReader:
    """A read-only file over an iterator of byte chunks (for ``tarfile`` ``r|``)."""

    def __init__(self, chunks: Iterator[bytes]) -> None:
        self._chunks = chunks
        self._buffer = bytearray()
        self.received = 0

    def read(self, size: int = -1) -> bytes:
        while size < 0 or len(self._buffer) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self.received += len(chunk)
            self._buffer += chunk
        if size < 0:
            size = len(self._buffer)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data


def _target(root: Path, name: str) -> Path:
    target = (root / name).resolve()
    if os.path.isabs(name) or target == root or not target.is_relative_to(root):
        raise CliError(f"the archive names {name!r}, outside {root}; nothing more was written")
    return target


def _write_member(source: IO[bytes], target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name[:60]}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as file:
            while chunk := source.read(1 << 16):
                file.write(chunk)
        os.replace(temp, target)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def export(
    ctx: typer.Context,
    execution_id: IdArg,
    directory: Annotated[
        Path,
        typer.Argument(
            metavar="DIR", help="Where to put the objects (created; existing files replaced)."
        ),
    ],
) -> None:
    """Download every object an execution stored into DIR, keys as paths.

    One streamed archive from the server, unpacked as it arrives; a progress
    bar counts the bytes on a terminal.  With --format json, a summary.

    Examples:

      factflow storage export 0199a3f2 ./facts

      tar -tf <(curl -s $SERVER/api/v1/executions/0199a3f2…/storage/archive)   # the same, raw
    """
    g = globals_of(ctx)
    client = g.client()
    execution = client.get_execution(execution_id)
    full_id = str(execution.get("id"))
    stats = execution.get("stats") or {}
    total = stats.get("storage_bytes")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        root = directory.resolve()
    except OSError as exc:
        raise InputError(f"cannot create {directory}: {exc}") from None
    reader = _ChunkReader(iter(client.storage_archive(full_id)))
    files = size = 0
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

    progress = Progress(
        TextColumn("exporting"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[files]} files"),
        console=g.err,
        disable=g.json or not g.err.is_terminal,
        transient=True,
    )
    with progress:
        task = progress.add_task("", total=total, files=0)
        try:
            with tarfile.open(fileobj=reader, mode="r|") as archive:  # type: ignore[call-overload]
                for member in archive:
                    if not member.isfile():
                        raise CliError(f"the archive holds {member.name!r}, not a plain file")
                    target = _target(root, member.name)
                    source = archive.extractfile(member)
                    if source is None:
                        continue
                    _write_member(source, target)
                    files += 1
                    size += member.size
                    progress.update(task, completed=size, files=files)
        except tarfile.TarError as exc:
            raise CliError(f"the server's archive is damaged: {exc}") from None
        except OSError as exc:
            raise InputError(f"cannot write into {directory}: {exc}") from None
    if g.json:
        g.emit_json(
            {"execution_id": full_id, "directory": str(root), "files": files, "bytes": size}
        )
    else:
        g.note(f"exported {files} objects, {size} bytes, to {directory}")
