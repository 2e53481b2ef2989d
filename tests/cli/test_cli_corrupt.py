"""A database with a damaged page: every command says so in one line and writes nothing."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.cli.test_cli_db import digest, main, one_line_error
from tests.support.storage import damage_answers_page

DAMAGED = "the database file is damaged"


@pytest.fixture(scope="module")
def damaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    folder = tmp_path_factory.mktemp("damaged")
    path = folder / "demo.db"
    assert main("demo", "--db", str(path), "--subjects", "3").returncode == 0
    assert (
        main("export", "key", "--db", str(path), "--out", str(folder / "site.key")).returncode == 0
    )
    damage_answers_page(path)
    assert not Path(f"{path}-wal").exists()
    return path, digest(path)


COMMANDS = {
    "status": "status --db {db}",
    "export csv": "export csv --db {db} --out {out}",
    "export odm": "export odm --db {db} --out {out}",
    "export redcap": "export redcap --db {db} --out {out}",
    "export bundle": "export bundle --db {db} --out {out}",
    "export key": "export key --db {db} --out {out}",
    "report study": "report study --db {db} --out {out}",
    "report patient": "report patient --db {db} --subject RSP-01-001 --out {out}",
    "backup": "backup --db {db} --out {out}",
    "demo": "demo --db {db} --subjects 1 --first 50",
    "init": "init --plaintext --db {db} --admin-pin 1234",
    "import key": "import key --db {db} {key}",
    "export device": "export device --db {db} --out {out}",
    "list devices": "list devices --db {db}",
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_damaged_database_is_refused_in_one_line_and_left_unchanged(
    damaged: tuple[Path, str], command: str, tmp_path: Path
) -> None:
    path, before = damaged
    out = tmp_path / "out"
    key = path.parent / "site.key"
    result = main(*(a.format(db=path, out=out, key=key) for a in COMMANDS[command].split()))
    one_line_error(result, 2, DAMAGED)
    assert "page" in result.stderr  # names where
    assert digest(path) == before
    assert not Path(f"{path}-wal").exists() and not Path(f"{path}-journal").exists()
    assert list(tmp_path.iterdir()) == []  # no output, not even an empty folder


def test_verify_names_the_damaged_page_and_exits_1(damaged: tuple[Path, str]) -> None:
    path, before = damaged
    result = main("verify", "--db", str(path))
    assert result.returncode == 1, result.stderr
    # SQLite 3.53 (SQLCipher 4.19) says "Tree N page P cell C: ...", older ones "On tree page P"
    assert re.search(r"integrity check failed: (On tree|Tree \d+) page", result.stderr)
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert digest(path) == before
