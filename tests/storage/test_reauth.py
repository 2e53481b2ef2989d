"""Re-entry of credentials (21 CFR 11.200) checked in the domain: `storage.reauthenticate` and
the proof that `correct_answer` and `resolve_conflict` take in place of the staff."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.storage import (
    AccountLocked,
    InvalidInput,
    PermissionDenied,
    StudyDb,
    WrongPin,
)
from tests.support.console import (
    COMPLETE,
    INVESTIGATOR,
    INVESTIGATOR_PIN,
    make_console_db,
    staff_of,
)
from tests.support.exports import controlled_clock


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StudyDb]:
    with storage.open_database(make_console_db(tmp_path / "console.db")) as opened:
        yield opened


def m0_session(db: StudyDb) -> str:
    session_id = storage.subject_visit(db, COMPLETE, "M0").session_id
    assert session_id is not None
    return session_id


def test_a_correction_with_reentered_credentials_records_when_they_were_entered(
    db: StudyDb,
) -> None:
    inv = staff_of(db, INVESTIGATOR)
    proof = storage.reauthenticate(db, inv, INVESTIGATOR_PIN, username=INVESTIGATOR)
    assert proof.staff.id == inv.id and proof.with_username
    storage.correct_answer(db, m0_session(db), "vas_pain", 25.0, staff=proof, reason="source")
    (entry,) = storage.audit_entries(db, action="answer.corrected")
    assert entry.actor == inv.id
    assert entry.payload["credentials_reentered_at"] == proof.at
    result = storage.verify_database(db.path)
    assert result.ok, result.message


def test_a_wrong_pin_counts_toward_the_lockout_and_the_fifth_locks(db: StudyDb) -> None:
    inv = staff_of(db, INVESTIGATOR)
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongPin, match=f"{left} attempts left"):
            storage.reauthenticate(db, inv, "111222")
    with pytest.raises(AccountLocked, match="locked for 5 minutes"):
        storage.reauthenticate(db, inv, "111222")
    # Locked: even the right PIN is refused now, and no proof is made.
    with pytest.raises(AccountLocked, match="locked for another"):
        storage.reauthenticate(db, inv, INVESTIGATOR_PIN)
    assert len(storage.audit_entries(db, action="staff.locked")) == 1
    assert len(storage.audit_entries(db, action="answer.corrected")) == 0


def test_another_accounts_username_is_refused_without_counting(db: StudyDb) -> None:
    inv = staff_of(db, INVESTIGATOR)
    before = storage.audit_entries(db)
    with pytest.raises(InvalidInput, match="signed-in account 'inv'"):
        storage.reauthenticate(db, inv, INVESTIGATOR_PIN, username="coord")
    assert staff_of(db, "coord").failed_attempts == 0
    assert staff_of(db, INVESTIGATOR).failed_attempts == 0
    assert storage.audit_entries(db) == before


def test_a_forged_foreign_or_stale_proof_is_refused_and_nothing_written(
    db: StudyDb, tmp_path: Path
) -> None:
    inv = staff_of(db, INVESTIGATOR)
    session_id = m0_session(db)
    proof = storage.reauthenticate(db, inv, INVESTIGATOR_PIN)
    forged = storage.Reauthenticated(staff=inv, at=proof.at, path=proof.path, with_username=False)
    with pytest.raises(PermissionDenied, match="not re-entered"):
        storage.correct_answer(db, session_id, "vas_pain", 25.0, staff=forged, reason="x")
    foreign = dataclasses.replace(proof, path=str(tmp_path / "other.db"))
    with pytest.raises(PermissionDenied, match="another database"):
        storage.correct_answer(db, session_id, "vas_pain", 25.0, staff=foreign, reason="x")
    with controlled_clock() as c:
        made = datetime.fromisoformat(proof.at.replace("Z", "+00:00"))
        c.at(made + storage.REAUTH_VALID + timedelta(seconds=1))
        with pytest.raises(PermissionDenied, match="too long ago"):
            storage.resolve_conflict(db, COMPLETE, "M0", session_id, staff=proof, reason="x")
    assert len(storage.answer_history(db, session_id, "vas_pain")) == 1
    assert storage.audit_entries(db, action="answer.corrected") == []
