"""Signed-in commands (issue 13): every command that writes, exports or changes keys is refused
without sign-in and with a role the matrix does not allow (one line, exit 2, nothing written but
the audit entry of the refusal), and audited with its actor, arguments and files once it ran."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import cli, demo, storage
from respine_desktop.cli import _roles, _signin
from respine_desktop.storage import AuditEntry
from tests.support.cli import ROOT, main_py
from tests.support.exports import DATA_TABLES, controlled_clock, scenario_db, table_digest

DM, DM_PIN = "dm", "482915"
SIGNED = [key for key, rule in _roles.MATRIX.items() if rule.roles is not None]
PINS = {"admin": demo.DEMO_ADMIN_PIN, "coord": "731592", "inv": "594318", DM: DM_PIN}
USER_OF_ROLE = {"admin": "admin", "coordinator": "coord", "investigator": "inv", "data_manager": DM}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three subjects with visits, an admin, coord, inv and a data manager ``dm``."""
    path = tmp_path_factory.mktemp("signin") / "base.db"
    with controlled_clock():
        scenario_db(path)
        with storage.open_database(path) as db:
            admin = storage.authenticate(db, "admin", PINS["admin"])
            storage.create_staff(db, admin, DM, "data_manager", DM_PIN)
    return path


@pytest.fixture
def db(base: Path, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "study.db"
    shutil.copy(base, path)
    yield path


def argv_of(key: str, db: Path, out: Path) -> list[str | Path]:
    """The command line of `key` without sign-in, every output under `out`."""
    return {
        "demo": ["demo", "--db", db, "--subjects", "1"],
        "backup": ["backup", "--db", db, "--out", out / "b.db"],
        "export csv": ["export", "csv", "--db", db, "--out", out / "csv"],
        "export odm": ["export", "odm", "--db", db, "--out", out / "x.xml"],
        "export redcap": ["export", "redcap", "--db", db, "--out", out / "rc"],
        "export bundle": ["export", "bundle", "--db", db, "--out", out / "k.bundle"],
        "export key": ["export", "key", "--db", db, "--out", out / "site.key"],
        "import bundle": ["import", "bundle", "--db", db, out / "k.bundle"],
        "import key": ["import", "key", "--db", db, out / "site.key"],
        "report patient": [
            *("report", "patient", "--db", db, "--subject", "RSP-01-001"),
            *("--out", out / "p.pdf"),
        ],
        "report study": ["report", "study", "--db", db, "--out", out / "s.pdf"],
        "export stats": ["export", "stats", "--db", db, "--out", out / "stats"],
        "export device": ["export", "device", "--db", db, "--out", out / "kiosk.device"],
        "export hub-key": ["export", "hub-key", "--db", db, "--out", out / "hub.key"],
        "import device": ["import", "device", "--db", db, out / "kiosk.device"],
        "import hub-key": ["import", "hub-key", "--db", db, out / "hub.key"],
        "device revoke": ["device", "revoke", "--db", db, "d-1", "--reason", "lost"],
        "device hmac-bundles": ["device", "hmac-bundles", "--db", db, "refuse"],
        "import translation": ["import", "translation", "--db", db, out / "xx.json"],
        "sign": [
            *("sign", "--db", db, "--subject", "RSP-01-001", "--visit", "M12"),
            *("--meaning", "reviewed"),
        ],
    }[key]


def entries(db: Path) -> list[AuditEntry]:
    with storage.open_database(db, readonly=True) as opened:
        return storage.audit_entries(opened)


def one_line(run: subprocess.CompletedProcess[str], *words: str) -> str:
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


def test_every_command_and_subcommand_is_in_the_role_matrix() -> None:
    leaves = {key for key, _ in _signin.leaf_parsers(cli.build_parser())}
    assert leaves == set(_roles.MATRIX), "a command was added: give it a line in cli/_roles.py"
    assert _roles.rule_for("new command") == _roles.UNLISTED
    assert _roles.UNLISTED.roles == ("admin",)
    assert _roles.rule_for("export key").roles == ("admin",)
    assert set(_roles.rule_for("import bundle").roles or ()) == {"admin", "data_manager"}


def test_the_documented_role_matrix_is_the_code_s() -> None:
    doc = (ROOT / "docs" / "security-access.md").read_text(encoding="utf-8")
    found = re.search(r"<!-- role-matrix -->\n(.*?)<!-- /role-matrix -->", doc, re.S)
    assert found is not None
    assert found.group(1) == _roles.markdown_table()


@pytest.mark.parametrize("key", SIGNED)
def test_refused_without_sign_in_and_with_a_wrong_role_audited(
    key: str, db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    data = table_digest(db, DATA_TABLES)
    before = len(entries(db))
    run = main_py(*argv_of(key, db, out), sign_in=False)
    one_line(run, f"'{key}' needs a signed-in user", "--user")
    assert list(out.iterdir()) == [] and table_digest(db, DATA_TABLES) == data
    (refused,) = entries(db)[before:]
    assert refused.action == "command.refused" and refused.actor is None
    assert refused.payload["command"] == key and refused.payload["reason"] == "not signed in"
    roles = _roles.rule_for(key).roles or ()
    outsiders = [r for r in ("coordinator", "investigator", "data_manager") if r not in roles]
    for role in outsiders[:1]:  # every role may write a patient's PDF: no outsider there
        user = USER_OF_ROLE[role]
        run = main_py(*argv_of(key, db, out), user=user, pin=PINS[user])
        one_line(run, f"'{user}' ({role}) may not run '{key}'")
        assert list(out.iterdir()) == [] and table_digest(db, DATA_TABLES) == data
        signed, refused = entries(db)[before + 1 :]
        assert signed.action == "login.succeeded"
        assert refused.action == "command.refused" and refused.payload["reason"] == "role"
        assert refused.payload["user"] == user and refused.actor == signed.actor
    assert key == "report patient" or outsiders


def test_a_command_that_ran_is_audited_with_its_actor_arguments_and_files(
    db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "csv"
    run = main_py("export", "csv", "--db", db, "--out", out, user="inv", pin=PINS["inv"])
    assert run.returncode == 0, run.stderr
    signed, done = entries(db)[-2:]
    assert (signed.action, done.action) == ("login.succeeded", "command.run")
    assert done.actor == signed.actor and done.entity == "command"
    assert done.payload["user"] == "inv" and done.payload["role"] == "investigator"
    assert done.payload["arguments"] == {
        "command": "export",
        "db": str(db),
        "format": "csv",
        "out": str(out),
        "workers": None,
    }
    files = {Path(f["path"]).name: f["sha256"] for f in done.payload["files"]}
    assert files == {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(out.iterdir())
    }
    assert len(files) == 4  # answers_long, visits_wide, codebook, audit_trail
    assert PINS["inv"] not in str(done.payload) + str(signed.payload)
    key = tmp_path / "site.key"
    assert main_py("export", "key", "--db", db, "--out", key).returncode == 0
    (written,) = entries(db)[-1].payload["files"]
    assert written["sha256"] == hashlib.sha256(key.read_bytes()).hexdigest()


def test_a_wrong_pin_or_an_old_pin_is_refused_in_one_line(db: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.xml"
    before = len(entries(db))
    run = main_py("export", "odm", "--db", db, "--out", out, user="inv", pin="999999")
    one_line(run, "wrong PIN for 'inv'")
    failed, refused = entries(db)[before:]
    assert failed.action == "login.failed" and refused.payload["reason"] == "WrongPin"
    # A 4-digit PIN of an older version still matches, but the command line asks for a new one.
    with storage.open_database(db) as opened, opened.conn:
        opened.conn.execute(
            "UPDATE staff SET pin_hash=? WHERE username='inv'", [storage_hash("2468")]
        )
    run = main_py("export", "odm", "--db", db, "--out", out, user="inv", pin="2468")
    one_line(run, "no longer meets the PIN policy", "console")
    assert entries(db)[-1].payload["reason"] == "PIN must be changed"
    run = main_py("export", "odm", "--db", db, "--out", out, user="ghost", pin="482915")
    one_line(run, "no staff account 'ghost'")
    assert "ghost" not in str(entries(db)[-1].payload)  # what was typed is not stored
    assert not out.exists()


def storage_hash(pin: str) -> str:
    from respine_desktop.storage import _staff

    return _staff.hash_pin(pin)


def test_the_pin_is_never_an_argument_and_needs_a_terminal_or_stdin(
    db: Path, tmp_path: Path
) -> None:
    out = tmp_path / "x.xml"
    base = ["export", "odm", "--db", db, "--out", out, "--user", "admin"]
    run = main_py(*base, "--pin", PINS["admin"], sign_in=False)
    assert run.returncode == 2 and "unrecognized arguments" in run.stderr
    run = main_py(*base, sign_in=False)  # stdin is not a terminal
    one_line(run, "--pin-stdin")
    assert not out.exists()


def test_demo_creates_a_file_without_sign_in_and_prints_its_accounts(tmp_path: Path) -> None:
    path = tmp_path / "demo.db"
    run = main_py("demo", "--db", path, "--subjects", "1", sign_in=False)
    assert run.returncode == 0, run.stderr
    accounts = (
        f"admin/{demo.DEMO_ADMIN_PIN}",
        f"coord/{demo.DEMO_COORDINATOR_PIN}",
        f"inv/{demo.DEMO_INVESTIGATOR_PIN}",
    )
    assert all(a in run.stdout for a in accounts)
    for pin in (demo.DEMO_ADMIN_PIN, demo.DEMO_COORDINATOR_PIN, demo.DEMO_INVESTIGATOR_PIN):
        storage.check_pin_policy(pin)
    assert entries(path)[-1].action == "command.run" and entries(path)[-1].actor is None
    one_line(main_py("demo", "--db", path, "--subjects", "1", sign_in=False), "--user")
    assert main_py("demo", "--db", path, "--subjects", "1", "--first", "5").returncode == 0
