"""Encryption at rest through `python main.py ...`: init, encrypt, rekey, remember-key,
forget-key, status, and every command on an encrypted database with its passphrase."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

from respine_desktop import storage
from tests.cli.test_cli_db import digest, main, one_line_error
from tests.support.cli import ADMIN_PIN, signed_in
from tests.support.encryption import (
    OTHER_PASSPHRASE,
    PASSPHRASE,
    found_secrets,
    key_env,
)
from tests.support.exports import DATA_TABLES, table_digest

__all__ = ["key_env"]  # the fixture, imported

WRONG = "wrong passphrase or key"


def respine(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The one place this file runs a command: signed in as the administrator where the command
    needs it, the PIN line after `stdin` (the passphrase is read first, then the PIN)."""
    _, pin = signed_in(list(args))
    return main(*args, stdin=stdin + (pin or ""))


def init(path: Path, sheet: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return respine(
        "init",
        "--db",
        str(path),
        "--admin-pin",
        ADMIN_PIN,
        "--recovery-sheet",
        str(sheet),
        "--passphrase-stdin",
        *more,
        stdin=PASSPHRASE + "\n",
    )


def test_init_makes_an_encrypted_database_that_every_command_opens_with_its_passphrase(
    tmp_path: Path, key_env: Path
) -> None:
    path, sheet = tmp_path / "site.db", tmp_path / "sheet.txt"
    result = init(path, sheet)
    assert result.returncode == 0, result.stderr
    assert "encrypted (SQLCipher 4, key id" in result.stdout
    assert "recovery sheet written to" in result.stdout
    assert "Recovery code" in sheet.read_text()
    status = respine("status", "--db", str(path), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert status.returncode == 0, status.stderr
    assert re.search(r"^encryption +encrypted \(SQLCipher 4, key id", status.stdout, re.M)
    as_json = respine(
        "status", "--db", str(path), "--json", "--passphrase-stdin", stdin=PASSPHRASE + "\n"
    )
    assert '"encryption": "encrypted (SQLCipher 4' in as_json.stdout
    verify = respine("verify", "--db", str(path), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    assert verify.returncode == 0, verify.stderr
    backup = respine(
        "backup",
        "--db",
        str(path),
        "--out",
        str(tmp_path / "b.db"),
        "--passphrase-stdin",
        stdin=PASSPHRASE + "\n",
    )
    assert backup.returncode == 0, backup.stderr
    assert found_secrets(path, tmp_path / "b.db") == []
    # Again on the same file: opened with the passphrase, nothing changed.
    before = digest(path)
    again = respine(
        "init",
        "--db",
        str(path),
        "--admin-pin",
        ADMIN_PIN,
        "--passphrase-stdin",
        stdin=PASSPHRASE + "\n",
    )
    assert again.returncode == 0 and "already initialised" in again.stdout, again.stderr
    assert digest(path) == before


def test_a_wrong_or_missing_passphrase_is_one_line_and_writes_nothing(
    tmp_path: Path, key_env: Path
) -> None:
    path = tmp_path / "site.db"
    assert init(path, tmp_path / "sheet.txt").returncode == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    before = digest(path)
    for command in (["status"], ["verify"], ["demo"], ["init", "--admin-pin", ADMIN_PIN]):
        result = respine(*command, "--db", str(path), "--passphrase-stdin", stdin="not it at all\n")
        one_line_error(result, 2, WRONG)
        missing = respine(*command, "--db", str(path))  # no terminal, nothing stored
        one_line_error(missing, 2, "not unlocked on this machine")
    empty = respine("status", "--db", str(path), "--passphrase-stdin")
    one_line_error(empty, 2, "no passphrase on standard input")
    assert sorted(p.name for p in tmp_path.iterdir()) == names and digest(path) == before
    assert list(key_env.iterdir()) == []


def test_init_refuses_to_make_an_encrypted_database_without_its_recovery_sheet(
    tmp_path: Path, key_env: Path
) -> None:
    path = tmp_path / "site.db"
    no_sheet = respine("init", "--db", str(path), "--admin-pin", ADMIN_PIN, "--passphrase-stdin")
    one_line_error(no_sheet, 2, "--recovery-sheet FILE is required")
    (tmp_path / "taken.txt").write_text("x")
    taken = init(path, tmp_path / "taken.txt")
    one_line_error(taken, 2, "exists already")
    short = respine(
        "init",
        "--db",
        str(path),
        "--admin-pin",
        ADMIN_PIN,
        "--recovery-sheet",
        str(tmp_path / "s.txt"),
        "--passphrase-stdin",
        stdin="short\n",
    )
    one_line_error(short, 2, "at least 12 characters")
    no_terminal = respine(
        "init", "--db", str(path), "--admin-pin", ADMIN_PIN, "--recovery-sheet", str(tmp_path / "s")
    )
    one_line_error(no_terminal, 2, "type it in a terminal or give it with --passphrase-stdin")
    plain_sheet = respine(
        "init", "--plaintext", "--db", str(path), "--admin-pin", ADMIN_PIN, "--remember-key"
    )
    one_line_error(plain_sheet, 2, "no key to keep")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["taken.txt"]


def test_plaintext_and_demo_databases_say_so_and_demo_refuses_the_others(
    tmp_path: Path, key_env: Path
) -> None:
    test_db, demo_db = tmp_path / "test.db", tmp_path / "demo.db"
    made = respine("init", "--plaintext", "--db", str(test_db), "--admin-pin", ADMIN_PIN)
    assert made.returncode == 0, made.stderr
    status = respine("status", "--db", str(test_db))
    assert "NOT ENCRYPTED (demo/test: created as a test database)" in status.stdout
    # Refused after the administrator's sign-in (the role matrix): no data written, the audit
    # log gains the sign-in only.
    before = table_digest(test_db, DATA_TABLES)
    with storage.open_database(test_db, readonly=True) as db:
        entries = {e.id for e in storage.audit_entries(db)}
    one_line_error(respine("demo", "--db", str(test_db)), 2, "not a demo database")
    assert table_digest(test_db, DATA_TABLES) == before
    with storage.open_database(test_db, readonly=True) as db:
        added = [e.action for e in storage.audit_entries(db) if e.id not in entries]
    assert added == ["login.succeeded"]
    assert respine("demo", "--db", str(demo_db), "--subjects", "1").returncode == 0
    assert respine("demo", "--db", str(demo_db), "--subjects", "1", "--first", "2").returncode == 0
    status = respine("status", "--db", str(demo_db))
    assert "NOT ENCRYPTED (demo/test: created as a demo database)" in status.stdout
    encrypted = tmp_path / "site.db"
    assert init(encrypted, tmp_path / "sheet.txt").returncode == 0
    refused = respine("demo", "--db", str(encrypted), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    one_line_error(refused, 2, "not a demo database")


def test_encrypt_rekey_and_the_key_store_round_trip(tmp_path: Path, key_env: Path) -> None:
    path = tmp_path / "site.db"
    assert respine("demo", "--db", str(path), "--subjects", "2").returncode == 0
    assert found_secrets(path)
    encrypt = respine(
        "encrypt",
        "--db",
        str(path),
        "--recovery-sheet",
        str(tmp_path / "sheet.txt"),
        "--passphrase-stdin",
        "--remember-key",
        stdin=PASSPHRASE + "\n",
    )
    assert encrypt.returncode == 0, encrypt.stderr
    assert found_secrets(path) == []
    again = respine("encrypt", "--db", str(path), "--recovery-sheet", str(tmp_path / "s2.txt"))
    one_line_error(again, 2, "encrypted already")
    # Remembered: opens unattended (no passphrase, no terminal).
    status = respine("status", "--db", str(path))
    assert status.returncode == 0 and "encrypted (SQLCipher 4" in status.stdout, status.stderr
    rekey = respine(
        "rekey",
        "--db",
        str(path),
        "--passphrase-stdin",
        stdin=f"{PASSPHRASE}\n{OTHER_PASSPHRASE}\n",
    )
    assert rekey.returncode == 0 and "new passphrase set" in rekey.stdout, rekey.stderr
    wrong = respine(
        "rekey", "--db", str(path), "--passphrase-stdin", stdin=f"{PASSPHRASE}\n{PASSPHRASE}\n"
    )
    one_line_error(wrong, 2, WRONG)
    forget = respine("forget-key", "--db", str(path))
    assert "removed from" in forget.stdout, forget.stderr
    one_line_error(respine("status", "--db", str(path)), 2, "not unlocked on this machine")
    old = respine("status", "--db", str(path), "--passphrase-stdin", stdin=PASSPHRASE + "\n")
    one_line_error(old, 2, WRONG)
    remember = respine(
        "remember-key", "--db", str(path), "--passphrase-stdin", stdin=OTHER_PASSPHRASE + "\n"
    )
    assert remember.returncode == 0 and "readable by this user only" in remember.stdout
    assert respine("verify", "--db", str(path)).returncode == 0
    # The recovery sheet sets a new passphrase even with the key file gone.
    code = " ".join(re.findall(r"^    ([0-9a-f-]+)$", (tmp_path / "sheet.txt").read_text(), re.M))
    (tmp_path / "site.db.key").unlink()
    recovered = respine(
        "rekey",
        "--db",
        str(path),
        "--recovery",
        "--passphrase-stdin",
        stdin=f"{code}\n{PASSPHRASE}\n",
    )
    assert recovered.returncode == 0, recovered.stderr
    plain = tmp_path / "plain.db"
    respine("init", "--plaintext", "--db", str(plain), "--admin-pin", ADMIN_PIN)
    not_encrypted = respine(
        "rekey", "--db", str(plain), "--passphrase-stdin", stdin=f"{PASSPHRASE}\n"
    )
    one_line_error(not_encrypted, 2, "not encrypted")
