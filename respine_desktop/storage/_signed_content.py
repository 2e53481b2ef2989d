"""The canonical text of what an electronic signature signs, and its SHA-256.

A signature (`_signatures`) keeps the SHA-256 of this text as it was when it was signed; the text
is computed again to tell whether the signature still covers the data (`valid`) or the data changed
since (`broken`: a correction, a conflict choice that counts another session, a late answer).

* a **visit**: the subject code, the visit code, the id of the session that counts for the visit
  (`chosen_session`), every answer row of that session (the corrections and their reasons
  included: a correction is a new row), each as its canonical text (`_answers.canonical`),
  ordered by time given then id, and the session's current scores (instrument, method, scoring
  version, values as stored);
* a **subject**: the subject code and the text of each of its visits that has a counted
  session, in the study's schedule order.

Compact JSON (UTF-8), so the same data always gives the same bytes, on any machine.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from respine_desktop.storage import _answers as answers
from respine_desktop.storage._chosen_session import chosen_session
from respine_desktop.storage._database import StudyDb
from respine_desktop.storage._errors import InvalidInput

_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _session_state(db: StudyDb, session_id: str) -> str:
    row = db.conn.execute("SELECT state FROM sessions WHERE id=?", [session_id]).fetchone()
    return str(row["state"]) if row else ""


def _visit_value(db: StudyDb, subject_code: str, visit_code: str) -> dict[str, Any] | None:
    """The signed content of a visit as a JSON value, or None if it has no counted session."""
    session_id = chosen_session(db, subject_code, visit_code)
    if session_id is None:
        return None
    rows = answers.select_rows(db.conn, "WHERE session_id=?", [session_id])
    rows.sort(key=lambda r: (r.given_at, r.id))
    scores = db.conn.execute(
        "SELECT instrument_id, method, scoring_version, scores FROM scores "
        "WHERE session_id=? AND superseded_at IS NULL ORDER BY instrument_id, method",
        [session_id],
    ).fetchall()
    return {
        "subject": subject_code,
        "visit": visit_code,
        "session": session_id,
        "state": _session_state(db, session_id),
        "answers": [answers.canonical(r) for r in rows],
        "scores": [
            [s["instrument_id"], s["method"], s["scoring_version"], s["scores"]] for s in scores
        ],
    }


def _sha256(value: object) -> str:
    return hashlib.sha256(_ENCODER.encode(value).encode("utf-8")).hexdigest()


def visit_text(db: StudyDb, subject_code: str, visit_code: str) -> str:
    """The canonical text of a subject's visit (InvalidInput if no session counts for it)."""
    value = _visit_value(db, subject_code, visit_code)
    if value is None:
        raise InvalidInput(f"{subject_code} {visit_code}: no questionnaire session to sign")
    return _ENCODER.encode({"kind": "visit", **value})


def visit_sha256(db: StudyDb, subject_code: str, visit_code: str) -> str | None:
    """SHA-256 of `visit_text`, or None if no session counts for the visit (any more)."""
    value = _visit_value(db, subject_code, visit_code)
    return None if value is None else _sha256({"kind": "visit", **value})


def counted_state(db: StudyDb, subject_code: str, visit_code: str) -> str | None:
    """The state of the session that counts for the visit (None without one)."""
    session_id = chosen_session(db, subject_code, visit_code)
    return None if session_id is None else _session_state(db, session_id)


def signed_visits(db: StudyDb, subject_code: str) -> list[str]:
    """The subject's visit codes (schedule order) that have a counted session."""
    rows = db.conn.execute(
        "SELECT DISTINCT s.visit_code FROM sessions s JOIN subjects j ON j.id = s.subject_id "
        "WHERE j.code=?",
        [subject_code],
    ).fetchall()
    done = {str(r["visit_code"]) for r in rows}
    order = list(db.study.visit_codes)
    return sorted(done, key=lambda c: (order.index(c) if c in order else len(order), c))


def _subject_value(db: StudyDb, subject_code: str) -> dict[str, Any]:
    visits = []
    for code in signed_visits(db, subject_code):
        value = _visit_value(db, subject_code, code)
        if value is not None:
            visits.append(value)
    return {"kind": "subject", "subject": subject_code, "visits": visits}


def subject_text(db: StudyDb, subject_code: str) -> str:
    """The canonical text of a whole subject (InvalidInput if it has no session yet)."""
    value = _subject_value(db, subject_code)
    if not value["visits"]:
        raise InvalidInput(f"{subject_code}: no questionnaire session to sign")
    return _ENCODER.encode(value)


def subject_sha256(db: StudyDb, subject_code: str) -> str:
    """SHA-256 of `subject_text` (of the subject as it is now)."""
    return _sha256(_subject_value(db, subject_code))
