"""LocalFileStorage: atomic writes under one root, never outside it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from factflow_foundation import InvalidInputError, NotFoundError
from factflow_infra.storage import InvalidStorageKeyError, LocalFileStorage


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_round_trip_returns_absolute_location(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "store")
    location = await storage.write("exec-1/out/facts.json", b'{"a": 1}')
    assert location == str(tmp_path / "store" / "exec-1" / "out" / "facts.json")
    assert Path(location).is_absolute()
    assert storage.locate("exec-1/out/facts.json") == location
    assert await storage.read("exec-1/out/facts.json") == b'{"a": 1}'


async def test_overwrite_replaces_and_leaves_no_temp_files(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)
    await storage.write("k/v.txt", b"first version, longer")
    await storage.write("k/v.txt", b"second")
    assert await storage.read("k/v.txt") == b"second"
    assert _files(tmp_path) == ["k/v.txt"]


def test_constructor_does_no_io(tmp_path: Path) -> None:
    root = tmp_path / "not-yet"
    storage = LocalFileStorage(root)
    assert storage.locate("a/b") == str(root / "a" / "b")
    assert not root.exists()


async def test_relative_root_is_made_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    storage = LocalFileStorage("rel")
    assert Path(storage.locate("x")).is_absolute()
    await storage.write("x", b"1")
    assert (tmp_path / "rel" / "x").read_bytes() == b"1"


async def test_reading_a_missing_object_is_not_found(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)
    with pytest.raises(NotFoundError, match=r"'nope/x\.bin' not found") as missing:
        await storage.read("nope/x.bin")
    assert str(tmp_path) not in str(missing.value)  # API callers see keys, not server paths
    await storage.write("dir/file", b"x")
    with pytest.raises(NotFoundError):
        await storage.read("dir")


async def test_delete_removes_and_is_idempotent(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path)
    await storage.write("a/b", b"x")
    await storage.delete("a/b")
    await storage.delete("a/b")
    with pytest.raises(NotFoundError):
        await storage.read("a/b")


@pytest.mark.parametrize("key", ["../escape", "/etc/passwd", "a//b", "a\x00b", ""])
async def test_bad_keys_write_nothing(tmp_path: Path, key: str) -> None:
    storage = LocalFileStorage(tmp_path / "root")
    with pytest.raises(InvalidStorageKeyError) as caught:
        await storage.write(key, b"x")
    assert isinstance(caught.value, InvalidInputError)
    assert caught.value.code == "invalid-storage-key"
    assert repr(key) in str(caught.value)
    assert not (tmp_path / "root").exists()
    assert _files(tmp_path) == []


async def test_symlinked_directory_cannot_escape_root(tmp_path: Path) -> None:
    root, outside = tmp_path / "root", tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret").write_bytes(b"secret")
    os.symlink(outside, root / "link")
    storage = LocalFileStorage(root)
    with pytest.raises(InvalidStorageKeyError, match="outside the storage root"):
        await storage.write("link/new/file.txt", b"x")
    with pytest.raises(InvalidStorageKeyError, match="outside the storage root"):
        await storage.read("link/secret")
    with pytest.raises(InvalidStorageKeyError, match="outside the storage root"):
        await storage.delete("link/secret")
    assert _files(outside) == ["secret"]
    assert not (outside / "new").exists()


async def test_symlinked_file_cannot_escape_root(tmp_path: Path) -> None:
    root, target = tmp_path / "root", tmp_path / "victim.txt"
    root.mkdir()
    target.write_bytes(b"keep")
    os.symlink(target, root / "obj")
    storage = LocalFileStorage(root)
    with pytest.raises(InvalidStorageKeyError, match="symbolic link"):
        await storage.write("obj", b"overwritten?")
    assert target.read_bytes() == b"keep"


async def test_symlink_inside_root_is_followed(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "real").mkdir(parents=True)
    os.symlink(root / "real", root / "alias")
    storage = LocalFileStorage(root)
    await storage.write("alias/x", b"1")
    assert (root / "real" / "x").read_bytes() == b"1"


async def test_root_itself_may_be_a_symlink(tmp_path: Path) -> None:
    (tmp_path / "real-root").mkdir()
    os.symlink(tmp_path / "real-root", tmp_path / "root")
    storage = LocalFileStorage(tmp_path / "root")
    await storage.write("a/b", b"1")
    assert await storage.read("a/b") == b"1"
