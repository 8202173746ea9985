"""Local-filesystem storage backend (the embedded default).

Objects are plain files under one root directory.  Writes are atomic (a temp
file in the target's directory, fsync, ``os.replace``, then an fsync of the
directory), so a reader sees the old object or the new one, never a torn one.
For group commit (``StorageCommitter``) the two halves are separate:
``write_unsynced`` renames the file into place without any fsync, and
``sync`` later makes a whole batch durable - one ``syncfs(2)`` on Linux, or
every file fsynced in worker threads and each directory once.
Every path is validated with ``validate_key`` and, because a valid key can
still walk out through a symbolic link planted under the root, resolved and
checked against the resolved root before any file is created or read.  All
file I/O runs in a worker thread (``asyncio.to_thread``), off the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import functools
import os
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import BinaryIO, Literal, TypeAlias

from factflow_foundation import FactFlowSettings, InfrastructureError, NotFoundError

from factflow_infra.storage.keys import InvalidStorageKeyError, validate_key

__all__ = ["BatchSync", "LocalFileStorage"]

#: Unsynced writes up to this size run on the event loop (see ``write_unsynced``).
_INLINE_WRITE_BYTES = 64 * 1024

BatchSync: TypeAlias = Literal["auto", "syncfs", "fsync"]
"""How ``LocalFileStorage.sync`` makes a batch durable (see there)."""


class LocalFileStorage:
    """``StorageBackend`` over a directory: ``root/<key>`` is one object.

    Constructing it does no I/O; the root is created on the first write.
    Deleting a missing object is a no-op.
    """

    def __init__(self, root: Path | str, *, batch_sync: BatchSync = "auto") -> None:
        # abspath, not resolve(): no filesystem access in a constructor.
        self._root = Path(os.path.abspath(Path(root).expanduser()))
        self._batch_sync = batch_sync
        self._real_root: Path | None = None

    @classmethod
    def from_settings(cls, settings: FactFlowSettings) -> LocalFileStorage:
        """The backend at ``settings.resolved_storage_dir``."""
        return cls(settings.resolved_storage_dir)

    @property
    def root(self) -> Path:
        """The (absolute, unresolved) root directory."""
        return self._root

    def locate(self, path: str) -> str:
        """The absolute file path ``path`` is (or would be) stored at; no I/O."""
        return str(self._root / validate_key(path))

    async def write(self, path: str, data: bytes) -> str:
        """Atomically store ``data`` at ``path``; return the absolute file path."""
        validate_key(path)
        return await asyncio.to_thread(self._write_sync, path, bytes(data))

    async def read(self, path: str) -> bytes:
        """The bytes stored at ``path``; ``NotFoundError`` when there are none."""
        validate_key(path)
        return await asyncio.to_thread(self._read_sync, path)

    async def open(self, path: str) -> BinaryIO:
        """The object at ``path`` opened for reading (the caller closes it), for
        streaming; ``NotFoundError`` when there is none."""
        validate_key(path)
        return await asyncio.to_thread(self._open_sync, path)

    async def delete(self, path: str) -> None:
        """Remove the object at ``path`` (no error when it does not exist)."""
        validate_key(path)
        await asyncio.to_thread(self._delete_sync, path)

    async def delete_tree(self, prefix: str) -> None:
        """Remove every object under ``prefix/`` and the directory itself (no error
        when there is none).  Symbolic links inside are removed, never followed."""
        validate_key(prefix)
        await asyncio.to_thread(self._delete_tree_sync, prefix)

    async def list_dir(self, prefix: str = "") -> list[str]:
        """Names of the entries directly under ``prefix`` (the root when empty),
        sorted; an empty list when there is no such directory."""
        if prefix:
            validate_key(prefix)
        return await asyncio.to_thread(self._list_dir_sync, prefix)

    async def write_unsynced(self, path: str, data: bytes) -> str:
        """Store ``data`` at ``path`` atomically but not yet durably (no fsync).

        The file is complete when it appears; ``sync`` makes it durable.  A
        crash before that may leave the file empty or absent.
        """
        validate_key(path)
        if len(data) <= _INLINE_WRITE_BYTES:
            # Without an fsync a small write is a few syscalls: cheaper here than
            # the thread hop it would take (the batch's sync runs in a thread).
            return self._write_sync(path, bytes(data), False)
        return await asyncio.to_thread(self._write_sync, path, bytes(data), False)

    async def sync(self, locations: Sequence[str], *, threads: int = 8) -> set[str]:
        """Make the files at ``locations`` (as ``write_unsynced`` returned them)
        durable, their names included.

        ``batch_sync="fsync"``: each file fsynced (in up to ``threads`` worker
        threads at once), then each of their directories once.  ``"syncfs"``
        (Linux): one ``syncfs(2)`` of the root's filesystem for the whole batch
        - every dirty page and name on it reaches the disk, so the cost is one
        call however many files the batch has.  ``"auto"`` (the default) is
        ``syncfs`` where the C library has it, ``fsync`` elsewhere.

        Returns the locations whose file no longer exists (removed since it was
        written); they are not durable and must not be recorded.
        """
        if not locations:
            return set()
        unique = list(dict.fromkeys(locations))
        if self._batch_sync != "fsync" and _syncfs() is not None:
            return await asyncio.to_thread(self._syncfs_batch, unique)
        if self._batch_sync == "syncfs":
            raise InfrastructureError("syncfs(2) is not available here; use batch_sync='fsync'")
        chunks = [unique[i :: max(1, threads)] for i in range(min(threads, len(unique)))]
        missing: set[str] = set()
        for gone in await asyncio.gather(*(asyncio.to_thread(_fsync_files, c) for c in chunks)):
            missing.update(gone)
        directories = {os.path.dirname(loc) for loc in unique if loc not in missing}
        await asyncio.to_thread(_fsync_dirs, sorted(directories))
        return missing

    # --- blocking halves, run in a worker thread ---------------------------

    def _syncfs_batch(self, locations: Sequence[str]) -> set[str]:
        missing = {loc for loc in locations if not os.path.exists(loc)}
        syncfs = _syncfs()
        if syncfs is None:
            raise InfrastructureError("syncfs(2) is not available here")
        try:
            fd = os.open(self._root, os.O_RDONLY)
        except OSError as exc:
            raise InfrastructureError(
                f"cannot open storage root {str(self._root)!r}: {exc}"
            ) from exc
        try:
            if syncfs(fd) != 0:
                error = ctypes.get_errno()
                raise InfrastructureError(
                    f"cannot make storage under {str(self._root)!r} durable: "
                    f"syncfs failed: {os.strerror(error)}"
                )
        finally:
            os.close(fd)
        return missing

    def _contained(self, path: str, *, create_root: bool) -> Path:
        """``root/path`` with every symlink resolved, proven to stay under root."""
        if create_root:
            try:
                self._root.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise InfrastructureError(
                    f"cannot create storage root {str(self._root)!r}: {exc}"
                ) from exc
        root = self._real_root
        if root is None:
            root = self._root.resolve()
            if root.is_dir():  # resolved once it exists (it is never moved)
                self._real_root = root
        # Fast path: when no existing component under the root is a link there
        # is nothing to follow (one lstat each, instead of resolving the root
        # and every component of the key again).
        current = str(root)
        for part in path.split("/"):
            current = os.path.join(current, part)
            try:
                mode = os.lstat(current).st_mode
            except FileNotFoundError:
                return root / path  # the rest does not exist yet
            except OSError:
                break
            if stat.S_ISLNK(mode):
                break
        else:
            return root / path
        target = (root / path).resolve()
        if target == root or not target.is_relative_to(root):
            raise InvalidStorageKeyError(
                path,
                f"it resolves to {str(target)!r}, outside the storage root {str(root)!r}"
                " (through a symbolic link)",
            )
        return target

    def _write_sync(self, path: str, data: bytes, durable: bool = True) -> str:
        target = self._contained(path, create_root=True)
        parent = target.parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            # mkdir may have followed a link created since the check; check again.
            self._contained(path, create_root=False)
            fd, tmp_name = tempfile.mkstemp(dir=parent, prefix=".factflow-", suffix=".tmp")
        except OSError as exc:
            raise InfrastructureError(
                f"cannot write storage object {path!r} at {str(target)!r}: {exc}"
            ) from exc
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                if durable:
                    handle.flush()
                    os.fsync(handle.fileno())
            os.replace(tmp_name, target)
        except OSError as exc:
            with contextlib.suppress(OSError):
                os.unlink(tmp_name)
            raise InfrastructureError(
                f"cannot write storage object {path!r} at {str(target)!r}: {exc}"
            ) from exc
        if durable:
            _fsync_dir(parent)
        return str(target)

    def _read_sync(self, path: str) -> bytes:
        target = self._contained(path, create_root=False)
        with _read_errors(path):
            return target.read_bytes()

    def _open_sync(self, path: str) -> BinaryIO:
        target = self._contained(path, create_root=False)
        with _read_errors(path):
            return target.open("rb")

    def _delete_sync(self, path: str) -> None:
        target = self._contained(path, create_root=False)
        try:
            target.unlink(missing_ok=True)
        except IsADirectoryError:
            return
        except OSError as exc:
            raise InfrastructureError(
                f"cannot delete storage object {path!r} at {str(target)!r}: {exc}"
            ) from exc

    def _delete_tree_sync(self, prefix: str) -> None:
        link = self._root / prefix
        target = link if link.is_symlink() else self._contained(prefix, create_root=False)
        try:
            if target.is_symlink() or target.is_file():
                target.unlink(missing_ok=True)  # the link itself, never what it points to
            else:
                shutil.rmtree(target)
        except FileNotFoundError:
            return
        except OSError as exc:
            raise InfrastructureError(
                f"cannot delete storage objects under {prefix!r} at {str(target)!r}: {exc}"
            ) from exc

    def _list_dir_sync(self, prefix: str) -> list[str]:
        directory = self._contained(prefix, create_root=False) if prefix else self._root
        try:
            return sorted(entry.name for entry in os.scandir(directory))
        except (FileNotFoundError, NotADirectoryError):
            return []
        except OSError as exc:
            raise InfrastructureError(
                f"cannot list storage directory {prefix!r} at {str(directory)!r}: {exc}"
            ) from exc

    def __repr__(self) -> str:
        return f"LocalFileStorage({str(self._root)!r})"


@functools.cache
def _syncfs() -> Callable[[int], int] | None:
    """libc's ``syncfs(2)`` (Linux), or None where there is none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        function: Callable[[int], int] = ctypes.CDLL(None, use_errno=True).syncfs
    except (OSError, AttributeError):
        return None
    return function


def _fsync_files(locations: Sequence[str]) -> list[str]:
    """fsync each file; the ones that no longer exist are returned."""
    missing: list[str] = []
    for location in locations:
        try:
            fd = os.open(location, os.O_RDONLY)
        except FileNotFoundError:
            missing.append(location)
            continue
        except OSError as exc:
            raise InfrastructureError(
                f"cannot open {location!r} to make it durable: {exc}"
            ) from exc
        try:
            os.fsync(fd)
        except OSError as exc:
            raise InfrastructureError(f"cannot make {location!r} durable: {exc}") from exc
        finally:
            os.close(fd)
    return missing


def _fsync_dirs(directories: Sequence[str]) -> None:
    for directory in directories:
        _fsync_dir(Path(directory))


def _fsync_dir(directory: Path) -> None:
    """Make a rename durable (best effort: some filesystems refuse directory fsync)."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def _read_errors(key: str) -> Iterator[None]:
    """Reading ``key`` failed: the error names the key, never the server path
    (its text reaches API callers)."""
    try:
        yield
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError) as exc:
        raise NotFoundError(f"storage object {key!r} not found", extra={"key": key}) from exc
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise InfrastructureError(f"cannot read storage object {key!r}: {reason}") from exc
