"""The session that stands for a visit: one rule for every reader (reports, exports, worklist).

A visit has one session, except when two kiosks did the same visit and a hub merged both (a
flagged conflict). Every reader then shows the same one, the *chosen* session:

* the session an investigator or administrator chose for the visit (`conflict_resolution`: the
  visit's newest ``session_choices`` row, by ``chosen_at`` then ``rowid``), if any;
* else the submitted session submitted last (ties: the greater session id);
* without a submitted session, the open one (parked or in progress) started last (ties: the
  greater session id).

Scores are read from the chosen session only, so a report never mixes instruments of two
sittings. The rule in SQL is the schema's view ``chosen_sessions`` (over ``reviewed_sessions``,
whose ``chosen_by_review`` marks a visit's current reviewed choice; see `_schema`), `chosen_sql`
the sub-query the bulk readers join on, `session_rank` the same rule for rows already in memory
(which carry ``chosen_by_review``, read from ``reviewed_sessions``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from respine_desktop.storage._database import StudyDb


def chosen_sql(visit_id: str) -> str:
    """A scalar sub-query: the chosen session id of the visit whose id is the SQL `visit_id`
    (through the view ``chosen_sessions``)."""
    return (
        f"(SELECT chosen.session_id FROM chosen_sessions chosen WHERE chosen.visit_id = {visit_id})"
    )


class _SessionLike(Protocol):
    @property
    def chosen_by_review(self) -> bool: ...
    @property
    def id(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def started_at(self) -> str: ...
    @property
    def submitted_at(self) -> str | None: ...


_S = TypeVar("_S", bound=_SessionLike)


def session_rank(session: _SessionLike) -> tuple[bool, bool, str, str, str]:
    """The sort key of the rule (the view ``chosen_sessions``): the chosen session's is greatest."""
    return (
        session.chosen_by_review,
        session.state == "submitted",
        session.submitted_at or "",
        session.started_at,
        session.id,
    )


def choose_session(sessions: Iterable[_S]) -> _S | None:
    """The chosen session among one visit's sessions (None if there is none)."""
    return max(sessions, key=session_rank, default=None)


def chosen_session(db: StudyDb, subject_code: str, visit_code: str) -> str | None:
    """The id of the chosen session of a subject's visit, or None if the visit has no session."""
    row = db.conn.execute(
        f"SELECT {chosen_sql('v.id')} AS id FROM visits v JOIN subjects j ON j.id = v.subject_id "
        "WHERE j.code=? AND v.visit_code=?",
        [subject_code, visit_code],
    ).fetchone()
    return str(row["id"]) if row and row["id"] is not None else None
