"""No module of the Qt layer grows past 400 lines: a bigger one is several concepts, split it."""

from __future__ import annotations

from pathlib import Path

import ui

UI = Path(ui.__file__).parent
LIMIT = 400


def test_no_ui_module_exceeds_the_limit() -> None:
    sizes = {
        path.relative_to(UI).as_posix(): len(path.read_text(encoding="utf-8").splitlines())
        for path in sorted(UI.rglob("*.py"))
    }
    assert len(sizes) > 30, "the ui package was not found"
    assert {name: n for name, n in sizes.items() if n > LIMIT} == {}
