"""The questionnaire flow (respine_desktop.session) on a real SQLite file, through storage."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from respine_desktop import storage
from respine_desktop.session import FlowError, Phase, QuestionnaireSession, visit_languages
from respine_desktop.storage import StudyDb

PIN = "860427"
SUBJECT = "RSP-01-001"


@pytest.fixture
def db(tmp_path: Path) -> StudyDb:
    database = storage.create_database(tmp_path / "kiosk.db", admin_pin=PIN)
    admin = storage.authenticate(database, "admin", PIN)
    storage.register_subject(database, SUBJECT, day0=date.today(), staff=admin)
    yield database
    database.close()


def admin(db: StudyDb) -> storage.Staff:
    return storage.get_staff(db, "admin")


def opened(db: StudyDb) -> QuestionnaireSession:
    flow = QuestionnaireSession.open(db, SUBJECT, "M0", staff=admin(db))
    flow.choose_language("en")
    return flow


def answer_current(flow: QuestionnaireSession) -> None:
    item = flow.current.item
    if item.type == "vas":
        flow.answer(37.4, vas_line_mm=100.1)
    else:
        flow.answer(item.codes[1])


def test_steps_follow_the_study_order_vas_odi_sf36(db: StudyDb) -> None:
    flow = opened(db)
    ids = [s.item.id for s in flow.steps]
    assert ids[0] == "vas_pain" and ids[1] == "odi_01" and ids[-1] == "sf36_36"
    assert flow.total == 1 + 10 + 36
    assert [s.first_of_instrument for s in flow.steps].count(True) == 3


def test_only_languages_complete_for_every_instrument_are_offered() -> None:
    assert visit_languages(("vas",)) == ("en", "fr")
    assert visit_languages(("vas", "odi", "sf36")) == ("en",)


@pytest.mark.req("DB-02")
def test_a_whole_visit_answer_by_answer_then_review_and_submit(db: StudyDb) -> None:
    flow = opened(db)
    assert flow.phase is Phase.ITEMS and flow.position == 0
    assert not flow.can_advance and not flow.can_go_back
    with pytest.raises(FlowError):
        flow.next()
    while flow.phase is Phase.ITEMS:
        answer_current(flow)
        # Written at once: the database has it before Next is pressed.
        stored = storage.current_answers(db, flow.id)[flow.current.item.id]
        assert stored.status == "answered"
        flow.next()
    assert flow.phase is Phase.REVIEW and flow.complete
    rows = flow.review_rows()
    assert len(rows) == 47 and all(r is not None for _, r in rows)
    assert rows[0][1] is not None and rows[0][1].value == 37.4
    assert rows[0][1].vas_line_mm == 100.1
    flow.submit()
    assert flow.phase is Phase.SUBMITTED
    assert storage.get_session(db, flow.id).state == "submitted"
    scores = storage.session_scores(db, flow.id)
    assert {s.instrument_id for s in scores} >= {"vas", "odi", "sf36"}


def test_back_keeps_answers_and_a_new_answer_supersedes(db: StudyDb) -> None:
    flow = opened(db)
    answer_current(flow)
    flow.next()
    flow.answer(4)
    flow.next()
    assert flow.back() is Phase.ITEMS and flow.current.item.id == "odi_01"
    assert flow.current_response is not None and flow.current_response.value == 4
    flow.answer(2)
    history = storage.answer_history(db, flow.id, "odi_01")
    assert [a.value for a in history] == [4, 2]
    assert history[-1].supersedes == history[0].id


@pytest.mark.req("ITEM-05")
def test_only_optional_items_can_be_skipped_and_a_skip_is_stored_as_skipped(db: StudyDb) -> None:
    flow = opened(db)
    with pytest.raises(FlowError):
        flow.skip()  # the VAS is not optional
    answer_current(flow)
    flow.next()
    while flow.current.item.id != "odi_08":
        answer_current(flow)
        flow.next()
    assert flow.current.item.optional
    flow.skip()
    assert flow.can_advance
    stored = storage.current_answers(db, flow.id)["odi_08"]
    assert (stored.status, stored.value) == ("skipped", None)
    # Answering after all replaces the skip.
    flow.answer(1)
    assert storage.current_answers(db, flow.id)["odi_08"].status == "answered"


def test_review_change_returns_to_the_review(db: StudyDb) -> None:
    flow = opened(db)
    while flow.phase is Phase.ITEMS:
        answer_current(flow)
        flow.next()
    step = flow.change(5)
    assert step.item.id == "odi_05" and flow.returns_to_review and not flow.can_go_back
    flow.answer(5)
    assert flow.next() is Phase.REVIEW
    assert flow.review_rows()[5][1] is not None and flow.review_rows()[5][1].value == 5


@pytest.mark.req("DB-06")
def test_parked_session_resumes_at_the_same_item(db: StudyDb) -> None:
    flow = opened(db)
    for _ in range(4):
        answer_current(flow)
        flow.next()
    assert flow.current.item.id == "odi_04" and flow.current_response is None
    flow.park()
    assert flow.phase is Phase.PARKED
    assert storage.get_session(db, flow.id).state == "parked"
    again = QuestionnaireSession.open(db, SUBJECT, "M0", staff=admin(db))
    assert again.id == flow.id and again.phase is Phase.ITEMS
    assert again.current.item.id == "odi_04" and again.language == "en"
    assert again.response("odi_03") is not None


def test_a_session_cut_short_resumes_where_it_was_even_after_back(db: StudyDb) -> None:
    flow = opened(db)
    for _ in range(6):
        answer_current(flow)
        flow.next()
    flow.back()
    flow.back()
    # No park: the process "dies" here. A fresh object reads the database.
    again = QuestionnaireSession.open(db, SUBJECT, "M0", staff=admin(db))
    assert again.current.item.id == "odi_04"


def test_parked_in_review_resumes_in_review(db: StudyDb) -> None:
    flow = opened(db)
    while flow.phase is Phase.ITEMS:
        answer_current(flow)
        flow.next()
    flow.park()
    again = QuestionnaireSession.open(db, SUBJECT, "M0", staff=admin(db))
    assert again.phase is Phase.REVIEW and again.complete


def test_moving_around_writes_no_extra_answers_or_audit_entries(db: StudyDb) -> None:
    flow = opened(db)
    answer_current(flow)
    flow.next()
    answer_current(flow)
    before = (len(storage.answer_history(db, flow.id)), len(storage.audit_entries(db)))
    flow.back()
    flow.next()
    flow.next()
    after = (len(storage.answer_history(db, flow.id)), len(storage.audit_entries(db)))
    assert after == before


def test_an_invalid_answer_is_refused_by_storage_and_nothing_changes(db: StudyDb) -> None:
    flow = opened(db)
    with pytest.raises(storage.InvalidAnswer):
        flow.answer(100.5, vas_line_mm=100.0)
    assert flow.current_response is None
    assert storage.current_answers(db, flow.id) == {}


def test_a_language_the_visit_lacks_is_refused(db: StudyDb) -> None:
    flow = QuestionnaireSession.open(db, SUBJECT, "M0", staff=admin(db))
    with pytest.raises(FlowError):
        flow.choose_language("fr")
    with pytest.raises(FlowError):
        flow.answer(10.0)
