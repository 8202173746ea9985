"""``FileAccess``: roots, forbidden trees, symlinks, non-regular files, byte limits
counted as read; and the built-ins that go through it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from factflow_engine import ConfigValidationError, FileAccess, FileAccessError, Registry


@pytest.fixture
def root(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    root.mkdir()
    (root / "a.txt").write_text("hello")
    (root / "big.txt").write_bytes(b"x" * 1000)
    (root / "out").symlink_to("/etc/passwd")
    (root / "inside").symlink_to(root / "a.txt")
    os.mkfifo(root / "fifo")
    (tmp_path / "sibling.txt").write_text("outside")
    return root


def test_paths_under_a_root_are_read_and_others_refused(root: Path, tmp_path: Path) -> None:
    access = FileAccess.under([root])
    assert access.read_bytes(root / "a.txt", 100) == b"hello"
    assert access.read_bytes(root / "inside", 100) == b"hello"  # a symlink that stays inside
    for path, says in [
        ("/etc/passwd", "outside the configured file roots"),
        (tmp_path / "sibling.txt", "outside the configured file roots"),
        (root / ".." / "sibling.txt", "outside the configured file roots"),
        (root / "out", "outside the configured file roots (through a symlink)"),
        ("/proc/self/environ", "under /proc"),
        ("/dev/zero", "under /dev"),
        ("/sys/kernel", "under /sys"),
        ("a\x00b", "NUL"),
    ]:
        with pytest.raises(FileAccessError) as exc:
            access.read_bytes(path, 100)
        assert says in str(exc.value), (path, str(exc.value))


def test_forbidden_trees_stay_forbidden_even_when_listed_as_roots() -> None:
    access = FileAccess.under(["/"])
    assert access.refusal("/etc/hostname") is None
    for path in ("/proc/self/environ", "/dev/zero", "/sys/kernel", "/proc"):
        assert access.refusal(path) is not None


def test_no_roots_means_nothing_is_read(root: Path) -> None:
    reason = FileAccess().refusal(root / "a.txt")
    assert reason is not None and "no file roots are configured" in reason
    assert "FACTFLOW_FILE_ROOTS" in reason


def test_non_regular_files_are_refused_without_blocking(root: Path) -> None:
    access = FileAccess.under([root])
    with pytest.raises(FileAccessError, match="not a regular file \\(a FIFO\\)"):
        access.read_bytes(root / "fifo", 100)  # no writer: a blocking open would hang
    with pytest.raises(FileAccessError, match="a directory"):
        access.read_bytes(root, 100)


def test_byte_limits_count_the_bytes_read(root: Path) -> None:
    access = FileAccess.under([root])
    with pytest.raises(ValueError, match="larger than max_bytes=999"):
        access.read_bytes(root / "big.txt", 999)
    assert len(access.read_bytes(root / "big.txt", 1000)) == 1000


async def test_read_text_and_jsonl_use_the_registry_policy(root: Path) -> None:
    registry = Registry.from_entry_points(file_access=FileAccess.under([root]))
    read_text = registry.create_processor("read_text", {"max_bytes": 10})
    with pytest.raises(PermissionError, match=r"read_text: .*under /proc"):
        read_text._read("/proc/self/environ")  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match=r"read_text: .*larger than max_bytes=10"):
        read_text._read(str(root / "big.txt"))  # type: ignore[attr-defined]
    assert read_text._read(str(root / "a.txt")) == "hello"  # type: ignore[attr-defined]
    # static paths are refused when the options are validated, naming the field
    with pytest.raises(ConfigValidationError) as exc:
        registry.create_adapter("jsonl", {"path": "/dev/zero"})
    assert exc.value.issues[0].path == "with.path" and "under /dev" in exc.value.issues[0].message
    with pytest.raises(ConfigValidationError):
        registry.create_adapter("files", {"root": "/etc"})
    # without a policy, nothing
    bare = Registry.from_entry_points().create_processor("read_text", {})
    with pytest.raises(PermissionError, match="no file roots are configured"):
        bare._read(str(root / "a.txt"))  # type: ignore[attr-defined]


async def test_jsonl_refuses_an_endless_line(root: Path) -> None:
    (root / "long.jsonl").write_text('{"a": 1}\n' + "[" + "1," * 100 + "1]\n")
    registry = Registry.from_entry_points(file_access=FileAccess.under([root]))
    adapter = registry.create_adapter(
        "jsonl", {"path": str(root / "long.jsonl"), "max_line_chars": 50}
    )
    seen = []
    with pytest.raises(
        ValueError, match=r"long\.jsonl:2: the line is longer than max_line_chars=50"
    ):
        async for item in adapter.produce(None):  # type: ignore[arg-type]
            seen.append(item)
    assert seen == [{"a": 1}]
