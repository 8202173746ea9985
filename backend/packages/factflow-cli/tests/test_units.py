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
