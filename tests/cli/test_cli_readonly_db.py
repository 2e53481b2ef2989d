"""A database on a read-only bind (the file 0444 in a folder 0555), as a user who is not root
(root writes anyway): a command that reads it works; one that must write to it (any signed-in
command audits its run there) ends in one line, exit 2, with nothing changed. It ended in a
traceback ("attempt to write a readonly database": SQLite had opened the file read-only)."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import ROOT, env, signed_in
from tests.support.exports import demo_db

USER = "nobody"
PASSPHRASE = "correct horse battery staple 42"
pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("setpriv") is None,
    reason="needs root (to hand the files to another user) and setpriv",
)


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("readonly") / "demo.db"
    demo_db(path, subjects=2, seed=3)
    return path


@pytest.fixture
def bind(study: Path) -> Iterator[Path]:
    """A folder the other user owns (pytest's own is root's, 0700): `db/site.db` 0444 in `db`
    0555, and an `out` folder it may write."""
    base = Path(tempfile.mkdtemp(prefix="respine-ro-"))
    try:
        base.chmod(0o755)
        (base / "db").mkdir()
        (base / "out").mkdir()
        shutil.copy(study, base / "db" / "site.db")
        shutil.chown(base, USER)
        for path in base.rglob("*"):
            shutil.chown(path, USER)
        (base / "db" / "site.db").chmod(0o444)
        (base / "db").chmod(0o555)
        yield base
    finally:
        (base / "db").chmod(0o755)
        shutil.rmtree(base)


def as_user(base: Path, template: str) -> subprocess.CompletedProcess[str]:
    argv, pin = signed_in(template.format(db=base / "db" / "site.db", out=base / "out").split())
    if "--passphrase-stdin" in argv:
        pin = f"{PASSPHRASE}\n{pin or ''}"
    environment = {**env(), "HOME": str(base), "RESPINE_KEY_DIR": str(base / "out" / "keys")}
    # not measured: coverage's data file beside the checkout is not this user's to write (its
    # warning would be a second line on stderr)
    environment.pop("COVERAGE_PROCESS_CONFIG", None)
    user = ["setpriv", f"--reuid={USER}", "--regid=nogroup", "--clear-groups"]
    return subprocess.run(
        [*user, sys.executable, str(ROOT / "main.py"), *argv],
        cwd=base,
        env=environment,
        input=pin or "",
        capture_output=True,
        text=True,
        timeout=300,
    )


def state(base: Path) -> dict[str, tuple[int, str | None]]:
    found: dict[str, tuple[int, str | None]] = {}
    for path in sorted(base.rglob("*")):
        mode = path.lstat().st_mode
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        found[str(path.relative_to(base))] = (mode, digest)
    return found


READS = ["status --db {db}", "verify --db {db}", "list devices --db {db}", "signatures --db {db}"]
WRITES = [
    "backup --db {db} --out {out}/copy.db",
    "export csv --db {db} --out {out}/csv",
    "export odm --db {db} --out {out}/study.xml",
    "export bundle --db {db} --out {out}/site.bundle",
    "report study --db {db} --out {out}/study.pdf",
    "sign --db {db} --subject RSP-01-001 --meaning reviewed",
    "device hmac-bundles --db {db} refuse",
    "demo --db {db} --subjects 1",
    "init --plaintext --db {db} --admin-pin 572913",
    "encrypt --db {db} --recovery-sheet {out}/sheet.txt --passphrase-stdin",
]


@pytest.mark.parametrize("command", READS)
def test_a_command_that_reads_works_on_a_read_only_bind(bind: Path, command: str) -> None:
    before = state(bind)
    result = as_user(bind, command)
    assert result.returncode == 0, result.stderr
    assert state(bind) == before


@pytest.mark.parametrize("command", WRITES)
def test_a_command_that_writes_is_refused_in_one_line(bind: Path, command: str) -> None:
    before = state(bind)
    result = as_user(bind, command)
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.splitlines()
    assert line == (
        f"error: {bind / 'db' / 'site.db'}: cannot be written by this user (the file or its "
        "folder is read-only), and this needs to write to it: nothing changed; copy it to a "
        "folder you may write"
    )
    assert state(bind) == before


def test_a_wal_this_user_cannot_read_is_named(bind: Path) -> None:
    """A WAL database whose ``-wal`` file holds changes this user may not read (mode 0000):
    'cannot open (unable to open database file)' named neither file."""
    db = bind / "db" / "site.db"
    (bind / "db").chmod(0o755)
    db.chmod(0o644)
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE written_later (x)")
    conn.commit()
    shutil.copy(f"{db}-wal", bind / "kept-wal")  # the WAL as the last connection leaves it
    conn.close()
    os.replace(bind / "kept-wal", f"{db}-wal")
    for path in (db, Path(f"{db}-wal")):
        shutil.chown(path, USER)
    Path(f"{db}-wal").chmod(0)
    before = state(bind)
    for command in ("status --db {db}", "export csv --db {db} --out {out}/csv"):
        result = as_user(bind, command)
        assert result.returncode == 2, result.stderr
        assert result.stderr.splitlines() == [
            f"error: {db}: cannot open (unable to open database file: site.db-wal cannot be "
            "read by this user)"
        ]
        assert state(bind) == before


@pytest.mark.parametrize(
    "command",
    [
        "backup --db {db} --out {out}/copy.db",
        "export csv --db {db} --out {out}/csv",
        "export odm --db {db} --out {out}/study.xml",
        "report study --db {db} --out {out}/study.pdf",
    ],
)
def test_an_output_folder_this_user_cannot_write_is_one_line(bind: Path, command: str) -> None:
    """The refusal root never meets (a folder of mode 0555 is writable to root): the system's
    own refusal, named in one line, nothing left in the folder."""
    (bind / "db").chmod(0o755)
    (bind / "db" / "site.db").chmod(0o644)
    (bind / "out").chmod(0o555)
    try:
        result = as_user(bind, command)
        assert result.returncode == 2, result.stderr
        lines = [line for line in result.stderr.splitlines() if "%" not in line]
        assert len(lines) == 1 and "Permission denied" in lines[0], result.stderr
        assert str(bind / "out") in lines[0] and "Traceback" not in result.stderr
        assert list((bind / "out").iterdir()) == []
    finally:
        (bind / "out").chmod(0o755)
