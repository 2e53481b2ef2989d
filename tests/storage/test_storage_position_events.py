"""Storage calls the kiosk relies on: where a sitting stands, and events that change no record."""

from __future__ import annotations

import pytest

from respine_desktop import storage
from respine_desktop.storage import StudyDb
from tests.support.storage import SUBJECT, coord, full_visit, row_counts


def test_set_position_moves_the_resume_point_without_answers_or_audit(db: StudyDb) -> None:
    s = storage.start_session(db, SUBJECT, "M0", staff=coord(db))
    storage.record_answer(db, s.id, "vas_pain", 10, language="en")
    before = row_counts(db)
    storage.set_position(db, s.id, 5)
    assert storage.get_session(db, s.id).position == 5
    assert row_counts(db) == before  # no answer row, no audit entry: the position is not data
    storage.park_session(db, s.id, position=5)
    resumed = storage.resume_session(db, s.id, staff=coord(db))
    assert resumed.position == 5


def test_set_position_refuses_bad_positions_and_closed_sessions(db: StudyDb) -> None:
    s = storage.start_session(db, SUBJECT, "M0", staff=coord(db))
    for bad in (-1, True, 2.0):
        with pytest.raises(storage.InvalidInput, match="position"):
            storage.set_position(db, s.id, bad)  # type: ignore[arg-type]
    storage.park_session(db, s.id, position=0)
    with pytest.raises(storage.SessionStateError, match="parked"):
        storage.set_position(db, s.id, 3)
    storage.resume_session(db, s.id, staff=coord(db))
    storage.record_answers(db, s.id, full_visit(), language="en")  # type: ignore[arg-type]
    storage.submit_session(db, s.id)
    with pytest.raises(storage.SessionStateError, match="submitted"):
        storage.set_position(db, s.id, 3)
    with pytest.raises(storage.UnknownSession):
        storage.set_position(db, "no-such-session", 3)


def test_log_event_appends_one_chained_entry(db: StudyDb) -> None:
    before = len(storage.audit_entries(db))
    entry_id = storage.log_event(
        db, "kiosk.escape_intercepted", entity="kiosk", entity_id=db.device_id, payload={"k": 1}
    )
    entries = storage.audit_entries(db)
    assert len(entries) == before + 1
    last = entries[-1]
    assert (last.id, last.action, last.payload) == (entry_id, "kiosk.escape_intercepted", {"k": 1})
    assert last.prev_hash == entries[-2].hash
    assert storage.verify_database(db.path).ok
