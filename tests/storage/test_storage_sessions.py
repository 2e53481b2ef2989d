"""The session lifecycle on a real file: start, answer, park, resume, submit, correct.

Every refused call must leave the database exactly as it was (row counts checked).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from respine_desktop import scoring, storage
from respine_desktop.storage import SKIPPED, StudyDb
from tests.support.storage import (
    NOW,
    SUBJECT,
    TODAY,
    coord,
    fixed_clock,
    full_visit,
    inv,
    row_counts,
)


def started(db: StudyDb) -> storage.Session:
    return storage.start_session(db, SUBJECT, "M0", staff=coord(db))


def submitted(db: StudyDb) -> storage.Session:
    s = started(db)
    storage.record_answers(db, s.id, full_visit(), language="en")  # type: ignore[arg-type]
    return storage.submit_session(db, s.id)


@pytest.mark.req("DB-01")
def test_an_answer_carries_everything_the_design_requires(db: StudyDb) -> None:
    s = started(db)
    a = storage.record_answer(
        db, s.id, "vas_pain", 42.6, language="en", vas_line_mm=99.5, position=1
    )
    vas = storage.current_answers(db, s.id)["vas_pain"]
    assert vas == a
    assert a.value == 42.6 and a.status == "answered" and a.vas_line_mm == 99.5
    assert a.instrument_id == "vas" and a.instrument_version and a.instrument_checksum
    assert a.instrument_checksum.startswith("sha256:")
    assert a.language == "en" and a.app_version == storage.APP_VERSION
    assert a.device_id == db.device_id and a.given_by is None
    assert a.given_at == "2026-03-02T09:30:00.000Z"
    assert storage.get_session(db, s.id).position == 1
    entry = storage.audit_entries(db, subject_code=SUBJECT, action="answer.recorded")[-1]
    assert entry.payload["answers"] == [[a.id, "vas_pain", 42.6]]


def test_choice_answers_come_back_as_int_codes_and_skips_as_none(db: StudyDb) -> None:
    s = started(db)
    storage.record_answer(db, s.id, "odi_03", 4, language="en")
    storage.record_answer(db, s.id, "odi_08", SKIPPED, language="en")
    current = storage.current_answers(db, s.id)
    assert current["odi_03"].value == 4 and type(current["odi_03"].value) is int
    assert current["odi_08"].value is None and current["odi_08"].status == "skipped"


@pytest.mark.req("DB-07")
def test_a_new_answer_supersedes_the_previous_one_and_both_stay(db: StudyDb) -> None:
    s = started(db)
    first = storage.record_answer(db, s.id, "odi_01", 1, language="en")
    again = storage.record_answer(db, s.id, "odi_01", 1, language="en")
    assert again.id == first.id  # the same answer given again writes nothing
    second = storage.record_answer(db, s.id, "odi_01", 3, language="en")
    assert second.supersedes == first.id
    assert storage.current_answers(db, s.id)["odi_01"].value == 3
    assert [a.value for a in storage.answer_history(db, s.id, "odi_01")] == [1, 3]


def test_park_and_resume_keep_the_position(db: StudyDb) -> None:
    s = started(db)
    storage.record_answer(db, s.id, "vas_pain", 10, language="en")
    parked = storage.park_session(db, s.id, position=1)
    assert parked.state == "parked" and parked.parked_by is None  # idle timeout
    assert storage.subject_visit(db, SUBJECT, "M0", TODAY).status == "parked"
    assert [x.id for x in storage.open_sessions(db)] == [s.id]
    before = row_counts(db)
    with pytest.raises(storage.SessionStateError, match="parked: resume it"):
        storage.record_answer(db, s.id, "odi_01", 1, language="en")
    assert row_counts(db) == before
    resumed = storage.resume_session(db, s.id, staff=coord(db))
    assert resumed.state == "in_progress" and resumed.position == 1
    assert storage.open_session_for(db, SUBJECT, "M0") == resumed
    assert storage.subject_visit(db, SUBJECT, "M0", TODAY).status == "in_progress"


def test_submit_scores_every_instrument_with_both_sf36_methods(db: StudyDb) -> None:
    s = submitted(db)
    assert s.state == "submitted" and s.submitted_by is None
    scores = {(x.instrument_id, x.method): x for x in storage.session_scores(db, s.id)}
    assert set(scores) == {
        ("vas", "default"),
        ("odi", "default"),
        ("sf36", "standard"),
        ("sf36", "rand"),
    }
    assert scores["vas", "default"].values == {"VAS": 55.0}
    assert scores["odi", "default"].values["ODI"] == 40.0
    assert {"PCS", "MCS"} <= set(scores["sf36", "standard"].values)
    assert "HT" in scores["sf36", "rand"].values
    assert all(x.scoring_version == str(scoring.SCORING_VERSION) for x in scores.values())
    visit = storage.subject_visit(db, SUBJECT, "M0", TODAY)
    assert visit.status == "complete" and visit.actual_date == TODAY
    assert storage.subject_scores(db, SUBJECT)["M0"][0].session_id == s.id


def test_submit_refuses_missing_items_unless_asked_to_skip_them(db: StudyDb) -> None:
    s = started(db)
    storage.record_answer(db, s.id, "vas_pain", 30, language="en")
    before = row_counts(db)
    with pytest.raises(storage.SessionIncomplete, match="no answer for odi_01"):
        storage.submit_session(db, s.id)
    assert row_counts(db) == before
    storage.submit_session(db, s.id, skip_unanswered=True)
    current = storage.current_answers(db, s.id)
    assert len(current) == 47 and current["sf36_36"].status == "skipped"
    odi = next(x for x in storage.session_scores(db, s.id) if x.instrument_id == "odi")
    assert odi.values["ODI"] is None  # fewer than 9 sections answered


@pytest.mark.req("DB-07")
def test_a_correction_after_submission_keeps_the_original_and_recomputes(db: StudyDb) -> None:
    s = submitted(db)
    original = storage.current_answers(db, s.id)["odi_01"]
    fixed = storage.correct_answer(db, s.id, "odi_01", 5, staff=inv(db), reason="misread")
    assert fixed.supersedes == original.id and fixed.given_by == inv(db).id
    assert fixed.reason == "misread"
    history = storage.answer_history(db, s.id, "odi_01")
    assert [a.value for a in history] == [2, 5]
    current = storage.session_scores(db, s.id)
    every = storage.session_scores(db, s.id, include_superseded=True)
    odi = [x for x in every if x.instrument_id == "odi"]
    assert len(odi) == 2 and odi[0].superseded_by == odi[1].id and not odi[0].current
    assert next(x for x in current if x.instrument_id == "odi").values["ODI"] == 46.0
    actions = [e.action for e in storage.audit_entries(db, subject_code=SUBJECT)]
    assert actions[-2:] == ["answer.corrected", "scores.recomputed"]
    assert storage.verify_database(db.path).ok


def _refused(db: StudyDb, error: type[Exception], match: str, call: object) -> None:
    before = row_counts(db)
    with pytest.raises(error, match=match):
        call()  # type: ignore[operator]
    assert row_counts(db) == before, "a refused call wrote something"


def test_bad_starts_are_refused_and_write_nothing(db: StudyDb) -> None:
    c = coord(db)
    _refused(
        db,
        storage.UnknownSubject,
        "RSP-01-999",
        lambda: storage.start_session(db, "RSP-01-999", "M0", staff=c),
    )
    _refused(
        db,
        storage.UnknownVisit,
        "'M9' is not in the schedule",
        lambda: storage.start_session(db, SUBJECT, "M9", staff=c),
    )
    _refused(
        db,
        storage.VisitNotAvailable,
        "M3 is not due yet: its window opens on 2026-05-18",
        lambda: storage.start_session(db, SUBJECT, "M3", staff=c),
    )
    s = started(db)
    _refused(
        db,
        storage.VisitNotAvailable,
        "already has an open session",
        lambda: storage.start_session(db, SUBJECT, "M0", staff=c),
    )
    storage.record_answers(db, s.id, full_visit(), language="en")  # type: ignore[arg-type]
    storage.submit_session(db, s.id)
    _refused(
        db,
        storage.VisitNotAvailable,
        "M0 is complete already",
        lambda: storage.start_session(db, SUBJECT, "M0", staff=c),
    )


def test_bad_answers_are_refused_and_write_nothing(db: StudyDb) -> None:
    s = started(db)
    _refused(
        db,
        storage.InvalidAnswer,
        "unknown item 'odi_11'",
        lambda: storage.record_answer(db, s.id, "odi_11", 1, language="en"),
    )
    _refused(
        db,
        storage.InvalidAnswer,
        r"odi_02: answer 6 is not one of the codes",
        lambda: storage.record_answer(db, s.id, "odi_02", 6, language="en"),
    )
    _refused(
        db,
        storage.InvalidAnswer,
        r"vas_pain: answer 100.5 is outside 0..100",
        lambda: storage.record_answer(db, s.id, "vas_pain", 100.5, language="en"),
    )
    _refused(
        db,
        storage.InvalidAnswer,
        r"vas_pain: answer 42.56 is finer than the step 0.1",
        lambda: storage.record_answer(db, s.id, "vas_pain", 42.56, language="en"),
    )
    _refused(
        db,
        storage.InvalidAnswer,
        r"sf36_01: answer 2.0 is not an integer",
        lambda: storage.record_answer(db, s.id, "sf36_01", 2.0, language="en"),
    )
    _refused(
        db,
        storage.InvalidAnswer,
        "language 'fr' is not available for odi",
        lambda: storage.record_answer(db, s.id, "odi_01", 1, language="fr"),
    )
    _refused(
        db,
        storage.InvalidAnswer,
        "vas_line_mm is only for a VAS item",
        lambda: storage.record_answer(db, s.id, "odi_01", 1, language="en", vas_line_mm=100),
    )
    _refused(
        db,
        storage.UnknownSession,
        "unknown session",
        lambda: storage.record_answer(db, "nope", "odi_01", 1, language="en"),
    )
    # One bad answer in a batch refuses the whole batch.
    _refused(
        db,
        storage.InvalidAnswer,
        "odi_10",
        lambda: storage.record_answers(db, s.id, {"odi_01": 1, "odi_10": 9}, language="en"),
    )


def test_answering_a_submitted_session_is_refused_and_writes_nothing(db: StudyDb) -> None:
    s = submitted(db)
    _refused(
        db,
        storage.SessionStateError,
        "submitted: answers can only be changed by a staff",
        lambda: storage.record_answer(db, s.id, "odi_01", 4, language="en"),
    )
    _refused(
        db,
        storage.InvalidInput,
        "a reason is required",
        lambda: storage.correct_answer(db, s.id, "odi_01", 4, staff=inv(db), reason=" "),
    )
    admin = storage.get_staff(db, "admin")
    _refused(
        db,
        storage.PermissionDenied,
        "needs investigator or coordinator",
        lambda: storage.correct_answer(db, s.id, "odi_01", 4, staff=admin, reason="x"),
    )
    _refused(
        db,
        storage.InvalidAnswer,
        "odi_01: answer 7",
        lambda: storage.correct_answer(db, s.id, "odi_01", 7, staff=inv(db), reason="x"),
    )


def test_an_overdue_visit_can_still_be_done_and_the_audit_says_so(db: StudyDb) -> None:
    fixed_clock(NOW + timedelta(days=60))  # M1 window closed on day 37
    s = storage.start_session(db, SUBJECT, "M1", staff=coord(db))
    entry = storage.audit_entries(db, subject_code=SUBJECT, action="session.started")[-1]
    assert entry.entity_id == s.id and entry.payload["out_of_window"] is True


def test_mark_missed_needs_a_reason_and_blocks_the_visit(db: StudyDb) -> None:
    c = coord(db)
    _refused(
        db,
        storage.InvalidInput,
        "reason is required",
        lambda: storage.mark_missed(db, SUBJECT, "M1", staff=c, reason=""),
    )
    fixed_clock(NOW + timedelta(days=60))
    v = storage.mark_missed(db, SUBJECT, "M1", staff=c, reason="did not attend")
    assert v.status == "missed" and v.missed_reason == "did not attend"
    _refused(
        db,
        storage.VisitNotAvailable,
        "M1 is missed already",
        lambda: storage.start_session(db, SUBJECT, "M1", staff=c),
    )


def test_subject_codes_are_pseudonymous_and_checked(db: StudyDb) -> None:
    c = coord(db)
    for bad in ("Jane Doe", "RSP-02-001", "RSP-01-1", "rsp-01-001"):
        _refused(
            db,
            storage.InvalidInput,
            "subject code",
            lambda bad=bad: storage.register_subject(db, bad, day0=TODAY, staff=c),
        )
    _refused(
        db,
        storage.AlreadyExists,
        "exists already",
        lambda: storage.register_subject(db, SUBJECT, day0=TODAY, staff=c),
    )
    _refused(
        db,
        storage.InvalidInput,
        "year of birth",
        lambda: storage.register_subject(db, "RSP-01-002", day0=TODAY, staff=c, year_of_birth=1850),
    )
    s = storage.register_subject(
        db, "RSP-01-002", day0=date(2026, 2, 1), staff=c, year_of_birth=1961
    )
    assert s.year_of_birth == 1961 and s.site_code == "01"
    assert [x.code for x in storage.list_subjects(db, "01")] == [SUBJECT, "RSP-01-002"]
    columns = {r[1] for r in db.conn.execute("PRAGMA table_info(subjects)")}
    assert not columns & {"name", "first_name", "last_name", "birth_date", "email", "phone"}


def test_worklist_matches_each_subjects_schedule(db: StudyDb) -> None:
    c = coord(db)
    for n in range(2, 40):
        storage.register_subject(
            db, f"RSP-01-{n:03d}", day0=TODAY - timedelta(days=n * 17), staff=c
        )
    fixed_clock(NOW + timedelta(days=40))
    on = TODAY + timedelta(days=40)
    storage.mark_missed(db, "RSP-01-003", "M1", staff=c, reason="unreachable")
    everything = storage.worklist(db, on=on, statuses=None)
    assert len(everything) == 39 * 6
    for subject in storage.list_subjects(db):
        expected = [
            (v.code, v.status, v.window.target)
            for v in storage.subject_visits(db, subject.code, on)
        ]
        got = [
            (e.visit_code, e.status, e.target_date)
            for e in everything
            if e.subject_code == subject.code
        ]
        assert got == expected
    due = storage.worklist(db, on=on)
    assert due == [e for e in everything if e.status in storage.ACTIONABLE]
    assert {e.status for e in storage.worklist(db, on=on, statuses=["missed"])} == {"missed"}
