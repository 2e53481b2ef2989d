"""The session that stands for a visit: one rule for every reader (reports, exports, worklist).

A visit has one session, except when two kiosks did the same visit and a hub merged both (a
flagged conflict). Every reader then shows the same one, the *chosen* session:

* the session an investigator or administrator chose for the visit (`conflict_resolution`: the
  visit's newest ``session_choices`` row, by ``chosen_at`` then ``rowid``), if any;
* else the submitted session submitted last (ties: the greater session id);
* without a submitted session, the open one (parked or in progress) started last (ties: the
  greater session id).

Scores are read from the chosen session only, so a report never mixes instruments of two
sittings. `CHOSEN_ORDER` is the rule in SQL (over ``sessions x``), `chosen_sql` the sub-query the
bulk readers join on, `session_rank` the same rule for rows already in memory (which carry
`CHOSEN_BY_REVIEW`, read in SQL, as their ``chosen_by_review``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from respine_desktop.storage._database import StudyDb

# 1 when the session (``sessions x``) is its visit's current reviewed choice, else 0.
CHOSEN_BY_REVIEW = (
    "(x.id IS (SELECT c.session_id FROM session_choices c WHERE c.visit_id = x.visit_id "
    "ORDER BY c.chosen_at DESC, c.rowid DESC LIMIT 1))"
)
CHOSEN_ORDER = (
    f"{CHOSEN_BY_REVIEW} DESC, "
    "x.state = 'submitted' DESC, x.submitted_at DESC, x.started_at DESC, x.id DESC"
)


def chosen_sql(visit_id: str) -> str:
    """A scalar sub-query: the chosen session id of the visit whose id is the SQL `visit_id`."""
    return (
        f"(SELECT x.id FROM sessions x WHERE x.visit_id = {visit_id} "
        f"ORDER BY {CHOSEN_ORDER} LIMIT 1)"
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
    """The sort key of the rule (`CHOSEN_ORDER`): the chosen session has the greatest key."""
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
