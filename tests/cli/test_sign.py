"""`sign` and `signatures` (issue 13, Part 11): a real process signs a visit with the username
and PIN on standard input, lists it valid, a correction shows it BROKEN; bad input is one line,
exit 2, and no signature written."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from respine_desktop import storage
from tests.support.cli import main_py
from tests.support.exports import controlled_clock, scenario_db
from tests.support.storage import INV_PIN, inv

S1 = "RSP-01-001"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sign") / "base.db"
    scenario_db(path)
    return path


@pytest.fixture
def db(base: Path, tmp_path: Path) -> Path:
    path = tmp_path / "study.db"
    shutil.copy(base, path)
    return path


def signatures_in(db: Path) -> list[storage.Signature]:
    with storage.open_database(db, readonly=True) as opened:
        return storage.list_signatures(opened)


def one_line(run: subprocess.CompletedProcess[str], *words: str) -> str:
    assert run.returncode == 2, run.stdout + run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), run.stderr
    assert all(w in lines[0] for w in words), lines[0]
    return lines[0]


@pytest.mark.req("SIG-01", "SIG-03")
def test_sign_a_visit_then_list_it_valid_then_broken_by_a_correction(db: Path) -> None:
    run = main_py("sign", "--db", db, "--subject", S1, "--visit", "M1", "--meaning", "approved",
                  user="inv", pin=INV_PIN)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert f"signed       {S1} M1" in run.stdout and "by           inv (investigator)" in run.stdout
    assert "I approve these data as accurate and complete" in run.stdout
    assert "J'approuve ces données" in run.stdout
    (sig,) = signatures_in(db)
    assert sig.content_sha256 in run.stdout
    with storage.open_database(db, readonly=True) as opened:
        actions = [e.action for e in storage.audit_entries(opened)[-4:]]
    # the command's sign-in, the signature's own check of both components, the signature
    assert actions == ["login.succeeded", "login.succeeded", "signature.signed", "command.run"]
    with storage.open_database(db, readonly=True) as opened:
        assert INV_PIN not in str([e.payload for e in storage.audit_entries(opened)])
    listed = main_py("signatures", "--db", db, "--subject", S1)
    assert listed.returncode == 0, listed.stderr
    assert listed.stdout.strip().endswith(f"inv (investigator)  approved  {S1} M1  valid")
    with controlled_clock(), storage.open_database(db) as opened:
        m1 = storage.chosen_session(opened, S1, "M1")
        assert m1 is not None
        storage.correct_answer(opened, m1, "odi_05", 1, staff=inv(opened), reason="misread")
    listed = main_py("signatures", "--db", db, "--json")
    (row,) = json.loads(listed.stdout)
    assert (row["state"], row["username"], row["meaning"]) == ("broken", "inv", "approved")
    assert "BROKEN" in main_py("signatures", "--db", db).stdout
    assert main_py("verify", "--db", db).returncode == 0


@pytest.mark.req("SIG-05")
@pytest.mark.parametrize(
    ("argv", "user", "pin", "words"),
    [
        (["--subject", S1, "--visit", "M1", "--meaning", "approved"], "inv", "000111",
         ("wrong PIN for 'inv'",)),
        (["--subject", S1, "--visit", "M1", "--meaning", "approved"], "coord", "731592",
         ("'coord' (coordinator) may not run 'sign'",)),
        (["--subject", "RSP-01-999", "--meaning", "reviewed"], "inv", INV_PIN,
         ("RSP-01-999",)),
        (["--subject", S1, "--visit", "M3", "--meaning", "reviewed"], "inv", INV_PIN,
         ("M3: no questionnaire session to sign",)),
        (["--subject", S1, "--visit", "M99", "--meaning", "reviewed"], "inv", INV_PIN,
         ("M99",)),
    ],
)  # fmt: skip
def test_bad_input_is_one_line_exit_2_and_nothing_signed(
    db: Path, argv: list[str], user: str, pin: str, words: tuple[str, ...]
) -> None:
    one_line(main_py("sign", "--db", db, *argv, user=user, pin=pin), *words)
    assert signatures_in(db) == []


@pytest.mark.req("SIG-05")
def test_usage_errors_and_a_missing_database(db: Path, tmp_path: Path) -> None:
    run = main_py("sign", "--db", db, "--subject", S1, "--meaning", "ok", user="inv", pin=INV_PIN)
    assert run.returncode == 2 and "invalid choice: 'ok'" in run.stderr
    run = main_py("sign", "--db", db, "--subject", S1, "--meaning", "approved", sign_in=False)
    one_line(run, "'sign' needs a signed-in user")
    one_line(main_py("signatures", "--db", db, "--subject", "RSP-01-999"), "RSP-01-999")
    missing = tmp_path / "none.db"
    one_line(main_py("signatures", "--db", missing), str(missing))
    assert not missing.exists()
    assert signatures_in(db) == []
    assert main_py("signatures", "--db", db).stdout.strip() == "no signatures"
