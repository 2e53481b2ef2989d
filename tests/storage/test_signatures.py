"""Electronic signatures (21 CFR Part 11, issue 13): username and PIN typed again, a role that may
sign, the SHA-256 of what was signed, broken by a later correction and valid again once signed
again; append-only, audited, replayed by `verify`."""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.storage import StudyDb
from respine_desktop.storage import _signed_content as content
from respine_desktop.storage._driver import sqlite3
from tests.support.exports import NOW, controlled_clock, scenario_db
from tests.support.storage import ADMIN_PIN, COORD_PIN, INV_PIN, inv

S1 = "RSP-01-001"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("signatures") / "base.db"
    scenario_db(path)
    return path


@pytest.fixture
def db(base: Path, tmp_path: Path) -> Iterator[StudyDb]:
    path = tmp_path / "study.db"
    shutil.copy(base, path)
    with controlled_clock(NOW + timedelta(days=1)), storage.open_database(path) as opened:
        yield opened


def count(db: StudyDb, table: str) -> int:
    return int(db.conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


@pytest.mark.req("SIG-01")
def test_a_fresh_re_entry_proof_signs_and_a_stale_one_signs_nothing(db: StudyDb) -> None:
    proof = storage.reauthenticate(db, inv(db), INV_PIN, username="inv")
    sig = storage.sign(db, proof=proof, subject_code=S1, visit_code="M12", meaning="reviewed")
    assert (sig.username, sig.role, sig.meaning) == ("inv", "investigator", "reviewed")
    coord = storage.reauthenticate(db, storage.get_staff(db, "coord"), COORD_PIN)
    with pytest.raises(storage.PermissionDenied, match="may not sign"):
        storage.sign(db, proof=coord, subject_code=S1, meaning="reviewed")
    later = controlled_clock(NOW + timedelta(days=1, minutes=10))
    with later, pytest.raises(storage.PermissionDenied, match="too long ago"):
        storage.sign(db, proof=proof, subject_code=S1, meaning="reviewed")
    assert len(storage.list_signatures(db)) == 1


@pytest.mark.req("SIG-02")
def test_a_signed_visit_records_signer_meaning_time_and_the_hash_of_what_was_signed(
    db: StudyDb,
) -> None:
    sig = storage.sign(db, username="inv", pin=INV_PIN, subject_code=S1, visit_code="M12",
                       meaning="approved")  # fmt: skip
    assert (sig.username, sig.role, sig.meaning) == ("inv", "investigator", "approved")
    assert sig.statement == "I approve these data as accurate and complete"
    assert sig.signed_at.startswith((NOW + timedelta(days=1)).date().isoformat())
    assert sig.device_id == db.device_id and sig.target == f"{S1} M12"
    text = content.visit_text(db, S1, "M12")
    assert sig.content_sha256 == hashlib.sha256(text.encode()).hexdigest()
    assert '"visit":"M12"' in text and "vas_pain" in text and '"scores"' in text
    (state,) = storage.signature_states(db)
    assert state.state == "valid" and state.signature == sig
    last = storage.audit_entries(db)[-1]
    assert last.action == "signature.signed" and last.entity_id == sig.id
    assert last.actor == inv(db).id
    assert last.payload["content_sha256"] == sig.content_sha256
    assert "signatures" in last.payload["rows_after"]
    db.close()
    result = storage.verify_database(db.path)
    assert result.ok, result.message


@pytest.mark.req("SIG-03")
def test_a_correction_breaks_the_visit_s_and_the_subject_s_signature_until_signed_again(
    db: StudyDb,
) -> None:
    visit = storage.sign(db, username="inv", pin=INV_PIN, subject_code=S1, visit_code="M6",
                         meaning="reviewed")  # fmt: skip
    other = storage.sign(db, username="inv", pin=INV_PIN, subject_code=S1, visit_code="M12",
                         meaning="reviewed")  # fmt: skip
    whole = storage.sign(db, username="admin", pin=ADMIN_PIN, subject_code=S1,
                         meaning="responsibility")  # fmt: skip
    assert whole.target_kind == "subject" and whole.role == "admin"
    assert {s.state for s in storage.signature_states(db, S1)} == {"valid"}
    m6 = storage.chosen_session(db, S1, "M6")
    assert m6 is not None
    storage.correct_answer(db, m6, "odi_02", 3, staff=inv(db), reason="misread by the patient")
    states = {s.signature.id: s.state for s in storage.signature_states(db, S1)}
    assert states == {visit.id: "broken", other.id: "valid", whole.id: "broken"}
    again = storage.sign(db, username="inv", pin=INV_PIN, subject_code=S1, visit_code="M6",
                         meaning="reviewed")  # fmt: skip
    states = {s.signature.id: s.state for s in storage.signature_states(db, S1)}
    assert states[again.id] == "valid" and states[visit.id] == "broken"
    assert again.content_sha256 != visit.content_sha256
    assert [s.id for s in storage.list_signatures(db, S1)] == [visit.id, other.id, whole.id,
                                                                again.id]  # fmt: skip
    assert storage.list_signatures(db, "RSP-01-002") == []


@pytest.mark.req("SIG-01")
def test_a_wrong_pin_another_role_or_nothing_to_sign_is_refused_and_nothing_signed(
    db: StudyDb,
) -> None:
    def attempt(**kw: str) -> None:
        args = {"username": "inv", "pin": INV_PIN, "subject_code": S1, "visit_code": "M12",
                "meaning": "reviewed", **kw}  # fmt: skip
        storage.sign(db, **args)

    with pytest.raises(storage.WrongPin):
        attempt(pin="111111")
    assert storage.audit_entries(db)[-1].action == "login.failed"
    assert storage.get_staff(db, "inv").failed_attempts == 1
    with pytest.raises(storage.PermissionDenied, match=r"'coord' \(coordinator\) may not sign"):
        attempt(username="coord", pin=COORD_PIN)
    with pytest.raises(storage.UnknownStaff):
        attempt(username="nobody")
    with pytest.raises(storage.InvalidInput, match="username and PIN"):
        attempt(pin="")
    with pytest.raises(storage.InvalidInput, match="unknown signature meaning 'ok'"):
        attempt(meaning="ok")
    with pytest.raises(storage.InvalidInput, match="unknown signature meaning 'performed'"):
        attempt(meaning="performed")
    with pytest.raises(storage.InvalidInput, match="M3: no questionnaire session"):
        attempt(visit_code="M3")  # marked missed
    with pytest.raises(storage.InvalidInput, match="RSP-01-003: no questionnaire session"):
        storage.sign(db, username="inv", pin=INV_PIN, subject_code="RSP-01-003",
                     meaning="reviewed")  # fmt: skip
    with pytest.raises(storage.InvalidInput, match=r"M3: the questionnaires are not submitted"):
        attempt(subject_code="RSP-01-002", visit_code="M3")  # parked after the VAS
    with pytest.raises(storage.UnknownVisit):
        attempt(visit_code="M99")
    with pytest.raises(storage.UnknownSubject):
        attempt(subject_code="RSP-01-999")
    assert count(db, "signatures") == 0


@pytest.mark.req("SIG-02")
def test_signatures_are_append_only_and_an_edited_row_fails_verify(db: StudyDb) -> None:
    storage.sign(db, username="inv", pin=INV_PIN, subject_code=S1, visit_code="M12",
                 meaning="approved")  # fmt: skip
    for sql in ("UPDATE signatures SET meaning='reviewed'", "DELETE FROM signatures"):
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.conn.execute(sql)
    path = db.path
    db.close()
    raw = sqlite3.connect(path)
    raw.execute("DROP TRIGGER signatures_no_update")
    raw.execute("UPDATE signatures SET role='admin'")
    raw.commit()
    raw.close()
    result = storage.verify_database(path)
    assert not result.ok and "table signatures row" in result.message
    assert "column role" in result.message


def test_any_active_staff_member_signs_a_document_by_its_sha256(db: StudyDb) -> None:
    digest = hashlib.sha256(b"qualification results").hexdigest()
    sig = storage.sign_document(db, username="coord", pin=COORD_PIN, document_sha256=digest,
                                title="Qualification report")  # fmt: skip
    assert (sig.meaning, sig.target_kind, sig.target_id) == ("performed", "document", digest)
    assert sig.statement == "I performed this qualification" and sig.subject_code is None
    assert storage.signature_states(db)[0].state == "valid"
    with pytest.raises(storage.InvalidInput, match="64 lowercase hex"):
        storage.sign_document(db, username="coord", pin=COORD_PIN, document_sha256="abc",
                              title="x")  # fmt: skip
    with pytest.raises(storage.InvalidInput, match="title"):
        storage.sign_document(db, username="coord", pin=COORD_PIN, document_sha256=digest,
                              title=" ")  # fmt: skip
    assert count(db, "signatures") == 1
    assert set(storage.SIGNATURE_MEANINGS) == {"reviewed", "approved", "responsibility",
                                               "performed"}  # fmt: skip
    assert all(fr and en != fr for en, fr in storage.SIGNATURE_MEANINGS.values())


@pytest.mark.req("SIG-02")
def test_a_kiosk_s_signature_stays_on_the_kiosk_and_its_bundle_still_merges(
    tmp_path: Path,
) -> None:
    """The bundle format is unchanged: a signature's audit entry travels in the kiosk's chain,
    the row does not; the hub merges it and both files verify."""
    from tests.support.exports import TODAY, do_visit, export, hub_and_kiosks, merge
    from tests.support.storage import coord

    with hub_and_kiosks(tmp_path) as (hub, a, _, c):
        day0 = TODAY - timedelta(days=40)
        with storage.open_database(a) as db:
            storage.register_subject(db, "RSP-01-040", day0=day0, staff=coord(db))
            do_visit(db, c, "RSP-01-040", "M0", day0, vas=70.0, odi=3, sf36=3)
            storage.sign(db, username="inv", pin=INV_PIN, subject_code="RSP-01-040",
                         visit_code="M0", meaning="reviewed")  # fmt: skip
        export(a, tmp_path / "a.bundle")
        merge(hub, tmp_path / "a.bundle")
        with storage.open_database(hub, readonly=True) as db:
            assert storage.list_signatures(db) == []
            assert storage.get_subject(db, "RSP-01-040").code == "RSP-01-040"
            kiosk_entries = [e.action for e in storage.audit_entries(db)]
        assert "signature.signed" in kiosk_entries
        for path in (hub, a):
            result = storage.verify_database(path)
            assert result.ok, result.message
