"""The pure parts: durations, times, the SSE parser, option hoisting, exit codes,
and the facts the CLI shares with the server and the examples."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from factflow_cli._app import hoist_global_options
from factflow_cli._context import DEFAULT_SERVER_URL
from factflow_cli._demo import EXAMPLE, default_data_dir, find_example
from factflow_cli._durations import format_duration, parse_duration, parse_since
from factflow_cli._errors import ExitCode, InputError, ProblemError, exit_code_for_status
from factflow_cli._sse import SseParser
from typer.main import get_command

REPO = Path(__file__).resolve().parents[4]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("90", 90),
        ("1.5", 1.5),
        ("30s", 30),
        ("5m", 300),
        ("1h30m", 5400),
        ("2d", 172800),
        ("1w", 604800),
        ("250ms", 0.25),
        (" 1H ", 3600),
        ("0s", 0),
    ],
)
def test_parse_duration(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "soon", "5 m", "m5", "1h30", "-3", "1y"])
def test_parse_duration_rejects(text: str) -> None:
    with pytest.raises(InputError):
        parse_duration(text)


def test_parse_since() -> None:
    now = datetime(2026, 1, 31, 12, 0, tzinfo=UTC)
    assert parse_since("1h", now=now) == now - timedelta(hours=1)
    assert parse_since("2026-01-30T08:00", now=now) == datetime(2026, 1, 30, 8, 0, tzinfo=UTC)
    aware = parse_since("2026-01-30T08:00+02:00")
    assert aware.utcoffset() == timedelta(hours=2)
    with pytest.raises(InputError, match="ISO time"):
        parse_since("last tuesday")


def test_format_duration() -> None:
    assert format_duration(None) == "-"
    assert format_duration(1.234) == "1.23s"
    assert format_duration(245) == "4m05s"
    assert format_duration(7380) == "2h03m"


def test_sse_parser_frames_comments_and_multiline_data() -> None:
    parser = SseParser()
    lines = [
        ": heartbeat",
        "id: 7",
        "event: progress",
        'data: {"a":',
        "data: 1}",
        "",
        ":ping",
        "",
        "data:no space",
        "",
    ]
    events = [e for e in (parser.feed(line) for line in lines) if e is not None]
    assert [(e.id, e.event, e.data) for e in events] == [
        ("7", "progress", '{"a":\n1}'),
        ("7", "message", "no space"),  # the last event id carries over
    ]
    assert events[0].json() == {"a": 1}
    assert parser.last_event_id == "7"


def test_hoist_global_options() -> None:
    assert hoist_global_options(["execution", "list", "--output", "json"]) == [
        "--output",
        "json",
        "execution",
        "list",
    ]
    assert hoist_global_options(["config", "show", "x", "--server=http://h:1", "--token", "t"]) == [
        "--server=http://h:1",
        "--token",
        "t",
        "config",
        "show",
        "x",
    ]
    untouched = ["--output", "json", "storage", "get", "id", "k", "-o", "f", "--", "--token"]
    assert hoist_global_options(untouched) == untouched


def test_exit_codes() -> None:
    assert exit_code_for_status("completed") == ExitCode.OK == 0
    assert exit_code_for_status("failed") == ExitCode.FAILED == 1
    assert exit_code_for_status("cancelled") == exit_code_for_status("interrupted") == 3
    assert exit_code_for_status("running") == ExitCode.TIMED_OUT == 4
    assert ProblemError(404, {"detail": "x"}).exit_code == ExitCode.USAGE
    assert ProblemError(422, {"detail": "x"}).exit_code == ExitCode.USAGE
    assert ProblemError(409, {"detail": "x"}).exit_code == ExitCode.FAILED
    assert ProblemError(503, {"detail": "x"}).exit_code == ExitCode.FAILED
    problem = ProblemError(422, {"type": "urn:factflow:problem:ambiguous-id", "candidates": ["a"]})
    assert problem.code == "ambiguous-id" and problem.candidates == ["a"]


def test_default_server_url_matches_the_servers_default_port() -> None:
    from factflow_server import DEFAULT_HOST, DEFAULT_PORT

    assert f"http://{DEFAULT_HOST}:{DEFAULT_PORT}" == DEFAULT_SERVER_URL


def test_packaged_example_is_the_repositorys() -> None:
    packaged = Path(__file__).resolve().parents[1] / "src" / "factflow_cli" / "examples"
    assert (packaged / "facts.yaml").read_text() == (REPO / EXAMPLE).read_text(), (
        "update the copy shipped in factflow_cli/examples/ (the demo of an installed wheel)"
    )


def test_find_example_prefers_the_checkout(tmp_path: Path) -> None:
    assert find_example(REPO / "backend") == REPO / EXAMPLE
    fallback = find_example(tmp_path)
    assert fallback.name == "facts.yaml" and "factflow_cli" in str(fallback)
    assert fallback.is_file()


def test_demo_data_dir_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("FACTFLOW_DATA_DIR", str(tmp_path))
    assert default_data_dir() == tmp_path / "demo"
    monkeypatch.delenv("FACTFLOW_DATA_DIR")
    assert default_data_dir() == Path.home() / ".factflow" / "demo"


def test_the_cli_package_has_no_import_cycle() -> None:
    import grimp

    graph = grimp.build_graph("factflow_cli")
    for module in graph.modules:
        for imported in graph.find_modules_directly_imported_by(module):
            assert not graph.chain_exists(imported, module), (
                f"import cycle: {module} -> {imported} -> … -> {module}"
            )


def test_min_prefix_is_the_servers() -> None:
    from factflow_cli._ids import MIN_PREFIX
    from factflow_execution._repositories import _MIN_PREFIX

    assert MIN_PREFIX == _MIN_PREFIX


def test_short_ids_are_unique_prefixes() -> None:
    from factflow_cli._ids import SHORT_ID, short_ids

    ids = [
        "01a231f9-c31c-75e8-a167-392c4c15db7a",
        "01a231f9-e25a-76bd-8e54-755a5f0f708c",
        "01a231f9-e25a-76bd-9e54-755a5f0f708c",  # same millisecond, different random bits
        "01a231f9-e25b-7000-8000-000000000000",
    ]
    short = short_ids(ids)
    assert short[ids[0]] == ids[0][:SHORT_ID] == "01a231f9-c31c"
    assert short[ids[1]] == "01a231f9-e25a-76bd-8" and short[ids[2]] == "01a231f9-e25a-76bd-9"
    assert short[ids[3]] == "01a231f9-e25b"
    for full, prefix in short.items():
        assert [i for i in ids if i.startswith(prefix)] == [full]
        assert not prefix.endswith("-")


def test_listings_share_paging_options() -> None:
    from factflow_cli._app import app

    root = get_command(app)
    commands = {
        "execution list": root.commands["execution"].commands["list"],  # type: ignore[attr-defined]
        "execution lineage": root.commands["execution"].commands["lineage"],  # type: ignore[attr-defined]
        "storage ls": root.commands["storage"].commands["ls"],  # type: ignore[attr-defined]
    }
    seen = set()
    for name, command in commands.items():
        options = {p.name: p for p in command.params}
        assert {"limit", "all_", "after"} <= set(options), name
        assert "--after" in options["after"].opts and "--all" in options["all_"].opts, name
        seen.add(options["limit"].default)
    assert seen == {50}


def test_params_from_json_files_and_path_params(tmp_path: Path) -> None:
    from factflow_cli._params import parse_params, resolve_path_params

    (tmp_path / "v.json").write_text('{"a": [1, 2]}')
    params = parse_params([f"obj=@{tmp_path / 'v.json'}", "text=@@at", "plain=x=y"])
    assert params == {"obj": {"a": [1, 2]}, "text": "@at", "plain": "x=y"}
    with pytest.raises(InputError, match="names no file"):
        parse_params(["obj=@"])
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(InputError, match="nests too deeply"):  # an input error: exit 2
        parse_params([f"obj=@{tmp_path / 'deep.json'}"])
    declared = {"dir": {"type": "path"}, "name": {"type": "string"}}
    given = {"dir": "docs/../data", "name": "docs", "other": "x"}
    resolved = resolve_path_params(given, declared, cwd=tmp_path)
    assert resolved == {"dir": str(tmp_path / "data"), "name": "docs", "other": "x"}
    assert resolve_path_params({"dir": "/abs"}, declared, cwd=tmp_path) == {"dir": "/abs"}


def test_piped_console_lines_carry_no_padding() -> None:
    import io

    from factflow_cli._context import make_console
    from rich.table import Table

    buffer = io.StringIO()
    console = make_console(buffer)
    table = Table("A", "B")
    table.add_row("short", "x")
    table.add_row("a much longer cell", "y" * 200)
    console.print(table)
    lines = buffer.getvalue().splitlines()
    assert lines and all(line == line.rstrip() for line in lines)
    assert any("y" * 200 in line for line in lines)  # not wrapped either


def test_an_interrupted_runs_lost_messages_show_in_stats_and_dag() -> None:
    from factflow_cli._dag_view import dag_tree
    from factflow_cli._render_runs import stats_table
    from rich.console import Console

    route = {"received": 5, "processed": 3, "cancelled": 0, "lost": 2}
    stats = {"routes": {"slow": route}, "totals": route}
    console = Console(width=200, record=True)
    console.print(stats_table(stats))
    console.print(dag_tree({"nodes": [{"id": "slow", "kind": "sink", "stats": route}]}))
    text = console.export_text()
    assert "LOST" in text and "lost 2 (resume the run)" in text
    clean = {"routes": {"slow": {**route, "lost": 0}}, "totals": {**route, "lost": 0}}
    console = Console(width=200, record=True)
    console.print(stats_table(clean))
    assert "LOST" not in console.export_text()


def test_a_queued_run_says_so_in_event_lines_tables_and_the_live_header() -> None:
    from factflow_cli._follow import _Display
    from factflow_cli._render import event_line
    from factflow_cli._render_runs import _status_cell
    from rich.console import Console

    queued = {
        "seq": 1,
        "kind": "status",
        "data": {"status": "pending", "queued": True, "priority": 5},
    }
    assert "pending  queued (priority 5)" in event_line(queued).plain
    plain = {"seq": 1, "kind": "status", "data": {"status": "pending"}}
    assert "queued" not in event_line(plain).plain
    assert _status_cell({"status": "pending", "queue_position": 3}) == "pending #3"
    assert _status_cell({"status": "running", "queue_position": None}) == "running"
    display = _Display(Console(), "01a2", quiet=True)
    display.handle(queued)
    assert display.status == "pending (queued)"
    display.handle({"kind": "status", "data": {"status": "running"}})
    assert display.status == "running"
