"""``config validate`` and ``components list|show`` against a real server process
(SQLite, then PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def test_validate_a_valid_config_stores_nothing(
    cli: Any, tmp_path: Path, suffix: str, config_text: Any
) -> None:
    name = f"cli-valid-{suffix}"
    config = tmp_path / "valid.yaml"
    config.write_text(config_text.items(name))
    run = cli("config", "validate", str(config))
    assert run.exit_code == 0, run
    assert f"config {name} is valid; applying it creates version 1" in run.stdout
    assert cli("config", "show", name).exit_code == 2  # nothing was stored
    verdict = cli.json("config", "validate", str(config))
    assert verdict["valid"] is True and verdict["name"] == name and verdict["changed"] is True
    assert cli("config", "apply", str(config)).exit_code == 0
    again = cli("config", "validate", "-", input=config.read_text())
    assert again.exit_code == 0, again
    assert "identical to version 1: applying it changes nothing" in again.stdout


def test_validate_an_invalid_config_lists_each_issue_once(cli: Any, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "name: cli-invalid\nroutes:\n  src:\n    adapter:\n      type: inline\n"
        "      with: {items: [1]}\n    processors:\n      - type: no_such_processor\n"
        "      - type: sleep\n        with: {seconds: soon}\n"
    )
    run = cli("config", "validate", str(bad))
    assert run.exit_code == 2, run
    assert run.stderr.startswith("error: pipeline config is invalid (2 issues)")
    assert run.stderr.count("no_such_processor") == 1
    assert f"{bad}:8: " in run.stderr and f"{bad}:10: " in run.stderr
    as_json = cli("config", "validate", str(bad), json_output=True)
    assert as_json.exit_code == 2
    reported = json.loads(as_json.stderr)["error"]["problem"]["issues"]
    assert [issue["line"] for issue in reported] == [8, 10]
    assert cli("config", "validate", str(tmp_path / "none.yaml")).exit_code == 2


def test_a_config_nested_too_deep_or_an_alias_bomb_exits_2(cli: Any, tmp_path: Path) -> None:
    deep = tmp_path / "deep.yaml"
    deep.write_text("name: deep\nroutes: " + "[" * 500 + "]" * 500 + "\n")
    bomb = tmp_path / "bomb.yaml"
    lines = ["a0: &a0 [" + ", ".join(["x"] * 9) + "]"]
    lines += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, 10)]
    bomb.write_text("\n".join(lines) + "\n")
    for command in ("validate", "apply"):
        run = cli("config", command, str(deep))
        assert run.exit_code == 2, run
        assert "more than 64 levels deep" in run.stderr
        run = cli("config", command, str(bomb))
        assert run.exit_code == 2, run
        assert "FACTFLOW_CONFIG_MAX_NODES" in run.stderr


def test_components_list_and_show(cli: Any) -> None:
    listed = cli("components", "list")
    assert listed.exit_code == 0, listed
    for name in ("files", "inline", "read_text", "storage_write"):
        assert name in listed.stdout
    adapters = cli.json("components", "list", "--kind", "adapter")["items"]
    assert {c["kind"] for c in adapters} == {"adapter"} and "files" in {c["name"] for c in adapters}

    shown = cli("components", "show", "files")
    assert shown.exit_code == 0, shown
    assert "options (with:)" in shown.stdout
    root = next(line for line in shown.stdout.splitlines() if line.split()[:1] == ["root"])
    assert "string" in root and "required" in root
    detail = cli.json("components", "show", "sleep")
    assert detail["kind"] == "processor" and "seconds" in detail["options_schema"]["properties"]

    typo = cli("components", "show", "read_txt")
    assert typo.exit_code == 2 and "did you mean read_text" in typo.stderr
    assert cli("components", "list", "--kind", "sink").exit_code == 2
