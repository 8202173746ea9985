"""LocalFileStorage.delete_tree and list_dir: what deleting a run's files relies on."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from factflow_infra.storage import InvalidStorageKeyError, LocalFileStorage


def _files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


async def test_delete_tree_removes_one_prefix_only(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "s")
    for key in ("run-a/x/1.json", "run-a/2.json", "run-ab/3.json", "_lineage/run-a/m.json"):
        await storage.write(key, b"{}")
    await storage.delete_tree("run-a")
    assert _files(tmp_path / "s") == ["_lineage/run-a/m.json", "run-ab/3.json"]
    await storage.delete_tree("_lineage/run-a")
    assert _files(tmp_path / "s") == ["run-ab/3.json"]
    assert await storage.list_dir("") == ["_lineage", "run-ab"]
    await storage.delete_tree("run-a")  # gone already: no error
    await storage.delete_tree("never")


async def test_list_dir(tmp_path: Path) -> None:
    storage = LocalFileStorage(tmp_path / "s")
    assert await storage.list_dir("") == []  # no root yet
    await storage.write("b/1", b"")
    await storage.write("a/2", b"")
    assert await storage.list_dir() == ["a", "b"]
    assert await storage.list_dir("a") == ["2"]
    assert await storage.list_dir("nope") == []
    with pytest.raises(InvalidStorageKeyError):
        await storage.list_dir("../x")


async def test_delete_tree_never_leaves_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    (outside / "keep").mkdir(parents=True)
    (outside / "keep" / "file").write_bytes(b"precious")
    storage = LocalFileStorage(tmp_path / "s")
    await storage.write("run/1", b"")
    os.symlink(outside / "keep", tmp_path / "s" / "linked")
    await storage.delete_tree("linked")  # the link goes, never what it points to
    assert not (tmp_path / "s" / "linked").exists()
    assert (outside / "keep" / "file").read_bytes() == b"precious"
    os.symlink(outside, tmp_path / "s" / "run" / "up")
    with pytest.raises(InvalidStorageKeyError):
        await storage.delete_tree("run/up/keep")
    assert (outside / "keep" / "file").exists()
    for bad in ("..", "../outside", "/etc", ""):
        with pytest.raises(InvalidStorageKeyError):
            await storage.delete_tree(bad)
