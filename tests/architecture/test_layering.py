"""Only `respine_desktop.storage` touches SQLite: no other domain module reaches for the
connection of a `StudyDb` (its ``conn`` / ``sql`` attributes are storage's)."""

from __future__ import annotations

import re
from pathlib import Path

import respine_desktop

DOMAIN = Path(respine_desktop.__file__).parent
REACH = re.compile(r"\.(conn|sql)\.|\.execute(many|script)?\(")


def test_no_sql_outside_storage() -> None:
    found = [
        f"{path.relative_to(DOMAIN)}:{n}: {line.strip()}"
        for path in sorted(DOMAIN.rglob("*.py"))
        if "storage" not in path.relative_to(DOMAIN).parts
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if REACH.search(line)
    ]
    assert found == []
