"""The database commands through `python main.py ...`: init, demo, status, verify, backup."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.storage import _schema as schema
from tests.support.cli import signed_in
from tests.support.storage import ROOT, env, old_schema_db


def main(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    argv, pin = signed_in(list(args))
    return subprocess.run(
        [sys.executable, "main.py", *argv],
        cwd=ROOT,
        env=env(),
        input=stdin if stdin is not None else pin or "",
        capture_output=True,
        text=True,
        timeout=300,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one_line_error(result: subprocess.CompletedProcess[str], code: int, text: str) -> None:
    assert result.returncode == code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and text in lines[0], result.stderr
    assert "Traceback" not in result.stderr


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    result = main("demo", "--db", str(path), "--subjects", "12", "--seed", "7")
    assert result.returncode == 0, result.stderr
    return path, result.stdout.splitlines()


@pytest.mark.parametrize("command", ["init", "demo", "status", "verify", "backup"])
def test_every_command_documents_itself(command: str) -> None:
    result = main(command, "--help")
    assert result.returncode == 0 and "--db" in result.stdout
    if command == "demo":
        assert "admin/860427" in result.stdout


def test_init_creates_a_database_with_its_administrator(tmp_path: Path) -> None:
    path = tmp_path / "site.db"
    result = main("init", "--plaintext", "--db", str(path), "--site", "03", "--admin-pin", "482915")
    assert result.returncode == 0, result.stderr
    assert "created" in result.stdout and "site 03" in result.stdout
    with storage.open_database(path) as db:
        assert db.site_code == "03"
        assert storage.authenticate(db, "admin", "482915").role == "admin"
        assert db.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    # Again on the same site: harmless, nothing changed.
    before = digest(path)
    again = main("init", "--plaintext", "--db", str(path), "--site", "03", "--admin-pin", "572913")
    assert again.returncode == 0 and "already initialised" in again.stdout
    assert digest(path) == before
    other = main("init", "--plaintext", "--db", str(path), "--site", "04", "--admin-pin", "572913")
    one_line_error(other, 2, "site 03, not 04")
    assert digest(path) == before


def test_init_on_an_older_versions_database_says_it_upgraded_it(tmp_path: Path) -> None:
    """Opening the file applies the schema upgrades it lacks (a backup first): said, not
    "nothing changed"."""
    path = old_schema_db(tmp_path / "site.db", before="0013_scores_superseded_by")
    result = main("init", "--plaintext", "--db", str(path), "--admin-pin", "572913")
    assert result.returncode == 0, result.stderr
    upgrades = len(schema.migration_names()) - schema.migration_names().index(
        "0013_scores_superseded_by"
    )
    assert (
        f"its schema upgraded by {upgrades} migration(s) (the file before them kept as "
        "site.db.before-0012_pin_digest-<time>.bak), nothing else changed"
    ) in result.stdout, result.stdout
    assert len(list(tmp_path.glob("site.db.before-0012_pin_digest-*.bak"))) == 1
    again = main("init", "--plaintext", "--db", str(path), "--admin-pin", "572913")
    assert again.returncode == 0 and "; nothing changed" in again.stdout, again.stdout


def test_init_refuses_files_that_are_not_respine_databases(tmp_path: Path) -> None:
    text = tmp_path / "notes.db"
    text.write_text("not a database\n")
    foreign = tmp_path / "foreign.db"
    with sqlite3.connect(foreign) as conn:
        conn.execute("CREATE TABLE t (x)")
    conn.close()
    for path in (text, foreign):
        before = digest(path)
        result = main("init", "--plaintext", "--db", str(path), "--admin-pin", "572913")
        one_line_error(result, 2, "not a RESPINE database")
        assert digest(path) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["foreign.db", "notes.db"]


def test_init_bad_input_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "x.db"
    one_line_error(
        main("init", "--plaintext", "--db", str(path), "--admin-pin", "12"), 2, "6 to 12 digits"
    )
    one_line_error(
        main("init", "--plaintext", "--db", str(path), "--site", "x", "--admin-pin", "572913"),
        2,
        "site code",
    )
    one_line_error(main("init", "--plaintext", "--db", str(path)), 2, "--admin-pin is required")
    assert not path.exists() and list(tmp_path.iterdir()) == []


def test_demo_commits_each_questionnaire_it_announces(demo_db: tuple[Path, list[str]]) -> None:
    path, lines = demo_db
    committed = [line.split() for line in lines if line.startswith("committed ")]
    assert committed and all(len(c) == 4 for c in committed)
    assert lines[-1].startswith("demo: 12 subjects")
    with storage.open_database(path, readonly=True) as db:
        for _, subject, visit, instrument in committed:
            sessions = [s for s in storage.subject_sessions(db, subject) if s.visit_code == visit]
            current = storage.current_answers(db, sessions[-1].id)
            assert any(a.instrument_id == instrument for a in current.values())
        codes = [s.code for s in storage.list_subjects(db)]
        assert codes == [f"RSP-01-{n:03d}" for n in range(1, 13)]


def test_status_reports_counts_as_json(demo_db: tuple[Path, list[str]]) -> None:
    path, _ = demo_db
    result = main("status", "--db", str(path), "--json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["subjects"] == 12
    assert set(data["sessions"]) == {"completed", "in_progress", "parked"}
    assert data["sessions"]["completed"] > 0
    assert data["answers"] > 0 and data["audit_entries"] > data["sessions"]["completed"]
    text = main("status", "--db", str(path))
    assert text.returncode == 0 and "subjects        12" in text.stdout


def test_verify_passes_a_demo_database(demo_db: tuple[Path, list[str]]) -> None:
    path, _ = demo_db
    result = main("verify", "--db", str(path))
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.strip().splitlines()) == 1 and "ok:" in result.stdout
    assert not list(path.parent.glob("*-wal")) and not list(path.parent.glob("*-shm"))


def test_verify_names_the_first_bad_audit_entry(tmp_path: Path) -> None:
    path = tmp_path / "tampered.db"
    assert main("demo", "--db", str(path), "--subjects", "3").returncode == 0
    conn = sqlite3.connect(path, isolation_level=None)
    for name in schema.TRIGGERS:
        conn.execute(f"DROP TRIGGER {name}")
    entry_id, device = conn.execute("SELECT id, device_id FROM audit_log WHERE seq = 10").fetchone()
    conn.execute("UPDATE audit_log SET at = '2020-01-01T00:00:00.000Z' WHERE seq = 10")
    conn.close()
    result = main("verify", "--db", str(path))
    one_line_error(result, 1, f"audit entry #10 of device {device} (id {entry_id})")


def test_verify_names_an_edited_score(tmp_path: Path) -> None:
    path = tmp_path / "scores.db"
    assert main("demo", "--db", str(path), "--subjects", "3").returncode == 0
    conn = sqlite3.connect(path, isolation_level=None)
    score_id, session_id = conn.execute(
        "SELECT id, session_id FROM scores WHERE instrument_id='vas' AND superseded_at IS NULL "
        "ORDER BY session_id LIMIT 1"
    ).fetchone()
    conn.execute("UPDATE scores SET scores = '{\"vas\":99.9}' WHERE id = ?", [score_id])
    conn.close()
    result = main("verify", "--db", str(path))
    one_line_error(result, 1, f"table scores row {score_id} ")
    assert f"session {session_id}" in result.stderr and "instrument vas" in result.stderr


def test_verify_missing_or_unreadable_file_is_exit_2_and_creates_nothing(tmp_path: Path) -> None:
    missing = tmp_path / "missing.db"
    one_line_error(main("verify", "--db", str(missing)), 2, "no such database file")
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"\x00" * 100 + b"garbage")
    one_line_error(main("verify", "--db", str(garbage)), 2, "not a RESPINE database")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["garbage.db"]


@pytest.mark.parametrize("side", ["-wal", "-shm"])
@pytest.mark.parametrize("command", ["status", "verify", "demo"])
def test_a_side_file_planted_as_a_link_is_named_and_its_target_untouched(
    tmp_path: Path, side: str, command: str
) -> None:
    path = tmp_path / "linked.db"
    assert main("demo", "--db", str(path), "--subjects", "1").returncode == 0
    victim = tmp_path / "victim.txt"
    victim.write_bytes(b"a file of someone else's\n")
    (tmp_path / f"linked.db{side}").symlink_to(victim)
    before = path.read_bytes()
    argv = ["--subjects", "1"] if command == "demo" else []
    result = main(command, "--db", str(path), *argv)
    one_line_error(result, 2, f"linked.db{side} is a link, which SQLite will not open")
    assert victim.read_bytes() == b"a file of someone else's\n"
    assert path.read_bytes() == before
    assert (tmp_path / f"linked.db{side}").is_symlink()


def test_a_side_file_that_is_a_folder_is_named(tmp_path: Path) -> None:
    path = tmp_path / "odd.db"
    assert main("demo", "--db", str(path), "--subjects", "1").returncode == 0
    (tmp_path / "odd.db-wal").mkdir()
    result = main("status", "--db", str(path))
    one_line_error(result, 2, "odd.db-wal is not a regular file, which SQLite will not open")


@pytest.mark.req("DB-04")
def test_backup_while_the_database_is_being_written(tmp_path: Path) -> None:
    path = tmp_path / "live.db"
    assert main("demo", "--db", str(path), "--subjects", "0").returncode == 0  # a demo database
    argv, pin = signed_in(["demo", "--db", str(path), "--subjects", "25"])
    writer = subprocess.Popen(
        [sys.executable, "main.py", *argv],
        cwd=ROOT,
        env=env(),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert writer.stdout is not None and writer.stdin is not None
    writer.stdin.write(pin or "")
    writer.stdin.flush()
    assert writer.stdout.readline().startswith("committed ")  # writing has started
    out = tmp_path / "copy.db"
    result = main("backup", "--db", str(path), "--out", str(out))
    _, err = writer.communicate(timeout=300)
    assert writer.returncode == 0, err
    assert result.returncode == 0, result.stderr
    assert "written and verified" in result.stdout
    assert main("verify", "--db", str(out)).returncode == 0
    assert not list(tmp_path.glob("*.partial*"))
    one_line_error(main("backup", "--db", str(path), "--out", str(out)), 2, "exists already")


def test_two_demo_processes_on_one_database(tmp_path: Path) -> None:
    path = tmp_path / "two.db"
    assert main("demo", "--db", str(path), "--subjects", "0").returncode == 0  # a demo database
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                "main.py",
                *signed_in(
                    [
                        "demo",
                        "--db",
                        str(path),
                        "--subjects",
                        "10",
                        "--first",
                        first,
                        "--seed",
                        first,
                    ]
                )[0],
            ],
            cwd=ROOT,
            env=env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for first in ("1", "501")
    ]
    results = [p.communicate(signed_in(["demo"])[1], timeout=300) for p in procs]
    for p, (_, err) in zip(procs, results, strict=True):
        assert p.returncode == 0 and "locked" not in err, err
    status = json.loads(main("status", "--db", str(path), "--json").stdout)
    assert status["subjects"] == 20
    assert main("verify", "--db", str(path)).returncode == 0
    clash = main("demo", "--db", str(path), "--subjects", "2", "--first", "10")
    one_line_error(clash, 2, "RSP-01-010 exists already")
