"""`main.py export …` / `main.py import …` as a data manager runs them: real files through a child
process, exit 0 with a summary and progress on stderr, exit 2 with one error line and nothing
written for bad input."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import storage
from tests.support.cli import signed_in
from tests.support.exports import (
    DATA_TABLES,
    PYTHON,
    ROOT,
    env,
    odm_errors,
    scenario_db,
    table_digest,
)


def main(*args: str | Path) -> subprocess.CompletedProcess[str]:
    argv, pin = signed_in(list(args))
    return subprocess.run(
        [PYTHON, str(ROOT / "main.py"), *argv],
        input=pin,
        capture_output=True,
        text=True,
        env=env(),
        cwd=ROOT,
        check=False,
    )


def one_error(run: subprocess.CompletedProcess[str], match: str) -> None:
    assert run.returncode == 2, run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and match in errors[0], run.stderr
    assert "Traceback" not in run.stderr


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("cli")
    scenario_db(root / "study.db")
    yield root / "study.db"


def test_export_csv_odm_and_redcap_exit_0_with_progress_on_stderr(db: Path, tmp_path: Path) -> None:
    run = main("export", "csv", "--db", db, "--out", tmp_path / "csv")
    assert run.returncode == 0, run.stderr
    assert "answers_long.csv" in run.stdout and "export csv: 100%" in run.stderr
    assert (tmp_path / "csv" / "codebook.csv").is_file()
    run = main("export", "odm", "--db", db, "--out", tmp_path / "h.xml", "--history")
    assert run.returncode == 0, run.stderr
    assert "Transactional" in run.stdout and "export odm: 100%" in run.stderr
    assert odm_errors(tmp_path / "h.xml") == []
    run = main("export", "redcap", "--db", db, "--out", tmp_path / "redcap")
    assert run.returncode == 0, run.stderr
    assert (tmp_path / "redcap" / "records.csv").is_file()


def test_export_csv_in_worker_processes_writes_the_same_files(db: Path, tmp_path: Path) -> None:
    """The CLI's main module starts worker processes (spawn) safely; same bytes as one."""
    one = main("export", "csv", "--db", db, "--out", tmp_path / "one", "--workers", "1")
    three = main("export", "csv", "--db", db, "--out", tmp_path / "three", "--workers", "3")
    assert one.returncode == 0 and three.returncode == 0, one.stderr + three.stderr
    assert "(3 processes)" in three.stdout and "processes" not in one.stdout
    assert "export csv: 100%" in three.stderr
    for name in ("answers_long.csv", "visits_wide.csv", "codebook.csv"):
        assert (tmp_path / "three" / name).read_bytes() == (tmp_path / "one" / name).read_bytes()
    bad = main("export", "csv", "--db", db, "--out", tmp_path / "x", "--workers", "0")
    assert bad.returncode == 2 and "--workers" in bad.stderr and "Traceback" not in bad.stderr
    assert not (tmp_path / "x").exists()


def test_exports_never_write_to_the_database(db: Path, tmp_path: Path) -> None:
    """Only the audit log changes: each export's sign-in and its ``command.run`` entry."""
    before = table_digest(db, DATA_TABLES)
    with storage.open_database(db, readonly=True) as opened:
        entries = len(storage.audit_entries(opened))
    for fmt in ("csv", "redcap"):
        assert main("export", fmt, "--db", db, "--out", tmp_path / fmt).returncode == 0
    assert main("export", "odm", "--db", db, "--out", tmp_path / "s.xml").returncode == 0
    assert table_digest(db, DATA_TABLES) == before
    with storage.open_database(db, readonly=True) as opened:
        added = [e.action for e in storage.audit_entries(opened)[entries:]]
    assert added == ["login.succeeded", "command.run"] * 3


def test_bad_usage_and_bad_input_exit_2_with_one_line(db: Path, tmp_path: Path) -> None:
    one_error(main("export", "csv", "--db", tmp_path / "none.db", "--out", tmp_path), "none.db")
    one_error(
        main("export", "odm", "--db", db, "--out", tmp_path / "missing" / "x.xml"),
        "no such directory",
    )
    one_error(
        main("export", "bundle", "--db", db, "--out", tmp_path / "b", "--since", "last week"),
        "--since",
    )
    one_error(main("import", "bundle", "--db", db, tmp_path / "nothing.bundle"), "no such bundle")
    assert main("export").returncode == 2
    assert main("export", "csv", "--db", db).returncode == 2  # --out missing
    assert not (tmp_path / "missing").exists() and not (tmp_path / "b").exists()


def test_bundle_round_trip_through_the_commands(db: Path, tmp_path: Path) -> None:
    hub = tmp_path / "hub.db"
    kiosk = tmp_path / "kiosk.db"
    kiosk.write_bytes(db.read_bytes())
    assert main("init", "--plaintext", "--db", hub, "--admin-pin", "860427").returncode == 0
    run = main("export", "key", "--db", hub, "--out", tmp_path / "site.key")
    assert run.returncode == 0 and "site key" in run.stdout, run.stderr
    assert (tmp_path / "site.key").stat().st_mode & 0o077 == 0
    run = main("import", "key", "--db", kiosk, tmp_path / "site.key")
    assert run.returncode == 0 and "installed site key" in run.stdout, run.stderr
    run = main("export", "bundle", "--db", kiosk, "--out", tmp_path / "k.bundle")
    assert run.returncode == 0 and "3 subjects" in run.stdout, run.stderr
    run = main("import", "bundle", "--db", hub, tmp_path / "k.bundle")
    assert run.returncode == 0 and "imported bundle" in run.stdout, run.stderr
    assert "import bundle: 100%" in run.stderr
    before = table_digest(hub, DATA_TABLES)  # the audit log gets each sign-in and command
    run = main("import", "bundle", "--db", hub, tmp_path / "k.bundle")
    assert run.returncode == 0 and "already imported" in run.stdout
    assert table_digest(hub, DATA_TABLES) == before
    data = bytearray((tmp_path / "k.bundle").read_bytes())
    data[len(data) // 3] ^= 0xFF
    (tmp_path / "bad.bundle").write_bytes(bytes(data))
    one_error(main("import", "bundle", "--db", hub, tmp_path / "bad.bundle"), "bad.bundle")
    assert table_digest(hub, DATA_TABLES) == before
    assert storage.verify_database(hub).ok
    assert main("verify", "--db", hub).returncode == 0
