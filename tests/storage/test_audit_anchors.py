"""Chain heads as anchors outside the file: `status` prints them, `status --receipt` writes them,
`verify --expect` proves the file still holds them (a rollback or a consistent rewrite fails)."""

from __future__ import annotations

import json
import sqlite3
import subprocess
from pathlib import Path

import pytest

from respine_desktop import storage
from tests.support.storage import ADMIN_PIN, PYTHON, ROOT, SUBJECT, env, subject_db


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """`python main.py ARGS` (the one place that runs a command in this file)."""
    return subprocess.run(
        [PYTHON, str(ROOT / "main.py"), *args],
        capture_output=True,
        text=True,
        env=env(),
        check=False,
    )


def login(path: Path) -> None:
    """One more audit entry that changes no row (a successful login)."""
    with storage.open_database(path) as db:
        storage.authenticate(db, "admin", ADMIN_PIN)


def test_status_prints_every_chain_head_and_writes_a_receipt(tmp_path: Path) -> None:
    with subject_db(tmp_path / "k.db", SUBJECT) as db:
        head = storage.audit_chain_head(db)
        path = db.path
    done = cli("status", "--db", str(path), "--receipt", str(tmp_path / "receipt.json"))
    assert done.returncode == 0, done.stderr
    (device, seq, digest) = head.chains[0]
    assert f"chain head      {head.hash}" in done.stdout
    assert f"  {device}:{seq}:{digest}" in done.stdout
    receipt = json.loads((tmp_path / "receipt.json").read_text())
    assert receipt["chains"] == [{"device": device, "seq": seq, "hash": digest}]
    assert receipt["combined"] == head.hash
    data = json.loads(cli("status", "--db", str(path), "--json").stdout)
    assert data["chain_head"] == head.hash and data["chains"] == receipt["chains"]


def test_verify_expect_accepts_every_form_of_a_head_still_in_the_file(tmp_path: Path) -> None:
    with subject_db(tmp_path / "k.db", SUBJECT) as db:
        old = storage.audit_chain_head(db)
        path = db.path
    assert cli("status", "--db", str(path), "--receipt", str(tmp_path / "r.json")).returncode == 0
    login(path)  # the chain grows: it still extends every earlier head
    device, seq, digest = old.chains[0]
    lines = tmp_path / "heads.txt"
    lines.write_text(f"# printed on a report\n{device}:{seq}:{digest}\n")
    for spec in (old.hash, f"{device}:{seq}:{digest}", str(tmp_path / "r.json"), str(lines)):
        done = cli("verify", "--db", str(path), "--expect", spec)
        assert done.returncode == 0, done.stderr
        assert "the 1 expected head(s) are in the chains" in done.stdout


def test_a_rollback_to_an_older_copy_is_caught(tmp_path: Path) -> None:
    with subject_db(tmp_path / "k.db", SUBJECT) as db:
        path = db.path
    older = tmp_path / "older.db"
    older.write_bytes(path.read_bytes())
    login(path)
    assert cli("status", "--db", str(path), "--receipt", str(tmp_path / "r.json")).returncode == 0
    path.write_bytes(older.read_bytes())  # the older copy put back in place
    assert cli("verify", "--db", str(path)).returncode == 0  # consistent on its own
    done = cli("verify", "--db", str(path), "--expect", str(tmp_path / "r.json"))
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert "has no entry" in line and "an older copy" in line


def test_a_consistent_rewrite_inside_the_file_is_caught(tmp_path: Path) -> None:
    """Triggers dropped, the last entry removed and the head stored in the file moved back."""
    with subject_db(tmp_path / "k.db", SUBJECT) as db:
        path = db.path
    login(path)
    with storage.open_database(path, readonly=True) as db:
        printed = storage.audit_chain_head(db).hash
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute("DROP TRIGGER audit_log_no_delete")
            last = conn.execute("SELECT max(seq) FROM audit_log").fetchone()[0]
            conn.execute("DELETE FROM audit_log WHERE seq=?", [last])
            head = conn.execute("SELECT hash FROM audit_log WHERE seq=?", [last - 1]).fetchone()
            conn.execute("UPDATE devices SET audit_seq=?, audit_head=?", [last - 1, head[0]])
            conn.execute(
                "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END"
            )
    finally:
        conn.close()
    assert storage.verify_database(path).ok  # nothing inside the file shows it
    result = storage.verify_database(path, expect=storage.parse_expected(printed))
    assert not result.ok
    assert "no chain holds it" in result.message


def test_a_rewritten_entry_under_an_expected_head_is_named(tmp_path: Path) -> None:
    with subject_db(tmp_path / "k.db", SUBJECT) as db:
        device, seq, _ = storage.audit_chain_head(db).chains[0]
        path = db.path
    result = storage.verify_database(
        path, expect=storage.parse_expected(f"{device}:{seq}:{'0' * 64}")
    )
    assert not result.ok
    assert f"entry #{seq} of device {device} has another hash" in result.message


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("not json and not a head", "line 1 is not DEVICE:SEQ:HASH"),
        ('{"format": "other"}', "not a receipt of chain heads"),
        ('{"format": "respine-chain-heads/1", "chains": [{"seq": 1}]}', "chain 1 lacks"),
        ("# only a comment\n", "no chain head in it"),
        ("[" * 5000 + "]" * 5000, "line 1 is not DEVICE:SEQ:HASH"),  # too deep for the parser
        ("7" * 5000, "line 1 is not DEVICE:SEQ:HASH"),  # more digits than Python converts
    ],
)
def test_a_bad_expect_is_one_line_exit_2(tmp_path: Path, content: str, message: str) -> None:
    with subject_db(tmp_path / "k.db", SUBJECT) as db:
        path = db.path
    bad = tmp_path / "bad.txt"
    bad.write_text(content)
    done = cli("verify", "--db", str(path), "--expect", str(bad))
    assert done.returncode == 2
    (line,) = done.stderr.strip().splitlines()
    assert message in line
    done = cli("verify", "--db", str(path), "--expect", "abc")
    assert done.returncode == 2
    assert "not a 64-digit hash, DEVICE:SEQ:HASH or a receipt file" in done.stderr


def test_a_receipt_is_never_written_over_a_device(tmp_path: Path) -> None:
    with subject_db(tmp_path / "k.db", SUBJECT) as db:
        path = db.path
    done = cli("status", "--db", str(path), "--receipt", "/dev/null")
    assert done.returncode == 2
    assert "not a file" in done.stderr
    assert Path("/dev/null").is_char_device()
