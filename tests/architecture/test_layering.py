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


JSON_READ = re.compile(r"\bjson\.loads?\(")
PROGRAM = (DOMAIN, DOMAIN.parent / "ui")


def test_json_is_read_through_json_text() -> None:
    """Every JSON text the program reads goes through `json_text.loads`, never ``json.loads``:
    a text nested too deeply is then a JSON error its reader refuses, not a RecursionError."""
    found = [
        f"{path.relative_to(root.parent)}:{n}: {line.strip()}"
        for root in PROGRAM
        for path in sorted(root.rglob("*.py"))
        if path != DOMAIN / "json_text.py"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if JSON_READ.search(line)
    ]
    assert found == []
