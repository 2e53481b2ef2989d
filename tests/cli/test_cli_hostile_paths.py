"""Inputs and outputs a hostile or careless environment gives the commands, through real
processes: each ends in one line on stderr, exit 2, with nothing written."""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.test_cli_db import main, one_line_error
from tests.support.cli import ROOT, env, signed_in
from tests.support.exports import DATA_TABLES, demo_db, table_digest


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("hostile") / "demo.db"
    demo_db(path, subjects=2, seed=3)
    return path


PROGRESS = re.compile(r"^[a-z ]+: +\d+% ")


def refused(result: subprocess.CompletedProcess[str], text: str) -> None:
    """Exit 2 and one line naming `text` on stderr besides the progress lines, no traceback."""
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if not PROGRESS.match(line)]
    assert len(lines) == 1 and text in lines[0], result.stderr
    assert "Traceback" not in result.stderr and "Errno" not in result.stderr, result.stderr


def listing(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def orphan_wal(study: Path, folder: Path) -> Path:
    """`folder/new.db-wal`: the WAL of another database, whose file is gone (a copy that took
    the WAL but not its database, a database deleted by hand)."""
    source = folder / "source.db"
    shutil.copy(study, source)
    conn = sqlite3.connect(source)
    conn.execute("PRAGMA wal_autocheckpoint=0")
    conn.execute("CREATE TABLE written_later (x)")
    conn.commit()
    shutil.copy(f"{source}-wal", folder / "new.db-wal")
    conn.close()
    source.unlink()
    return folder / "new.db"


@pytest.mark.parametrize(
    "command",
    [
        ("init", "--plaintext", "--site", "05", "--admin-pin", "572913"),
        ("demo", "--subjects", "1"),
    ],
)
def test_a_wal_left_without_its_database_is_not_replayed_into_a_new_one(
    study: Path, tmp_path: Path, command: tuple[str, ...]
) -> None:
    path = orphan_wal(study, tmp_path)
    before = listing(tmp_path)
    result = main(command[0], "--db", str(path), *command[1:])
    one_line_error(result, 2, "new.db-wal")
    assert listing(tmp_path) == before


def test_an_encrypted_init_beside_an_orphan_wal_writes_no_sheet_and_no_key(
    study: Path, tmp_path: Path
) -> None:
    path = orphan_wal(study, tmp_path)
    before = listing(tmp_path)
    result = main(
        "init",
        "--db",
        str(path),
        "--recovery-sheet",
        str(tmp_path / "sheet.txt"),
        "--admin-pin",
        "572913",
        "--passphrase-stdin",
        stdin="correct horse battery staple 42\n",
    )
    one_line_error(result, 2, "new.db-wal")
    assert listing(tmp_path) == before


NOT_UTF8 = os.fsdecode(b"\xff\xfe")  # bytes no UTF-8 name has: Python keeps them as surrogates


def main_bytes(*args: str) -> subprocess.CompletedProcess[str]:
    """`main`, its output read as the names' own bytes (a name printed is not UTF-8)."""
    argv, pin = signed_in(list(args))
    return subprocess.run(
        [sys.executable, "main.py", *argv],
        cwd=ROOT,
        env=env(),
        input=pin or "",
        capture_output=True,
        encoding="utf-8",
        errors="surrogateescape",
        timeout=300,
    )


@pytest.mark.parametrize(
    ("command", "name"),
    [
        ("export odm --db {db} --out {out}", "study.xml"),
        ("report study --db {db} --out {out}", "study.pdf"),
        ("backup --db {db} --out {out}", "copy.db"),
        ("export csv --db {db} --out {out}", "csv"),
    ],
)
def test_an_output_whose_name_is_not_utf8_is_written_and_audited(
    study: Path, tmp_path: Path, command: str, name: str
) -> None:
    db = tmp_path / "study.db"
    shutil.copy(study, db)
    out = tmp_path / f"{NOT_UTF8}{name}"
    result = main_bytes(*command.format(db=db, out=out).split())
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert out.exists()
    conn = sqlite3.connect(db)
    (payload,) = conn.execute(
        "SELECT payload FROM audit_log WHERE action = 'command.run' ORDER BY rowid DESC LIMIT 1"
    ).fetchone()
    conn.close()
    assert f"\\\\xff\\\\xfe{name}" in payload  # the bytes named, escaped, in the JSON text
    verified = main("verify", "--db", str(db))
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_a_database_whose_name_is_not_utf8_opens(study: Path, tmp_path: Path) -> None:
    db = tmp_path / f"{NOT_UTF8}.db"
    shutil.copy(study, db)
    before = listing(tmp_path)
    result = main_bytes("status", "--db", str(db))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert listing(tmp_path) == before


NAME_MAX = 255


@pytest.mark.parametrize(
    "command",
    [
        "backup --db {db} --out {out}",
        "export odm --db {db} --out {out}",
        "export bundle --db {db} --out {out}",
        "report study --db {db} --out {out}",
        "score --instrument vas {vas} --out {out}",
    ],
)
@pytest.mark.parametrize("length", [NAME_MAX + 1, NAME_MAX - 3])  # too long; its .partial is
def test_a_name_too_long_is_refused_in_one_line(
    study: Path, tmp_path: Path, command: str, length: int
) -> None:
    (tmp_path / "vas.csv").write_text("vas_pain\n50\n", encoding="utf-8")
    before = listing(tmp_path)
    out = tmp_path / ("n" * length)
    result = main(*command.format(db=study, out=out, vas=tmp_path / "vas.csv").split())
    refused(result, "File name too long")
    assert listing(tmp_path) == before


def test_a_folder_name_too_long_is_refused_in_one_line(study: Path, tmp_path: Path) -> None:
    before = listing(tmp_path)
    result = main("export", "csv", "--db", str(study), "--out", str(tmp_path / ("n" * 256)))
    refused(result, "File name too long")
    assert listing(tmp_path) == before


def not_files(folder: Path) -> dict[str, Path]:
    (folder / "folder").mkdir()
    os.mkfifo(folder / "pipe")
    return {"folder": folder / "folder", "named pipe": folder / "pipe", "device": Path("/dev/zero")}


@pytest.mark.parametrize("kind", ["folder", "named pipe", "device"])
@pytest.mark.parametrize(
    "command",
    [
        "status --db {db}",
        "verify --db {db}",
        "export csv --db {db} --out {out}",
        "report study --db {db} --out {out}/r.pdf",
        "import bundle --db {db} {study}",
    ],
)
def test_a_database_that_is_not_a_file_is_named_so(
    study: Path, tmp_path: Path, command: str, kind: str
) -> None:
    db = not_files(tmp_path)[kind]
    (tmp_path / "out").mkdir()
    before = listing(tmp_path / "out")
    result = main(*command.format(db=db, out=tmp_path / "out", study=study).split())
    what = {"folder": "is a folder", "named pipe": "is a named pipe", "device": "is a character"}
    refused(result, f"{db}: {what[kind]}")
    assert listing(tmp_path / "out") == before


@pytest.mark.parametrize("kind", ["folder", "named pipe", "device"])
def test_a_bundle_that_is_not_a_file_is_named_so(study: Path, tmp_path: Path, kind: str) -> None:
    bundle = not_files(tmp_path)[kind]
    hub = tmp_path / "hub.db"
    shutil.copy(study, hub)
    before = table_digest(hub, DATA_TABLES)
    result = main("import", "bundle", "--db", str(hub), str(bundle))
    what = {"folder": "is a folder", "named pipe": "is a named pipe", "device": "is a character"}
    refused(result, f"{bundle}: {what[kind]}")
    assert table_digest(hub, DATA_TABLES) == before


SMALL_INPUTS = {
    "import key": ("import key --db {db} {input}", "site key file"),
    "import device": ("import device --db {db} {input}", "device file"),
    "import hub-key": ("import hub-key --db {db} {input}", "device file"),
    "import translation": ("import translation --db {db} {input}", "translation file"),
    "export bundle --key": (
        "export bundle --db {db} --out {out}/b.zip --key {input}",
        "site key file",
    ),
    "report study --arms": ("report study --db {db} --out {out}/r.pdf --arms {input}", "arms file"),
    "score": ("score --instrument vas {input} --out {out}/s.csv", "CSV file to score"),
}


@pytest.mark.parametrize("kind", ["named pipe", "device"])
@pytest.mark.parametrize("command", sorted(SMALL_INPUTS))
def test_a_small_input_that_is_a_pipe_or_a_device_is_refused_not_waited_for(
    study: Path, tmp_path: Path, command: str, kind: str
) -> None:
    """A named pipe waited for a writer forever, /dev/zero was read until memory ran out."""
    source = not_files(tmp_path)[kind]
    db = tmp_path / "study.db"
    shutil.copy(study, db)
    (tmp_path / "out").mkdir()
    before = table_digest(db, DATA_TABLES)
    template, what = SMALL_INPUTS[command]
    argv, pin = signed_in(template.format(db=db, out=tmp_path / "out", input=source).split())
    result = subprocess.run(
        [sys.executable, "main.py", *argv],
        cwd=ROOT,
        env=env(),
        input=pin or "",
        capture_output=True,
        text=True,
        timeout=120,  # a guard: the pipe's reader waited forever
    )
    refused(result, f"{source}: is a {kind if kind != 'device' else 'character device'}")
    assert f"not a {what}" in result.stderr
    assert list((tmp_path / "out").iterdir()) == []
    assert table_digest(db, DATA_TABLES) == before


def test_a_bundle_that_cannot_be_written_leaves_the_database_without_a_new_key(
    study: Path, tmp_path: Path
) -> None:
    """The site key is made at a bundle's first export: not when the bundle cannot be written
    (here its .partial is taken by a folder, as a read-only folder would refuse it)."""
    db = tmp_path / "study.db"
    shutil.copy(study, db)
    (tmp_path / "b.zip.partial").mkdir()
    before = table_digest(db, DATA_TABLES)
    result = main("export", "bundle", "--db", str(db), "--out", str(tmp_path / "b.zip"))
    refused(result, "b.zip")
    assert table_digest(db, DATA_TABLES) == before
    names = {p.name for p in tmp_path.iterdir()} - {"study.db-wal", "study.db-shm"}
    assert names == {"b.zip.partial", "study.db"}  # (the WAL files of the digest's reader)
    assert list((tmp_path / "b.zip.partial").iterdir()) == []
