"""``factflow demo``: the README's first command.

An embedded server (``_embedded``) on SQLite in the data directory; then, over
HTTP like any other command: apply ``facts.yaml``, run it with live progress
over this Python's ``site-packages`` (the ``METADATA`` files of installed
packages), print the summary, the DAG and where the artifacts are, replay the
messages the example's flaky sink failed on purpose, stop the server.

The config comes from the checkout (``examples/pipelines/facts.yaml`` above
the working directory) when there is one, else from the copy shipped inside
this package, so the demo also works from an installed wheel.
"""

from __future__ import annotations

import os
import sysconfig
from importlib.resources import files
from pathlib import Path
from typing import Any

from rich.text import Text

from factflow_cli._context import Globals
from factflow_cli._errors import ExitCode, FollowInterruptedError, InputError
from factflow_cli._outcome import follow
from factflow_cli._render import line

__all__ = ["default_data_dir", "find_example", "run_demo"]

EXAMPLE = Path("examples") / "pipelines" / "facts.yaml"


def default_data_dir() -> Path:
    """``<FACTFLOW_DATA_DIR or ~/.factflow>/demo``: apart from a real server's data."""
    base = os.environ.get("FACTFLOW_DATA_DIR")
    return (Path(base).expanduser() if base else Path.home() / ".factflow") / "demo"


def find_example(start: Path | None = None) -> Path:
    """The checkout's ``examples/pipelines/facts.yaml``, else the packaged copy."""
    here = (start or Path.cwd()).resolve()
    for base in (here, *here.parents):
        candidate = base / EXAMPLE
        if candidate.is_file():
            return candidate
    packaged = files("factflow_cli") / "examples" / "facts.yaml"
    return Path(str(packaged))


def run_demo(
    g: Globals,
    *,
    data_dir: Path | None,
    config: Path | None,
    source_dir: Path | None,
    timeout: float,
) -> ExitCode:
    from factflow_cli._embedded import EmbeddedServer

    data_dir = (data_dir or default_data_dir()).expanduser().resolve()
    config_path = config or find_example()
    if not config_path.is_file():
        raise InputError(f"no such config file: {config_path}")
    source = source_dir or Path(sysconfig.get_paths()["purelib"])
    say = g.note
    say(f"Starting an embedded FactFlow server (SQLite in {data_dir}) …")
    # the demo reads the METADATA files under ``source``: that directory is the
    # embedded server's file root (nothing else on this machine is readable)
    with EmbeddedServer(data_dir=data_dir, file_roots=[source]) as server:
        demo = Globals(server_url=server.url, token=g.token, output=g.output)
        say(f"Web UI: {server.url}/ (watch the run there while the demo goes on)")
        try:
            return _walk_through(demo, server.storage_dir, data_dir, config_path, source, timeout)
        except FollowInterruptedError:
            say("demo stopped; the embedded server stops with it (its runs end as interrupted)")
            return ExitCode.INTERRUPTED
        finally:
            demo.close()
            say("Stopping the embedded server …")


def _walk_through(
    g: Globals,
    storage_dir: Path,
    data_dir: Path,
    config_path: Path,
    source: Path,
    timeout: float,
) -> ExitCode:
    from factflow_cli._cmd_config import apply_file
    from factflow_cli._dag_view import dag_tree

    client = g.client()
    say = g.note
    saved = apply_file(g, str(config_path))
    config = saved.get("config") or {}
    name = str(config.get("name"))
    say(
        f"Applied config {name} version {config.get('version')} "
        f"({'new' if saved.get('created') else 'unchanged'}) from {config_path}"
    )
    say(f"Running it over the METADATA files under {source} …")
    execution = client.run_config(name, params={"source_dir": str(source)}, source="demo")
    execution_id = str(execution["id"])
    if not g.json:
        g.rule(f"execution {execution_id}")
    # failures are the point of the first run (the example's flaky sink)
    code = follow(g, execution_id, timeout, emit=False, allow_failures=True)
    final = client.get_execution(execution_id)
    dag = client.dag(execution_id)
    report: dict[str, Any] = {
        "server": client.server_url,
        "data_dir": str(data_dir),
        "config": config,
        "execution": final,
        "dag": dag,
        "artifacts": str(storage_dir / execution_id),
        "replay": None,
    }
    if not g.json:
        g.rule("DAG")
        g.out.print(dag_tree(dag))
        g.rule("artifacts")
        g.out.print(
            Text(
                f"{(final.get('stats') or {}).get('storage_objects', 0)} fact files under "
                f"{storage_dir / execution_id}"
            )
        )
    failed = int((((final.get("stats") or {}).get("totals")) or {}).get("failed", 0))
    if code == ExitCode.OK and failed:
        if not g.json:
            g.rule("replay")
            g.out.print(
                Text(
                    f"{failed} messages failed on purpose: the example's `store` route starts "
                    "with a deliberately flaky step (see examples/pipelines/README.md). A replay "
                    "re-injects exactly those messages, from this run's snapshot, as a new "
                    "execution - most succeed this time:"
                )
            )
            g.out.print(line(f"$ factflow execution replay {execution_id} --failed --follow"))
        replay = client.replay(execution_id, mode="failed")
        replay_code = follow(g, str(replay["id"]), timeout, emit=False, allow_failures=True)
        report["replay"] = client.get_execution(str(replay["id"]))
        if replay_code not in (ExitCode.OK, ExitCode.FAILED):
            code = replay_code
    if g.json:
        g.emit_json(report)
    else:
        g.rule("next")
        g.out.print(
            Text(
                "Everything is kept in the data directory. Serve it again and look around:\n"
                f"  factflow server --data-dir {data_dir}    "
                "(web UI at http://127.0.0.1:8000/)\n"
                "  factflow execution list\n"
                f"  factflow execution show {execution_id}\n"
                f"  factflow storage ls {execution_id}"
            )
        )
    return code
