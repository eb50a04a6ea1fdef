"""No module grows past 800 lines (issue 16): a module that long does more than one thing and
should be split by responsibility. The synthetic generator's data tables and the Alembic
migrations are left out."""

from __future__ import annotations

from pathlib import Path

import joinedup

SRC = Path(joinedup.__file__).parent
MAX_LINES = 800
EXEMPT = (SRC / "synth", SRC / "catalog" / "migrations")


def test_no_module_is_over_800_lines() -> None:
    modules = [
        path
        for path in SRC.rglob("*.py")
        if not any(path.is_relative_to(folder) for folder in EXEMPT)
    ]
    assert len(modules) > 100  # the walk found the package
    too_long = {
        str(path.relative_to(SRC)): lines
        for path in modules
        if (lines := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert too_long == {}, f"split these by responsibility (at most {MAX_LINES} lines): {too_long}"
