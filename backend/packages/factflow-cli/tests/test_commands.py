"""Every command against a real server process (SQLite, then PostgreSQL), in table
and JSON output, with the exit codes scripts rely on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def names(suffix: str) -> dict[str, str]:
    return {
        kind: f"cli-{kind}-{suffix}" for kind in ("items", "slow", "broken", "archive", "other")
    }


@pytest.fixture(scope="module")
def files(
    tmp_path_factory: pytest.TempPathFactory, names: dict[str, str], config_text: Any
) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("configs")
    texts = {
        "items": config_text.items(names["items"]),
        "slow": config_text.slow(names["slow"]),
        "broken": config_text.broken(names["broken"]),
        "archive": config_text.items(names["archive"], fail_n=None),
        "other": config_text.items(names["other"], items=2, fail_n=None),
    }
    paths = {}
    for kind, text in texts.items():
        paths[kind] = folder / f"{kind}.yaml"
        paths[kind].write_text(text)
    return paths


@pytest.fixture(scope="module")
def done(cli: Any, files: dict[str, Path]) -> dict[str, Any]:
    """A completed run of the items config: 2 stored, 1 failed on purpose."""
    run = cli("config", "run", str(files["items"]), "--wait", "--allow-failures", json_output=True)
    assert run.exit_code == 0, run
    execution: dict[str, Any] = run.json()
    assert execution["status"] == "completed"
    return execution


# -- config -------------------------------------------------------------------


def test_apply_creates_then_reports_unchanged(cli: Any, files: dict[str, Path], names: Any) -> None:
    first = cli("config", "apply", str(files["other"]))
    assert first.exit_code == 0, first
    assert f"config {names['other']} version 1 created" in first.stdout
    again = cli.json("config", "apply", str(files["other"]))
    assert again["created"] is False
    assert again["config"]["name"] == names["other"]
    assert again["config"]["version"] == 1


def test_apply_from_stdin(cli: Any, files: dict[str, Path], names: Any) -> None:
    run = cli("config", "apply", "-", json_output=True, input=files["other"].read_text())
    assert run.exit_code == 0, run
    assert run.json()["config"]["name"] == names["other"]


def test_apply_invalid_config_names_file_line_and_field(cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: cli-bad\nroutes:\n  src:\n    adapter:\n      type: inline\n"
        "      with: {items: [1]}\n    processors:\n      - type: no_such_processor\n"
    )
    run = cli("config", "apply", str(bad))
    assert run.exit_code == 2, run
    assert run.stderr.startswith("error: ")
    assert f"{bad}:8: " in run.stderr  # file name and line of the offending processor
    assert "no_such_processor" in run.stderr
    assert "Traceback" not in run.stderr

    as_json = cli("config", "apply", str(bad), json_output=True)
    assert as_json.exit_code == 2
    error = json.loads(as_json.stderr)["error"]
    assert error["exit_code"] == 2
    assert error["problem"]["status"] == 422
    assert any(issue.get("line") == 8 for issue in error["problem"]["issues"])


def test_apply_missing_file_is_an_input_error(cli: Any, tmp_path: Path) -> None:
    run = cli("config", "apply", str(tmp_path / "nope.yaml"))
    assert run.exit_code == 2
    assert "no such file" in run.stderr


def test_list_show_versions(cli: Any, files: dict[str, Path], names: Any, done: Any) -> None:
    listed = cli("config", "list")
    assert listed.exit_code == 0
    assert names["items"] in listed.stdout
    items = cli.json("config", "list")["items"]
    assert names["items"] in {c["name"] for c in items}

    shown = cli("config", "show", names["items"])
    assert shown.exit_code == 0
    assert "src, store" in shown.stdout and "tag" in shown.stdout
    config = cli.json("config", "show", names["items"], "--version", "1")
    assert config["version"] == 1 and set(config["definition"]["routes"]) == {"src", "store"}

    versions = cli("config", "versions", names["items"])
    assert versions.exit_code == 0 and names["items"] in versions.stdout
    assert [v["version"] for v in cli.json("config", "versions", names["items"])["items"]] == [1]


def test_show_unknown_config_is_exit_2(cli: Any) -> None:
    run = cli("config", "show", "cli-no-such-config")
    assert run.exit_code == 2
    assert "cli-no-such-config" in run.stderr
    assert cli("config", "show", "cli-no-such-config", json_output=True).exit_code == 2


def test_archive_then_run_is_refused(cli: Any, files: dict[str, Path], names: Any) -> None:
    assert cli("config", "apply", str(files["archive"])).exit_code == 0
    archived = cli("config", "archive", names["archive"])
    assert archived.exit_code == 0, archived
    assert f"config {names['archive']} archived" in archived.stdout
    assert names["archive"] not in {c["name"] for c in cli.json("config", "list")["items"]}
    shown = cli.json("config", "list", "--archived")["items"]
    assert any(c["name"] == names["archive"] and c["archived_at"] for c in shown)
    refused = cli("config", "run", names["archive"], "--wait")
    assert refused.exit_code == 1  # 409: a state conflict, not a usage error
    assert "archived" in refused.stderr


# -- running and exit codes -----------------------------------------------------


def test_run_wait_json_is_the_final_execution(done: dict[str, Any]) -> None:
    assert done["source"] == "cli"
    totals = done["stats"]["totals"]
    assert (totals["processed"], totals["failed"]) == (5, 1)  # src 3 + store 2; store 1
    assert done["stats"]["routes"]["store"]["failed"] == 1
    assert done["stats"]["storage_objects"] == 2


def test_run_file_with_params_prints_summary(cli: Any, files: dict[str, Path]) -> None:
    run = cli(
        "config", "run", str(files["items"]), "--param", "tag=blue", "--wait", "--allow-failures"
    )
    assert run.exit_code == 0, run
    out = run.stdout
    assert "✓ completed" in out
    assert "store" in out and "total" in out
    assert "storage: 2 objects" in out
    assert "failures: 1 messages failed" in out
    assert "n=2 is refused" in out
    assert "factflow execution replay" in out
    execution_id = out.split("completed", 1)[1].split()[2]
    keys = [o["key"] for o in cli.json("storage", "ls", execution_id)["items"]]
    assert len(keys) == 2 and all(k.startswith("items/blue/") for k in keys)


def test_run_without_waiting_prints_the_id(cli: Any, names: Any) -> None:
    run = cli("config", "run", names["items"], "--label", "team=cli")
    assert run.exit_code == 0, run
    assert run.stdout.startswith("execution ") and "started" in run.stdout
    assert "factflow execution wait" in run.stderr
    execution = cli.json("config", "run", names["items"], "-l", "team=cli")
    assert execution["status"] in ("pending", "running", "completed")
    assert execution["labels"] == {"team": "cli"}
    assert cli("execution", "wait", execution["id"], "--allow-failures").exit_code == 0


def test_bad_param_and_bad_flags_are_exit_2(cli: Any, names: Any) -> None:
    assert cli("config", "run", names["items"], "--param", "tag").exit_code == 2
    assert cli("config", "run", names["items"], "--wait", "--follow").exit_code == 2
    assert cli("config", "run", names["items"], "--wait", "--timeout", "soon").exit_code == 2
    unknown = cli("config", "run", names["items"], "--param", "nope=1", "--wait")
    assert unknown.exit_code == 2 and "nope" in unknown.stderr


def test_failed_run_exits_1(cli: Any, files: dict[str, Path]) -> None:
    run = cli("config", "run", str(files["broken"]), "--wait")
    assert run.exit_code == 1, run
    assert "✗ failed" in run.stdout
    assert "always refused" in run.stdout
    as_json = cli("config", "run", str(files["broken"]), "--follow", json_output=True)
    assert as_json.exit_code == 1
    assert as_json.json()["status"] == "failed"


def test_timeout_exit_4_then_cancel_exit_3(cli: Any, files: dict[str, Path]) -> None:
    started = cli.json("config", "run", str(files["slow"]))
    execution_id = started["id"]
    waited = cli("execution", "wait", execution_id, "--timeout", "0s", json_output=True)
    assert waited.exit_code == 4
    assert waited.json()["status"] in ("pending", "running")
    followed = cli("execution", "events", execution_id, "--follow", "--timeout", "0s")
    assert followed.exit_code == 4
    # the deadline holds while the stream is idle (the one message sleeps for an hour)
    idle = cli("execution", "events", execution_id, "--follow", "--timeout", "1s")
    assert idle.exit_code == 4 and "running" in idle.stdout
    assert cli("storage", "watch", execution_id, "--timeout", "1s").exit_code == 4
    table = cli("execution", "wait", execution_id, "--timeout", "0")
    assert table.exit_code == 4 and "timed out waiting" in table.stderr

    cancelled = cli("execution", "cancel", execution_id, "--reason", "test over")
    assert cancelled.exit_code == 0, cancelled
    assert execution_id in cancelled.stdout
    final = cli("execution", "wait", execution_id)
    assert final.exit_code == 3, final
    assert "cancelled" in final.stdout
    assert cli("execution", "wait", execution_id, json_output=True).json()["status"] == "cancelled"
    again = cli("execution", "cancel", execution_id)
    assert again.exit_code == 1  # 409: it is already cancelled
    assert "cancel" in again.stderr


def test_follow_timeout_exit_4(cli: Any, files: dict[str, Path]) -> None:
    run = cli("config", "run", str(files["slow"]), "--follow", "--timeout", "0s")
    assert run.exit_code == 4, run
    execution_id = run.stderr.split("execution ", 1)[1].split()[0]
    assert "timed out waiting" in run.stderr
    assert cli("execution", "cancel", execution_id).exit_code == 0
    assert cli("execution", "wait", execution_id).exit_code == 3


# -- execution ------------------------------------------------------------------


def test_execution_list_filters(cli: Any, names: Any, done: dict[str, Any]) -> None:
    table = cli("execution", "list", "--config", names["items"])
    assert table.exit_code == 0
    assert done["id"] in table.stdout and "completed" in table.stdout
    page = cli.json(
        "execution", "list", "--config", names["items"], "--status", "completed",
        "--source", "cli", "--since", "1h", "--limit", "500",
    )  # fmt: skip
    ids = [e["id"] for e in page["items"]]
    assert done["id"] in ids
    assert all(
        e["status"] == "completed" and e["config_name"] == names["items"] for e in page["items"]
    )
    first = cli.json("execution", "list", "--config", names["items"], "--limit", "1")
    assert len(first["items"]) == 1 and first["next_cursor"]
    second = cli.json(
        "execution", "list", "--config", names["items"], "--limit", "1",
        "--cursor", first["next_cursor"],
    )  # fmt: skip
    assert second["items"][0]["id"] != first["items"][0]["id"]
    future = cli.json("execution", "list", "--config", names["items"], "--since", "2999-01-01")
    assert future["items"] == []
    assert (
        cli("execution", "list", "--config", names["items"], "--since", "2999-01-01").exit_code == 0
    )


def test_execution_list_rejects_bad_filters(cli: Any) -> None:
    assert cli("execution", "list", "--status", "happy").exit_code == 2
    assert cli("execution", "list", "--since", "yesterday-ish").exit_code == 2
    assert cli("execution", "list", "--source", "carrier-pigeon").exit_code == 2


def test_global_options_after_the_subcommand(cli: Any, done: dict[str, Any]) -> None:
    run = cli.runner.invoke(
        __import__("factflow_cli._app", fromlist=["app"]).app,
        ["execution", "show", done["id"], "--output", "json", f"--server={cli.server_url}"],
    )
    assert run.exit_code == 0, run.stderr
    assert json.loads(run.stdout)["id"] == done["id"]


def test_show_and_stats(cli: Any, done: dict[str, Any]) -> None:
    prefix = done["id"][:18]
    shown = cli("execution", "show", prefix)
    assert shown.exit_code == 0, shown
    assert done["id"] in shown.stdout and "completed" in shown.stdout and "store" in shown.stdout
    assert cli.json("execution", "show", prefix)["id"] == done["id"]
    stats = cli("execution", "stats", prefix)
    assert stats.exit_code == 0 and "total" in stats.stdout
    assert cli.json("execution", "stats", done["id"])["routes"]["store"]["processed"] == 2


def test_unknown_and_ambiguous_ids(cli: Any, done: dict[str, Any], names: Any) -> None:
    # a second run so a short prefix matches several executions
    assert cli("config", "run", names["items"], "--wait", "--allow-failures").exit_code == 0
    unknown = cli("execution", "show", "ffffffff-0000")
    assert unknown.exit_code == 2 and "ffffffff-0000" in unknown.stderr
    ambiguous = cli("execution", "show", done["id"][:4])
    assert ambiguous.exit_code == 2, ambiguous
    assert "candidates:" in ambiguous.stderr
    error = json.loads(cli("execution", "show", done["id"][:4], json_output=True).stderr)["error"]
    assert len(error["problem"]["candidates"]) >= 2


def test_dag(cli: Any, done: dict[str, Any]) -> None:
    drawn = cli("execution", "dag", done["id"])
    assert drawn.exit_code == 0
    assert "src [source]" in drawn.stdout and "store [sink]" in drawn.stdout
    assert "◀ 3 msgs" in drawn.stdout
    dag = cli.json("execution", "dag", done["id"])
    assert [(e["source"], e["target"], e["messages"]) for e in dag["edges"]] == [
        ("src", "store", 3)
    ]
    assert {n["id"]: n["stats"]["failed"] for n in dag["nodes"]} == {"src": 0, "store": 1}


def test_events(cli: Any, done: dict[str, Any]) -> None:
    run = cli("execution", "events", done["id"])
    assert run.exit_code == 0
    for kind in ("status", "route.started", "route.drained", "message.failed", "storage.written"):
        assert kind in run.stdout
    lines = [
        json.loads(line)
        for line in cli("execution", "events", done["id"], json_output=True).stdout.splitlines()
    ]
    seqs = [e["seq"] for e in lines]
    assert seqs == list(range(1, len(seqs) + 1))
    assert lines[-1]["kind"] == "status" and lines[-1]["data"]["status"] == "completed"
    tail = cli("execution", "events", done["id"], "--after", str(seqs[-2]), json_output=True)
    assert [json.loads(x)["seq"] for x in tail.stdout.splitlines()] == [seqs[-1]]
    followed = cli("execution", "events", done["id"], "--follow", "--allow-failures")
    assert followed.exit_code == 0 and "completed" in followed.stdout


def test_lineage(cli: Any, done: dict[str, Any]) -> None:
    run = cli("execution", "lineage", done["id"], "--status", "failed")
    assert run.exit_code == 0
    assert "n=2 is refused" in run.stdout
    page = cli.json("execution", "lineage", done["id"], "--route", "store")
    assert {r["status"] for r in page["items"]} == {"processed", "failed"}
    assert len(page["items"]) == 3
    first = cli.json("execution", "lineage", done["id"], "--limit", "1")
    assert len(first["items"]) == 1 and first["next_after"] is not None
    assert cli("execution", "lineage", done["id"], "--status", "meh").exit_code == 2


def test_replay_failed_wait(cli: Any, done: dict[str, Any]) -> None:
    run = cli(
        "execution", "replay", done["id"], "--failed", "--wait", "--allow-failures",
        json_output=True,
    )  # fmt: skip
    assert run.exit_code == 0, run
    replay = run.json()
    assert replay["parent_execution_id"] == done["id"]
    assert replay["source"] == "replay"
    assert replay["replay_source"]["mode"] == "failed"
    assert replay["stats"]["totals"]["received"] == 1  # the one failed message, at store


def test_replay_selected_messages_and_route(cli: Any, done: dict[str, Any]) -> None:
    records = cli.json(
        "execution", "lineage", done["id"], "--route", "store", "--status", "processed"
    )
    message_id = records["items"][0]["message_id"]
    by_id = cli("execution", "replay", done["id"], "--message", message_id, "--wait")
    assert by_id.exit_code == 0, by_id
    assert "✓ completed" in by_id.stdout
    everything = cli.json("execution", "replay", done["id"], "--all", "--route", "src")
    assert everything["replay_source"] == {
        "parent_execution_id": done["id"], "mode": "all", "message_ids": [], "route": "src",
    }  # fmt: skip
    assert cli("execution", "wait", everything["id"], "--allow-failures").exit_code == 0
    both = cli("execution", "replay", done["id"], "--all", "--failed")
    assert both.exit_code == 2 and "choose one" in both.stderr


def test_replay_follow(cli: Any, done: dict[str, Any]) -> None:
    run = cli("execution", "replay", done["id"], "--follow", "--allow-failures")
    assert run.exit_code == 0, run
    assert "✓ completed" in run.stdout and "started (replay)" in run.stderr


def test_replay_cancelled_and_unfinished_then_resume_a_resume(
    cli: Any, files: dict[str, Path], done: dict[str, Any]
) -> None:
    parent = cli.json("config", "run", str(files["slow"]))["id"]
    assert cli("execution", "cancel", parent).exit_code == 0
    for flag, mode in (("--cancelled", "cancelled"), ("--unfinished", "unfinished")):
        replay = cli.json("execution", "replay", parent, flag)
        assert replay["replay_source"]["mode"] == mode, flag
        assert replay["parent_execution_id"] == parent
        assert cli("execution", "cancel", replay["id"]).exit_code == 0
    both = cli("execution", "replay", parent, "--cancelled", "--unfinished")
    assert both.exit_code == 2 and "--cancelled and --unfinished" in both.stderr

    followed = cli("execution", "resume", parent[:13], "--follow", "--timeout", "1s")
    assert followed.exit_code == 4, followed  # its one message sleeps for an hour again
    assert "started (resume)" in followed.stderr
    resume_id = followed.stderr.split("execution ", 1)[1].split()[0]
    shown = cli.json("execution", "show", resume_id)
    assert shown["source"] == "resume" and shown["parent_execution_id"] == parent
    twice = cli("execution", "resume", parent)
    assert twice.exit_code == 1 and f"already resumed by {resume_id}" in twice.stderr
    assert cli("execution", "cancel", resume_id).exit_code == 0
    again = cli.json("execution", "resume", resume_id, "--label", "try=2")
    assert again["parent_execution_id"] == resume_id and again["labels"] == {"try": "2"}
    assert cli("execution", "cancel", again["id"]).exit_code == 0
    completed = cli("execution", "resume", done["id"])
    assert completed.exit_code == 1
    assert "only cancelled or interrupted executions can be resumed" in completed.stderr


def test_nothing_to_replay_is_a_conflict(cli: Any, files: dict[str, Path]) -> None:
    clean = cli.json("config", "run", str(files["other"]), "--wait")
    run = cli("execution", "replay", clean["id"], "--failed")
    assert run.exit_code == 1
    assert run.stderr.startswith("error: ")


# -- storage ----------------------------------------------------------------------


def test_storage_ls_and_get(cli: Any, done: dict[str, Any], tmp_path: Path) -> None:
    listed = cli("storage", "ls", done["id"])
    assert listed.exit_code == 0
    assert "items/plain/" in listed.stdout and "2 objects" in listed.stderr
    objects = cli.json("storage", "ls", done["id"])["items"]
    assert len(objects) == 2
    key = objects[0]["key"]
    assert len(cli.json("storage", "ls", done["id"], "--limit", "1")["items"]) == 1

    raw = cli("storage", "get", done["id"], key)
    assert raw.exit_code == 0
    payload = json.loads(raw.stdout)
    assert payload["n"] in (1, 3)
    target = tmp_path / "fact.json"
    saved = cli("storage", "get", done["id"], key, "-o", str(target))
    assert saved.exit_code == 0 and json.loads(target.read_bytes()) == payload
    assert f"to {target}" in saved.stderr
    missing = cli("storage", "get", done["id"], "items/none.json")
    assert missing.exit_code == 2


def test_storage_export(cli: Any, done: dict[str, Any], tmp_path: Path) -> None:
    import hashlib

    objects = cli.json("storage", "ls", done["id"])["items"]
    target = tmp_path / "export"
    (target / "items").mkdir(parents=True)
    run = cli("storage", "export", done["id"], str(target))
    assert run.exit_code == 0, run.stderr
    assert f"exported 2 objects, {sum(o['size'] for o in objects)} bytes" in run.stderr
    exported = sorted(p.relative_to(target).as_posix() for p in target.rglob("*") if p.is_file())
    assert exported == sorted(o["key"] for o in objects)
    for obj in objects:
        data = (target / obj["key"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == obj["checksum"]
    summary = cli.json("storage", "export", done["id"], str(target))  # again: replaced
    assert summary["files"] == 2 and summary["directory"] == str(target.resolve())
    unknown = cli("storage", "export", "0199a3f2-0000-7000-8000-000000000000", str(target))
    assert unknown.exit_code == 2


def test_storage_watch(cli: Any, done: dict[str, Any]) -> None:
    run = cli("storage", "watch", done["id"], "--allow-failures")
    assert run.exit_code == 0
    assert run.stdout.count("storage.written") == 2
    lines = [
        json.loads(x)
        for x in cli(
            "storage", "watch", done["id"], "--allow-failures", json_output=True
        ).stdout.splitlines()
    ]
    assert [x["kind"] for x in lines if x["kind"] == "storage.written"] == ["storage.written"] * 2
    assert lines[-1]["data"]["status"] == "completed"


def test_server_dialect_is_the_one_asked_for(server: Any, cli: Any) -> None:
    assert cli("execution", "list").exit_code == 0
    assert server.dialect in ("sqlite", "postgresql")


# -- resuming a dropped event stream ---------------------------------------------------


class _DropFirstEventStream:
    """A transport that cuts the first event stream after its first chunks (as a
    network drop would, possibly mid-frame) and records each Last-Event-ID sent."""

    def __init__(self) -> None:
        import httpx

        self._inner = httpx.HTTPTransport()
        self.last_event_ids: list[str | None] = []

    def handle_request(self, request: Any) -> Any:
        import httpx

        response = self._inner.handle_request(request)
        if not request.url.path.endswith("/events"):
            return response
        self.last_event_ids.append(request.headers.get("last-event-id"))
        if len(self.last_event_ids) > 1:
            return response
        inner = response.stream

        class Cut(httpx.SyncByteStream):
            def __iter__(self) -> Any:
                seen = b""
                for chunk in inner:
                    seen += chunk
                    if seen.count(b"\n\n") >= 3:  # three frames through, maybe part of a fourth
                        yield chunk[: max(1, len(chunk) - 5)]
                        raise httpx.ReadError("connection reset (test)")
                    yield chunk

            def close(self) -> None:
                inner.close()

        return httpx.Response(
            response.status_code, headers=response.headers, stream=Cut(), request=request
        )

    def close(self) -> None:
        self._inner.close()


def test_event_stream_resumes_with_last_event_id(cli: Any, done: dict[str, Any]) -> None:
    import httpx
    from factflow_cli._client import ApiClient

    transport = _DropFirstEventStream()
    reconnects: list[tuple[str, int]] = []
    with ApiClient(cli.server_url, transport=httpx.MockTransport(transport.handle_request)) as api:
        events = [
            e.json()
            for e in api.events(done["id"], on_reconnect=lambda r, n: reconnects.append((r, n)))
        ]
    seqs = [e["seq"] for e in events]
    assert seqs == list(range(1, len(seqs) + 1))  # every event once, in order
    assert events[-1]["data"]["status"] == "completed"
    assert len(reconnects) == 1 and "connection reset" in reconnects[0][0]
    assert transport.last_event_ids[0] is None
    resumed_after = int(transport.last_event_ids[1] or 0)
    assert 1 <= resumed_after < len(seqs)
