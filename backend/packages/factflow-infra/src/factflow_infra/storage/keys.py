"""Storage keys: relative POSIX paths, checked before anything touches a disk.

A key names one object inside a namespace (an execution's, or the lineage
spill area).  ``validate_key`` is the one gate: every backend and service calls
it first, so a bad key is a clear ``InvalidStorageKeyError`` and writes
nothing anywhere.
"""

from __future__ import annotations

import re

from factflow_foundation import InvalidInputError

__all__ = ["MAX_KEY_LENGTH", "MAX_SEGMENT_BYTES", "InvalidStorageKeyError", "validate_key"]

#: Longest key accepted, in characters (the ``storage_objects.key`` column width).
MAX_KEY_LENGTH = 1024
#: Longest path segment accepted, in UTF-8 bytes (the usual filesystem NAME_MAX).
MAX_SEGMENT_BYTES = 255

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_DRIVE = re.compile(r"^[A-Za-z]:")


class InvalidStorageKeyError(InvalidInputError):
    """A storage key is not a safe relative path; the message says what is wrong."""

    code = "invalid-storage-key"

    def __init__(self, key: object, problem: str) -> None:
        super().__init__(
            f"invalid storage key {key!r}: {problem}",
            extra={"key": key if isinstance(key, str) else repr(key), "problem": problem},
        )
        self.key = key
        self.problem = problem


def validate_key(key: str) -> str:
    """Return ``key`` unchanged if it is a safe relative POSIX path, else raise.

    Accepted: ``/``-separated segments, each non-empty, not ``.`` or ``..``, at
    most 255 UTF-8 bytes, the whole key at most 1024 characters, with no
    backslash, no control character (C0, DEL or C1, NUL included) and no lone
    surrogate.
    Rejected as absolute: a leading ``/``, a leading ``\\`` (UNC) and a drive
    letter (``C:``), whatever follows it.

    Raises:
        InvalidStorageKeyError: naming the key and exactly what is wrong.
    """
    if not isinstance(key, str):
        raise InvalidStorageKeyError(key, f"must be a string, not {type(key).__name__}")
    if not key:
        raise InvalidStorageKeyError(key, "it is empty")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidStorageKeyError(
            key, f"it is {len(key)} characters long; the limit is {MAX_KEY_LENGTH}"
        )
    control = _CONTROL.search(key)
    if control is not None:
        raise InvalidStorageKeyError(
            key,
            f"control character U+{ord(control.group()):04X} at position {control.start()}"
            " (NUL, newlines and other control characters are not allowed)",
        )
    try:
        key.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise InvalidStorageKeyError(
            key, f"lone surrogate at position {exc.start}; keys must be valid Unicode"
        ) from None
    if key.startswith("/"):
        raise InvalidStorageKeyError(key, "it is absolute (starts with '/'); use a relative path")
    if key.startswith("\\"):
        raise InvalidStorageKeyError(
            key, "it is absolute (starts with '\\', a Windows/UNC path); use a relative path"
        )
    if _DRIVE.match(key):
        raise InvalidStorageKeyError(
            key, f"it starts with a drive letter ({key[:2]!r}); use a relative path"
        )
    backslash = key.find("\\")
    if backslash >= 0:
        raise InvalidStorageKeyError(
            key, f"backslash at position {backslash}; separate segments with '/'"
        )
    for index, segment in enumerate(key.split("/")):
        where = f"segment {index + 1}"
        if not segment:
            raise InvalidStorageKeyError(
                key, f"{where} is empty (a leading, trailing or doubled '/')"
            )
        if segment == "..":
            raise InvalidStorageKeyError(key, f"{where} is '..' (parent directory)")
        if segment == ".":
            raise InvalidStorageKeyError(key, f"{where} is '.' (current directory)")
        size = len(segment.encode("utf-8"))
        if size > MAX_SEGMENT_BYTES:
            raise InvalidStorageKeyError(
                key, f"{where} is {size} bytes long in UTF-8; the limit is {MAX_SEGMENT_BYTES}"
            )
    return key
