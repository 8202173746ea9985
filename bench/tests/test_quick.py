"""Smoke test: ``python -m bench --quick`` runs every benchmark and writes results.

It asserts nothing about timings (this machine is shared and noisy); only that
each benchmark ran without error and the JSON and Markdown files were written.
SQLite only and without the Prefect side (about a minute and a half on the shared
machine; the timeout leaves room for load).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(180)
def test_quick_mode_runs_and_writes_results(tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--no-peer",
            "--db",
            "sqlite",
            "--out",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=170,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["failures"] == {}
    assert document["quick"] is True
    ran = {m["benchmark"] for m in document["measurements"]}
    skipped = {s["benchmark"] for s in document["skipped"] if s["what"] == "whole benchmark"}
    assert ran | skipped >= set(document["benchmarks"])
    assert all(m["summary"]["n"] > 0 for m in document["measurements"])
    assert out.with_suffix(".md").read_text(encoding="utf-8").count("|") > 10
    assert document["machine"]["cores"] and document["machine"]["sqlite"]
