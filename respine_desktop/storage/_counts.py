"""Row counts of a study database, for `status` and dashboards."""

from __future__ import annotations

from respine_desktop.storage._database import StudyDb, scalar
from respine_desktop.storage._records import Counts, SessionCounts


def counts(db: StudyDb) -> Counts:
    """How many subjects, visits, sessions by state, answers, scores and audit entries."""
    conn = db.conn

    def one(sql: str) -> int:
        return int(scalar(conn, sql))

    by_state = {
        r["state"]: r["n"]
        for r in conn.execute("SELECT state, count(*) AS n FROM sessions GROUP BY state")
    }
    return Counts(
        subjects=one("SELECT count(*) FROM subjects"),
        visits=one("SELECT count(*) FROM visits"),
        sessions=SessionCounts(
            completed=int(by_state.get("submitted", 0)),
            in_progress=int(by_state.get("in_progress", 0)),
            parked=int(by_state.get("parked", 0)),
        ),
        answers=one("SELECT count(*) FROM answers"),
        # One current answer per item of a session that has rows, as every reader shows it
        # (`_answers.current_rows`): counted by (session, item), never from the links, which a
        # fork (two devices replaced one answer: two rows not superseded, the last written
        # counts) made count twice; a link naming another session's answer counted one less.
        current_answers=one(
            "SELECT count(*) FROM (SELECT DISTINCT session_id, item_id FROM answers)"
        ),
        scores=one("SELECT count(*) FROM scores WHERE superseded_at IS NULL"),
        audit_entries=one("SELECT count(*) FROM audit_log"),
        staff=one("SELECT count(*) FROM staff"),
        devices=one("SELECT count(*) FROM devices"),
        sites=one("SELECT count(*) FROM sites"),
    )
