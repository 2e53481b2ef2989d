"""Order is the audit sequence, not the clock: a clock set back is audited once per jump
(``clock.backwards`` with both times) and histories keep the order things were written in."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from respine_desktop import clock, storage
from tests.support.storage import NOW, SUBJECT, coord, fixed_clock, full_visit, inv, subject_db


def test_a_clock_set_back_is_audited_once_and_order_follows_the_chain(tmp_path: Path) -> None:
    with subject_db(tmp_path / "k.db", SUBJECT) as db:
        staff = coord(db)
        session = storage.start_session(db, SUBJECT, "M0", staff=staff)
        storage.record_answers(db, session.id, full_visit(vas=60.0), language="en")
        storage.submit_session(db, session.id, staff=staff)
        fixed_clock(NOW - timedelta(hours=2))  # the clock jumps back two hours
        storage.correct_answer(db, session.id, "vas_pain", 42.0, reason="typo", staff=inv(db))
        storage.correct_answer(db, session.id, "vas_pain", 43.0, reason="again", staff=inv(db))
        entries = storage.audit_entries(db)
        jumps = storage.audit_entries(db, action="clock.backwards")
        history = storage.answer_history(db, session.id, "vas_pain")
        current = storage.current_answers(db, session.id)["vas_pain"]
        sessions = storage.subject_sessions(db, SUBJECT)
        path = db.path
    assert len(jumps) == 1  # once per jump, not once per entry
    jump = jumps[0]
    earlier = (NOW - timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert jump.payload == {"previous_at": NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z"), "now": earlier}
    assert [e.seq for e in entries] == sorted(e.seq for e in entries)  # chain order, not clock
    actions = [e.action for e in entries]
    assert actions.index("clock.backwards") + 1 == actions.index("answer.corrected")
    assert [a.value for a in history] == [60.0, 42.0, 43.0]  # written order, clock aside
    assert current.value == 43.0
    assert [s.id for s in sessions] == [session.id]
    assert storage.verify_database(path).ok


def test_a_clock_that_only_moves_forward_writes_no_jump(tmp_path: Path) -> None:
    with subject_db(tmp_path / "k.db", SUBJECT) as db:
        fixed_clock(NOW + timedelta(days=1))
        storage.start_session(db, SUBJECT, "M0", staff=coord(db))
        assert storage.audit_entries(db, action="clock.backwards") == []
    clock.set_clock(None)
