"""No source module outgrows 400 lines.

A module that size does several things; the house rule is to split it by
responsibility before it gets there (the run controller's issue made it a
"Done means").  This test names every offender with its length so the split
happens in the change that grew it, not sessions later.
"""

from __future__ import annotations

from pathlib import Path

LIMIT = 400
SOURCES = Path(__file__).resolve().parents[1] / "backend" / "packages"


def test_no_source_module_over_the_limit() -> None:
    modules = sorted(SOURCES.glob("*/src/**/*.py"))
    assert modules, f"no source modules found under {SOURCES}"
    too_long = {
        str(path.relative_to(SOURCES)): lines
        for path in modules
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert not too_long, f"modules over {LIMIT} lines (split them by responsibility): {too_long}"
