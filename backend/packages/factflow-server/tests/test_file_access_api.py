"""The file-access policy through the API (issue 10, findings 4 and 6): with the
server's own settings wiring, the ``files``, ``jsonl`` and ``read_text`` built-ins
read only regular files under ``FACTFLOW_FILE_ROOTS``: never ``/etc/passwd``,
``/proc/self/environ`` (the server's token and database URL), ``/dev/zero``,
nor a symlink out of a root.  Static paths are refused when the config is
saved; paths in payloads, message by message."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest
from factflow_engine import Registry
from factflow_foundation import FactFlowSettings
from factflow_server import create_app

from .conftest import API, ServiceFactory, asgi_client, run_to_end

#: A line of this process's /proc/self/environ (what a leak would carry)
ENVIRON_LINE = next(
    line
    for line in Path("/proc/self/environ").read_bytes().decode(errors="replace").split("\0")
    if line.startswith("PATH=")
)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A file root holding a text file, a symlink to /etc/passwd, a symlink to
    /etc and a FIFO."""
    root = tmp_path / "root"
    root.mkdir()
    (root / "notes.txt").write_text("Alice wrote FactFlow. It reads notes.\n")
    (root / "passwd").symlink_to("/etc/passwd")
    (root / "etc").symlink_to("/etc")
    os.mkfifo(root / "pipe")
    return root


@pytest.fixture
def settings(settings: FactFlowSettings, root: Path) -> FactFlowSettings:
    return settings.model_copy(update={"file_roots": [root]})


@pytest.fixture
def registry() -> Registry | None:
    return None  # the service builds its registry from the settings, as a server does


def reading(name: str, items: list[Any]) -> dict[str, Any]:
    """inline items → read_text → storage_write."""
    return {
        "name": name,
        "routes": {
            "src": {
                "adapter": {"type": "inline", "with": {"items": items}},
                "processors": [{"type": "read_text"}, {"type": "storage_write"}],
            }
        },
    }


def adapter(name: str, type_: str, options: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "routes": {
            "src": {
                "adapter": {"type": type_, "with": options},
                "processors": [{"type": "read_text"}, {"type": "storage_write"}],
            }
        },
    }


async def everything_served(client: httpx.AsyncClient, execution_id: str) -> str:
    """Every lineage record, event and stored object of a run, as one text."""
    parts = [(await client.get(f"{API}/executions/{execution_id}/lineage")).text]
    parts.append((await client.get(f"{API}/executions/{execution_id}/events")).text)
    objects = (await client.get(f"{API}/executions/{execution_id}/storage/objects")).json()
    for item in objects["items"]:
        url = f"{API}/executions/{execution_id}/storage/objects/{item['key']}"
        parts.append((await client.get(url)).text)
    return "\n".join(parts)


@pytest.mark.parametrize(
    ("type_", "options", "says"),
    [
        ("files", {"root": "/etc"}, "outside the configured file roots"),
        ("files", {"root": "/proc/self"}, "under /proc"),
        ("files", {"root": "/sys"}, "under /sys"),
        ("jsonl", {"path": "/dev/zero"}, "under /dev"),
        ("jsonl", {"path": "/etc/passwd"}, "outside the configured file roots"),
    ],
)
async def test_a_static_path_outside_the_roots_is_refused_when_saved(
    client: httpx.AsyncClient, type_: str, options: dict[str, Any], says: str
) -> None:
    config = adapter("static", type_, options)
    key = next(iter(options))
    for path in ("/configs/validate", "/configs"):
        response = await client.post(f"{API}{path}", json=config)
        assert response.status_code == 422, response.text
        [issue] = response.json()["issues"]
        assert issue["path"] == f"routes.src.adapter.with.{key}"
        assert says in issue["message"]
    assert (await client.get(f"{API}/configs/static")).status_code == 404


async def test_a_static_path_through_a_symlink_out_of_the_root_is_refused(
    client: httpx.AsyncClient, root: Path
) -> None:
    response = await client.post(
        f"{API}/configs", json=adapter("s", "files", {"root": str(root / "etc")})
    )
    [issue] = response.json()["issues"]
    assert "outside the configured file roots (through a symlink)" in issue["message"]


async def test_payload_paths_outside_the_roots_fail_their_messages_and_leak_nothing(
    client: httpx.AsyncClient, root: Path
) -> None:
    items = [
        {"path": "/etc/passwd"},
        {"path": "/proc/self/environ"},
        {"path": "/dev/zero"},
        {"path": str(root / "passwd")},
        {"path": str(root / "etc" / "passwd")},
        {"path": str(root / "pipe")},
        {"path": str(root / "notes.txt")},
    ]
    assert (await client.post(f"{API}/configs", json=reading("r", items))).status_code == 201
    result = await run_to_end(client, "r")
    assert result["status"] == "completed"
    lineage = (await client.get(f"{API}/executions/{result['execution_id']}/lineage")).json()
    errors = {
        record["payload"]["path"]: record["error"]
        for record in lineage["items"]
        if record["route"] == "src" and record["status"] == "failed"
    }
    assert "outside the configured file roots" in errors["/etc/passwd"]
    assert "under /proc" in errors["/proc/self/environ"]
    assert "under /dev" in errors["/dev/zero"]
    assert "(through a symlink)" in errors[str(root / "passwd")]
    assert "(through a symlink)" in errors[str(root / "etc" / "passwd")]
    assert "not a regular file (a FIFO)" in errors[str(root / "pipe")]
    assert str(root / "notes.txt") not in errors  # the one file inside the root was read
    served = await everything_served(client, result["execution_id"])
    assert "Alice wrote FactFlow" in served
    assert "root:x:0:0" not in served and ENVIRON_LINE not in served


async def test_the_files_adapter_never_follows_a_symlink_out_of_its_root(
    client: httpx.AsyncClient, root: Path
) -> None:
    config = adapter("walk", "files", {"root": str(root)})
    assert (await client.post(f"{API}/configs", json=config)).status_code == 201
    result = await run_to_end(client, "walk")
    lineage = (await client.get(f"{API}/executions/{result['execution_id']}/lineage")).json()
    read = sorted(
        Path(record["payload"]["path"]).name
        for record in lineage["items"]
        if record["route"] == "src"
    )
    assert read == ["notes.txt"]
    assert "root:x:0:0" not in await everything_served(client, result["execution_id"])


async def test_a_path_param_outside_the_roots_is_refused_when_the_run_is_created(
    client: httpx.AsyncClient,
) -> None:
    config = adapter("p", "jsonl", {"path": "{source}"})
    config["params"] = {"source": {"type": "path"}}
    assert (await client.post(f"{API}/configs", json=config)).status_code == 201
    response = await client.post(
        f"{API}/configs/p/run", json={"params": {"source": "/proc/self/environ"}}
    )
    assert response.status_code == 422, response.text
    [issue] = response.json()["issues"]
    assert issue["path"] == "routes.src.adapter.with.path" and "under /proc" in issue["message"]
    assert (await client.get(f"{API}/executions")).json()["items"] == []


async def test_with_default_settings_no_file_is_read(
    make_service: ServiceFactory, settings: FactFlowSettings, root: Path
) -> None:
    defaults = FactFlowSettings.model_fields["file_roots"].get_default(call_default_factory=True)
    assert defaults == []
    service = await make_service(file_roots=defaults)
    async with asgi_client(create_app(settings, service=service)) as client:
        items = [{"path": str(root / "notes.txt")}, {"path": "/etc/passwd"}]
        assert (await client.post(f"{API}/configs", json=reading("d", items))).status_code == 201
        result = await run_to_end(client, "d")
        lineage = (await client.get(f"{API}/executions/{result['execution_id']}/lineage")).json()
        errors = [r["error"] for r in lineage["items"] if r["route"] == "src"]
        assert len(errors) == 2
        assert all("no file roots are configured" in (error or "") for error in errors)
        served = await everything_served(client, result["execution_id"])
        assert "Alice wrote" not in served and "root:x:0:0" not in served
