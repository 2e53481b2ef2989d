"""What a bundle may change in a row the hub already has: forward-only transitions.

A bundle row whose id (or, for subjects, code; for visits, subject x visit) the hub has is
compared with the hub's copy. The outcome is one of: *unchanged* (the same, or the bundle is
behind), *updated* (an allowed forward step), *conflicting* (a true disagreement between two
kiosks: the hub's copy is kept and the mismatch is flagged for review in the import summary, a
``bundle.mismatch`` audit entry and the ``bundle.imported`` entry), or *refused* (a rewrite no
kiosk can produce: the whole bundle is refused, naming table, row and field).

The transitions, per table (anything not listed as allowed or flagged is refused):

- sites: matched by code only (each database records when it first knew the site).
- devices, staff: immutable; other content under the same key is refused (staff: role,
  creation time and creator; the hub keeps its own username and disables imported accounts).
- subjects: immutable (same id, other content: refused). The same code under another id is the
  same patient registered on two kiosks; another day 0 there is *conflicting* (hub's kept).
- visits: allowed ``parked -> in_progress`` and ``parked / in_progress -> complete / missed``;
  ``complete`` vs ``missed``, or two dates of one complete visit, are *conflicting*.
- sessions: an open one (``in_progress`` / ``parked``) may move on (later activity, resumed on
  another device, ``-> submitted``); a submitted one changed in any column (device, submitter,
  submission time ...) is refused, as is another visit, subject, start time or starter.
- session_choices, answers: append-only; the same id with other content is refused (an answer
  cannot be changed, even through an audit chain forged to match it).
- scores: only ``superseded_at / superseded_by`` may go from empty to set (a recomputation); any
  other change is refused, and after the merge each score kind of a session has one current row,
  the others superseded by a row of their own kind (`_merge_scores`).
- audit_log: append-only, each device's chain continued exactly (`bundle_merge`).

A bundle behind the hub (an open session the hub has submitted, an open visit the hub has
complete) leaves the row unchanged. The hub never moves a visit out of ``complete`` or
``missed`` because of a bundle: a missed visit is never turned complete, and the reverse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from respine_desktop.storage._bundle_rows import ScoreLine, SessionLine, VisitLine

__all__ = [
    "SESSION_IDENTITY",
    "VISIT_FINAL",
    "first_difference",
    "merged_visit",
    "score_outcome",
    "session_outcome",
]

VISIT_RANK = {"parked": 1, "in_progress": 2}
VISIT_FINAL = frozenset({"complete", "missed"})
SESSION_IDENTITY = ("visit_id", "subject_id", "visit_code", "started_at", "started_by")


def first_difference(
    columns: Sequence[str], mine: Sequence[Any], theirs: Sequence[Any]
) -> str | None:
    """The first column whose values differ (None if all are equal)."""
    for column, a, b in zip(columns, mine, theirs, strict=True):
        if a != b:
            return column
    return None


def merged_visit(mine: VisitLine, theirs: VisitLine) -> tuple[VisitLine, str | None]:
    """The hub's visit `mine` after the bundle's `theirs`, and a mismatch to flag (or None)."""
    if mine.state in VISIT_FINAL:
        if theirs.state in VISIT_FINAL and theirs.state != mine.state:
            return mine, f"state: hub {mine.state}, bundle {theirs.state}"
        if theirs.state == mine.state == "complete" and theirs.actual_date != mine.actual_date:
            return mine, f"date: hub {mine.actual_date}, bundle {theirs.actual_date}"
        return mine, None
    if theirs.state in VISIT_FINAL:
        return (
            mine._replace(
                state=theirs.state,
                actual_date=theirs.actual_date if theirs.state == "complete" else mine.actual_date,
                missed_reason=theirs.missed_reason,
                updated_at=max(mine.updated_at, theirs.updated_at),
            ),
            None,
        )
    if VISIT_RANK.get(theirs.state, 0) > VISIT_RANK.get(mine.state, 0):
        updated_at = max(mine.updated_at, theirs.updated_at)
        return mine._replace(state=theirs.state, updated_at=updated_at), None
    return mine, None


def _progress(row: SessionLine) -> tuple[int, str]:
    """How far a session got: submitted first, then the latest activity."""
    times = [t for t in (row.started_at, row.parked_at, row.resumed_at, row.submitted_at) if t]
    return (1 if row.state == "submitted" else 0, max(times) if times else "")


def session_outcome(mine: SessionLine, theirs: SessionLine) -> tuple[str, str | None]:
    """``("unchanged" | "updated" | "refused", field)`` for the bundle's copy of a session."""
    if mine == theirs:
        return "unchanged", None
    for column in SESSION_IDENTITY:
        if getattr(mine, column) != getattr(theirs, column):
            return "refused", column
    if mine.state == "submitted":
        if theirs.state != "submitted":
            return "unchanged", None  # the bundle is behind
        return "refused", first_difference(SessionLine._fields, mine, theirs)
    if _progress(theirs) > _progress(mine):
        return "updated", None
    return "unchanged", None


def score_outcome(mine: ScoreLine, theirs: ScoreLine) -> tuple[str, str | None]:
    """``("unchanged" | "updated" | "refused", field)`` for the bundle's copy of a score row."""
    content = ScoreLine._fields[: ScoreLine._fields.index("superseded_at")]
    for column in content:
        a, b = getattr(mine, column), getattr(theirs, column)
        if a != b:
            return "refused", column
    if mine.superseded_at == theirs.superseded_at and mine.superseded_by == theirs.superseded_by:
        return "unchanged", None
    if mine.superseded_at is None:
        return "updated", None
    if theirs.superseded_at is None:
        return "unchanged", None  # the bundle is behind
    return "refused", "superseded_at" if mine.superseded_at != theirs.superseded_at else (
        "superseded_by"
    )
