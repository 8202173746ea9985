"""The CLI defects and gaps of issue 13, each against a real server process
(SQLite, then PostgreSQL): what a new user ran into on day two."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture(scope="module")
def names(suffix: str) -> dict[str, str]:
    return {kind: f"cli2-{kind}-{suffix}" for kind in ("items", "files", "long")}


@pytest.fixture(scope="module")
def items_file(tmp_path_factory: pytest.TempPathFactory, names: Any, config_text: Any) -> Path:
    path = tmp_path_factory.mktemp("day2") / "items.yaml"
    path.write_text(config_text.items(names["items"]))
    return path


@pytest.fixture(scope="module")
def runs(cli: Any, items_file: Path) -> list[dict[str, Any]]:
    """Two completed runs of the items config (each: 2 objects stored, 1 message failed)."""
    done = []
    for _ in range(2):
        started = cli.json("config", "run", str(items_file))
        waited = cli("execution", "wait", started["id"], json_output=True)
        assert waited.exit_code in (0, 1), waited  # 1: completed with a failed message
        assert waited.json()["status"] == "completed"
        done.append(waited.json())
    return done


def _more(stderr: str) -> list[str]:
    """The command of a listing's "more:" line, as argv (without ``factflow``)."""
    lines = [line for line in stderr.splitlines() if line.startswith("more: ")]
    assert len(lines) == 1, stderr
    argv = shlex.split(lines[0].removeprefix("more: "))
    assert argv[0] == "factflow"
    return argv[1:]


def _without_server(argv: list[str]) -> list[str]:
    """``argv`` minus the ``--server URL`` the test harness passed (the Cli adds it)."""
    if "--server" in argv:
        at = argv.index("--server")
        return argv[:at] + argv[at + 2 :]
    return argv


# -- D1: every issue printed once ------------------------------------------------------


def test_issues_and_candidates_are_printed_once(
    cli: Any, tmp_path: Path, names: Any, runs: Any
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: cli2-bad\nroutes:\n  src:\n    adapter:\n      type: inline\n"
        "      with: {items: [1]}\n    processors:\n      - type: no_such_processor\n"
    )
    applied = cli("config", "apply", str(bad))
    assert applied.exit_code == 2, applied
    assert applied.stderr.count("unknown processor 'no_such_processor'") == 1, applied.stderr
    assert f"{bad}:8: " in applied.stderr

    missing = cli("config", "run", names["items"], "--param", "nope=1")
    assert missing.exit_code == 2, missing
    assert missing.stderr.count("unknown param 'nope'") == 1, missing.stderr

    # the two runs' common prefix (they were created within a second of each other;
    # other modules' runs share the PostgreSQL database, but not that prefix)
    first, second = runs[0]["id"], runs[1]["id"]
    prefix = first[: next(i for i, (a, b) in enumerate(zip(first, second, strict=True)) if a != b)]
    assert len(prefix) >= 4
    ambiguous = cli("execution", "show", prefix)
    assert ambiguous.exit_code == 2, ambiguous
    for execution in runs:
        assert ambiguous.stderr.count(execution["id"]) == 1, ambiguous.stderr
    assert "type more characters" in ambiguous.stderr


# -- D2: config show --definition is JSON ------------------------------------------------


LONG_TEXT = "A description long enough to be wrapped at any terminal width - " + "x" * 300


@pytest.fixture(scope="module")
def long_config(cli: Any, tmp_path_factory: pytest.TempPathFactory, names: Any) -> str:
    """A config whose description no table can show on one line of 160 columns."""
    config = tmp_path_factory.mktemp("long") / "long.yaml"
    config.write_text(
        f"name: {names['long']}\ndescription: {LONG_TEXT}\nroutes:\n  src:\n"
        "    adapter: {type: inline, with: {items: [1]}}\n"
    )
    assert cli("config", "apply", str(config)).exit_code == 0
    return str(names["long"])


def test_config_show_definition_is_json_in_a_pipe(cli: Any, long_config: str) -> None:
    shown = cli("config", "show", long_config, "--definition")
    assert shown.exit_code == 0, shown
    definition = json.loads(shown.stdout)  # the whole stdout is one JSON document
    assert definition == cli.json("config", "show", long_config)["definition"]
    assert definition["description"] == LONG_TEXT


# -- D3: "more:" keeps the filters ----------------------------------------------------------


def test_more_hint_of_execution_list_keeps_the_filters(cli: Any, names: Any, runs: Any) -> None:
    first = cli("execution", "list", "--config", names["items"], "--limit", "1")
    assert first.exit_code == 0, first
    argv = _without_server(_more(first.stderr))
    assert argv[:2] == ["execution", "list"]
    assert "--config" in argv and names["items"] in argv and "--limit" in argv
    second = cli(*argv, json_output=True)
    assert second.exit_code == 0, second
    [item] = second.json()["items"]
    assert item["config_name"] == names["items"]
    assert (
        item["id"]
        != cli.json("execution", "list", "--config", names["items"], "-n", "1")["items"][0]["id"]
    )


def test_more_hint_of_lineage_keeps_the_filters(cli: Any, runs: Any) -> None:
    execution_id = runs[0]["id"]
    first = cli(
        "execution", "lineage", execution_id, "--route", "store", "--status", "processed",
        "--limit", "1",
    )  # fmt: skip
    assert first.exit_code == 0, first
    argv = _more(first.stderr)
    assert "--status" in argv and "processed" in argv and "--route" in argv
    rest = cli(*_without_server(argv), json_output=True).json()["items"]
    assert len(rest) == 1
    assert rest[0]["status"] == "processed" and rest[0]["route"] == "store"


# -- D4: storage ls says of how many, and continues by a number it shows ----------------------


def test_storage_ls_totals_more_and_after(cli: Any, runs: Any) -> None:
    execution_id = runs[0]["id"]
    everything = cli.json("storage", "ls", execution_id)["items"]
    assert len(everything) == 2
    first = cli("storage", "ls", execution_id, "--limit", "1")
    assert first.exit_code == 0, first
    total_bytes = sum(o["size"] for o in everything)
    assert f"1 of 2 objects shown, {everything[0]['size']} of {total_bytes} bytes" in first.stderr
    argv = _without_server(_more(first.stderr))
    assert argv[-2:] == ["--after", str(everything[0]["id"])]
    # the number --after takes is the '#' column of the table
    row = next(line for line in first.stdout.splitlines() if everything[0]["key"] in line)
    assert row.split()[0] == str(everything[0]["id"])
    rest = cli(*argv)
    assert rest.exit_code == 0, rest
    assert everything[1]["key"] in rest.stdout and everything[0]["key"] not in rest.stdout
    assert "1 of 2 objects shown" in rest.stderr
    bad = cli("storage", "ls", execution_id, "--after", "facts/x.json")
    assert bad.exit_code == 2 and "'#' column" in bad.stderr


# -- D5: a prefix shorter than the server accepts --------------------------------------------


def test_too_short_prefix_says_so(cli: Any, runs: Any) -> None:
    for command in (["execution", "show"], ["storage", "ls"], ["execution", "lineage"]):
        run = cli(*command, runs[0]["id"][:3])
        assert run.exit_code == 2, run
        assert "too short" in run.stderr and "at least 4 characters" in run.stderr, run.stderr


# -- D7 and @file: params as the caller means them -------------------------------------------


def _files_config(name: str) -> str:
    return f"""\
name: {name}
params:
  source_dir: {{type: path, default: "."}}
  pattern: {{type: list, default: ["*.txt"]}}
routes:
  src:
    adapter:
      type: files
      with: {{root: "{{source_dir}}", pattern: "{{pattern}}"}}
"""


@pytest.fixture
def caller_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The caller's working directory (not the server's), with docs/{0,1,2}.txt and a.md."""
    here = tmp_path / "here"
    (here / "docs").mkdir(parents=True)
    for n in range(3):
        (here / "docs" / f"{n}.txt").write_text(str(n))
    (here / "docs" / "a.md").write_text("a")
    monkeypatch.chdir(here)
    return here


def test_path_params_resolve_against_the_callers_directory(
    cli: Any, tmp_path: Path, names: Any, caller_dir: Path
) -> None:
    config = tmp_path / "files.yaml"
    config.write_text(_files_config(names["files"]))
    run = cli("config", "run", str(config), "--param", "source_dir=docs", "--wait")
    assert run.exit_code == 0, run
    execution_id = run.stdout.split("completed", 1)[1].split()[2]
    execution = cli.json("execution", "show", execution_id)
    assert execution["config_snapshot"]["params"]["source_dir"] == str(caller_dir / "docs")
    assert execution["stats"]["routes"]["src"]["processed"] == 3


def test_param_value_from_a_json_file(
    cli: Any, tmp_path: Path, names: Any, caller_dir: Path
) -> None:
    config = tmp_path / "files.yaml"
    config.write_text(_files_config(names["files"]))
    (caller_dir / "patterns.json").write_text('["*.md", "0.txt"]')
    run = cli(
        "config", "run", str(config), "-p", f"source_dir={caller_dir / 'docs'}",
        "-p", "pattern=@patterns.json", "--wait",
        json_output=True,
    )  # fmt: skip
    assert run.exit_code == 0, run
    execution = cli.json("execution", "show", run.json()["id"])
    assert execution["config_snapshot"]["params"]["pattern"] == ["*.md", "0.txt"]
    assert execution["stats"]["routes"]["src"]["processed"] == 2


def test_param_from_a_json_file_errors(cli: Any, tmp_path: Path, names: Any, runs: Any) -> None:
    missing = cli("config", "run", names["items"], "--param", f"tag=@{tmp_path / 'none.json'}")
    assert missing.exit_code == 2 and "no such file" in missing.stderr, missing
    broken = tmp_path / "broken.json"
    broken.write_text('{"a": ')
    bad = cli("config", "run", names["items"], "--param", f"tag=@{broken}")
    assert bad.exit_code == 2, bad
    assert "not valid JSON at line 1" in bad.stderr and str(broken) in bad.stderr


# -- D9, D10: storage get ---------------------------------------------------------------------


def test_storage_get_sends_the_key_as_typed(cli: Any, runs: Any) -> None:
    for key in ("../x", "items/../x", "./x"):
        run = cli("storage", "get", runs[0]["id"], key)
        assert run.exit_code == 2, run
        assert "invalid storage key" in run.stderr, run.stderr
        assert f"{key!r}" in run.stderr


def test_storage_get_to_file_and_format_option(cli: Any, runs: Any, tmp_path: Path) -> None:
    execution_id = runs[0]["id"]
    obj = cli.json("storage", "ls", execution_id)["items"][0]
    target = tmp_path / "fact.json"
    saved = cli("storage", "get", execution_id, obj["key"], "--to", str(target))
    assert saved.exit_code == 0, saved
    assert json.loads(target.read_bytes())["n"] in (1, 3)
    # --format is the root option; --output, its older name, still works
    for flag in ("--format", "--output"):
        listed = cli("storage", "ls", execution_id, flag, "json")
        assert listed.exit_code == 0 and json.loads(listed.stdout)["items"], listed
    clash = cli("storage", "get", execution_id, obj["key"], "--output", str(target))
    assert clash.exit_code == 2
    assert "--to FILE" in clash.stderr


# -- layout: 80 columns, piped output, event times ------------------------------------------


def test_execution_list_at_80_columns_shows_copyable_ids(cli: Any, names: Any, runs: Any) -> None:
    ids = [e["id"] for e in cli.json("execution", "list", "--config", names["items"])["items"]]
    run = cli("execution", "list", "--config", names["items"], env={"COLUMNS": "80"})
    assert run.exit_code == 0, run
    lines = run.stdout.splitlines()
    assert all(len(line) <= 80 for line in lines), run.stdout
    shown = [line.split()[0] for line in lines[1:]]
    assert len(shown) == len(ids) >= len(runs)
    for prefix, execution_id in zip(shown, ids, strict=True):
        assert execution_id.startswith(prefix)
        assert cli.json("execution", "show", prefix)["id"] == execution_id


def test_piped_tables_are_not_padded(cli: Any, long_config: str, runs: Any) -> None:
    for command in (
        ["config", "list"],
        ["config", "show", long_config],
        ["execution", "show", runs[0]["id"]],
        ["execution", "list"],
    ):
        run = cli(*command, env={"COLUMNS": ""})
        assert run.exit_code == 0, run
        for line in run.stdout.splitlines():
            assert line == line.rstrip(), f"{command}: trailing blanks in {line!r}"
    # nothing wrapped either: the long description is one line
    listed = cli("config", "list", env={"COLUMNS": ""})
    assert any("x" * 300 in line for line in listed.stdout.splitlines())


def test_event_times_have_milliseconds(cli: Any, runs: Any) -> None:
    run = cli("execution", "events", runs[0]["id"])
    assert run.exit_code == 0
    lines = run.stdout.splitlines()
    assert lines and all(re.search(r"\d\d:\d\d:\d\d\.\d{3}  ", line) for line in lines), lines


# -- exit codes of a run with failed messages ----------------------------------------------------


def test_completed_with_failed_messages_exits_1_unless_allowed(
    cli: Any, names: Any, runs: Any
) -> None:
    waited = cli("config", "run", names["items"], "--wait")
    assert waited.exit_code == 1, waited
    assert "completed" in waited.stdout
    assert "1 messages failed" in waited.stderr and "--allow-failures" in waited.stderr
    as_json = cli("config", "run", names["items"], "--follow", json_output=True)
    assert as_json.exit_code == 1
    assert as_json.json()["status"] == "completed"  # the run's status is unchanged
    execution_id = runs[0]["id"]
    assert cli("execution", "wait", execution_id).exit_code == 1
    assert cli("execution", "wait", execution_id, "--allow-failures").exit_code == 0
    assert cli("execution", "events", execution_id, "--follow").exit_code == 1
    assert cli("storage", "watch", execution_id).exit_code == 1
    allowed = cli("config", "run", names["items"], "--wait", "--allow-failures")
    assert allowed.exit_code == 0, allowed


# -- paging options: the same names and defaults everywhere ---------------------------------------


def test_listings_share_limit_all_and_after(cli: Any, names: Any, runs: Any) -> None:
    execution_id = runs[0]["id"]
    first = cli.json("execution", "list", "--config", names["items"], "--limit", "1")
    after = cli.json(
        "execution", "list", "--config", names["items"], "--limit", "1",
        "--after", first["next_cursor"],
    )  # fmt: skip
    assert after["items"][0]["id"] != first["items"][0]["id"]
    for command in (
        ["execution", "list", "--config", names["items"]],
        ["execution", "lineage", execution_id],
        ["storage", "ls", execution_id],
    ):
        page = cli.json(*command, "--all")
        assert page["items"] and page.get("next_cursor", page.get("next_after")) is None
        one = cli.json(*command, "--limit", "1")
        assert len(one["items"]) == 1


def test_labels_are_shown_in_list_and_show(cli: Any, names: Any) -> None:
    run = cli.json(
        "config", "run", names["items"], "--label", "team=data", "--wait", "--allow-failures"
    )
    listed = cli("execution", "list", "--config", names["items"], "--limit", "1")
    assert "LABELS" in listed.stdout and "team=data" in listed.stdout
    shown = cli("execution", "show", run["id"])
    assert re.search(r"labels\s+team=data", shown.stdout), shown.stdout


# -- D11: a file that already holds the object is not downloaded again ---------------------


def test_storage_get_to_an_up_to_date_file_downloads_nothing(
    cli: Any, runs: Any, tmp_path: Path
) -> None:
    execution_id = runs[0]["id"]
    obj = cli.json("storage", "ls", execution_id)["items"][0]
    target = tmp_path / "fact.json"
    first = cli("storage", "get", execution_id, obj["key"], "--to", str(target))
    assert first.exit_code == 0 and f"wrote {obj['size']} bytes" in first.stderr, first
    stamp = target.stat().st_mtime_ns
    again = cli("storage", "get", execution_id, obj["key"], "--to", str(target), json_output=True)
    assert again.exit_code == 0, again
    assert again.json() == {"key": obj["key"], "file": str(target), "size": 0, "unchanged": True}
    assert target.stat().st_mtime_ns == stamp  # left alone
    note = cli("storage", "get", execution_id, obj["key"], "--to", str(target))
    assert "is up to date" in note.stderr and "nothing downloaded" in note.stderr
    target.write_text("stale")  # a different content is downloaded again
    fresh = cli("storage", "get", execution_id, obj["key"], "--to", str(target))
    assert fresh.exit_code == 0 and json.loads(target.read_bytes())["n"] in (1, 3)
