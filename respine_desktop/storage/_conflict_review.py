"""Conflict review: for each visit two kiosks both recorded, what a reviewer needs to judge it.

A bundle import keeps both sessions of a subject × visit × instrument done on two kiosks and
flags the conflict (`bundle_merge.list_conflicts`). This module reads each flagged conflict back
with its versions side by side: per session its device, times, who submitted it, its state, its
current answers to the instrument and how many items differ from the other versions; per item
the answer of each version; and which version counts, by the one rule of `chosen_session`
(the visit's chosen session: the one a reviewer chose, else submitted last), with the reason as
a code (`Reason`) that the console words in its language and `ConflictReview.explain` in
English, and the visit's current resolution (`conflict_resolution`: who chose, when, why).

Nothing is written here (`resolve_conflict` records a choice): both versions stay in the
database and in the exports (CSV answers_long and ODM ``--history`` carry both).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from respine_desktop.instruments import load_instrument
from respine_desktop.storage._answers import current_answers
from respine_desktop.storage._chosen_session import choose_session, session_rank
from respine_desktop.storage._conflict_resolution import SessionChoice, current_choice
from respine_desktop.storage._database import StudyDb
from respine_desktop.storage._errors import UnknownSession, UnknownStaff
from respine_desktop.storage._records import Answer, Session, SessionState
from respine_desktop.storage._sessions import subject_sessions
from respine_desktop.storage._staff import staff_by_id
from respine_desktop.storage.bundle_merge import Conflict, list_conflicts

Reason = Literal[
    "chosen_by_review",
    "submitted_last",
    "only_submitted",
    "started_last",
    "same_time",
    "other_session",
]
"""Why the chosen version counts: a reviewer chose it (``chosen_by_review``, see
`ConflictReview.resolution`), the only submitted one (``only_submitted``), submitted last
(``submitted_last``), none submitted and started last (``started_last``), submitted (or started)
at the same moment so the rule's last tie-break decides (``same_time``), or the visit's chosen
session is none of the conflict's versions (``other_session``)."""

_CACHED_SUBJECTS = 64

_EXPLAIN: Mapping[Reason, str] = {
    "chosen_by_review": "a reviewer chose this version",
    "submitted_last": "the version submitted last counts",
    "only_submitted": "the only submitted version counts (the other is still open)",
    "started_last": "no version is submitted: the one started last counts",
    "same_time": "submitted at the same moment: the rule's tie-break (started last, then the "
    "greater session id) chose it",
    "other_session": "another session of the visit counts (neither of these)",
}


@dataclass(frozen=True, slots=True)
class ConflictVersion:
    """One session of a conflict: where and when it was done, and its answers to the instrument.

    `answers` are the session's current answers (answered or explicitly skipped) to the
    conflict's instrument, by item id; `differing_items` counts the instrument's items whose
    answer here differs from another version's (an item answered in one version only differs).
    """

    session_id: str
    device_id: str
    device_label: str | None
    state: SessionState
    started_at: str
    submitted_at: str | None
    submitted_by: str | None  # staff username; None when the patient submitted (or unknown)
    answers: Mapping[str, Answer]
    differing_items: int
    chosen: bool

    @property
    def answer_count(self) -> int:
        """How many current answers the session has for the instrument (skips included)."""
        return len(self.answers)


@dataclass(frozen=True, slots=True)
class ItemComparison:
    """One item of the instrument across the versions (`answers` in `versions` order)."""

    item_id: str
    answers: tuple[Answer | None, ...]
    differs: bool


@dataclass(frozen=True, slots=True)
class ConflictReview:
    """A flagged conflict with its versions, item by item, and which version counts and why."""

    conflict: Conflict
    versions: tuple[ConflictVersion, ...]  # in the conflict's order (started first first)
    items: tuple[ItemComparison, ...]  # the instrument's items in its order
    reason: Reason
    # The visit's current choice (who, when, why), None while the rule alone decides.
    resolution: SessionChoice | None = None

    @property
    def subject_code(self) -> str:
        return self.conflict.subject_code

    @property
    def visit_code(self) -> str:
        return self.conflict.visit_code

    @property
    def instrument_id(self) -> str:
        return self.conflict.instrument_id

    @property
    def chosen(self) -> ConflictVersion | None:
        """The version that counts (None when the visit's chosen session is another one)."""
        return next((v for v in self.versions if v.chosen), None)

    @property
    def differing_items(self) -> tuple[str, ...]:
        """Ids of the items whose answers differ between the versions."""
        return tuple(i.item_id for i in self.items if i.differs)

    def explain(self) -> str:
        """One line in English: which version counts, and why."""
        chosen = self.chosen
        # The id's end as well: kiosks keep the default label "kiosk" unless named at set-up.
        where = (
            f" ({chosen.device_label or 'device'} {chosen.device_id[-6:]})"
            if chosen is not None
            else ""
        )
        why = ""
        if self.reason == "chosen_by_review" and self.resolution is not None:
            r = self.resolution
            who = r.chosen_by_username or f"staff {r.chosen_by}"
            why = f" by {who} on {r.chosen_at}: {r.reason}"
        return f"{_EXPLAIN[self.reason]}{where}{why}; both versions are kept"


def _same(a: Answer | None, b: Answer | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.status, a.value) == (b.status, b.value)


def _reason(chosen: Session | None, others: Sequence[Session]) -> Reason:
    if chosen is None or not others:
        return "other_session"
    if chosen.chosen_by_review:
        return "chosen_by_review"
    runner_up = max(others, key=session_rank)
    if chosen.state == "submitted":
        if runner_up.state != "submitted":
            return "only_submitted"
        if (chosen.submitted_at or "") != (runner_up.submitted_at or ""):
            return "submitted_last"
        return "same_time"
    return "started_last" if chosen.started_at != runner_up.started_at else "same_time"


def _device_label(db: StudyDb, device_id: str) -> str | None:
    row = db.conn.execute("SELECT label FROM devices WHERE id=?", [device_id]).fetchone()
    return str(row["label"]) if row and row["label"] is not None else None


def _username(db: StudyDb, staff_id: str | None) -> str | None:
    if staff_id is None:
        return None
    try:
        return staff_by_id(db, staff_id).username
    except UnknownStaff:
        return None


class _Reads:
    """What several conflicts of one visit share (its sessions, their answers), read once."""

    def __init__(self, db: StudyDb) -> None:
        self.db = db
        self.sessions: dict[str, list[Session]] = {}
        self.answers: dict[str, dict[str, Answer]] = {}
        self.choices: dict[str, SessionChoice | None] = {}

    def subject_sessions(self, subject_code: str) -> list[Session]:
        if subject_code not in self.sessions:
            self.sessions[subject_code] = subject_sessions(self.db, subject_code)
        return self.sessions[subject_code]

    def current_choice(self, visit_id: str) -> SessionChoice | None:
        if visit_id not in self.choices:
            self.choices[visit_id] = current_choice(self.db, visit_id)
        return self.choices[visit_id]

    def current_answers(self, session_id: str) -> dict[str, Answer]:
        if session_id not in self.answers:
            self.answers[session_id] = current_answers(self.db, session_id)
        return self.answers[session_id]


def review_conflict(db: StudyDb, conflict: Conflict) -> ConflictReview:
    """One flagged conflict read back for review (UnknownSession if a session is missing)."""
    return _review(_Reads(db), conflict)


def _review(reads: _Reads, conflict: Conflict) -> ConflictReview:
    db = reads.db
    visit_sessions = [
        s
        for s in reads.subject_sessions(conflict.subject_code)
        if s.visit_code == conflict.visit_code
    ]
    by_id = {s.id: s for s in visit_sessions}
    missing = [sid for sid in conflict.session_ids if sid not in by_id]
    if missing:
        raise UnknownSession(f"conflict {conflict.entry_id}: no session {missing[0]!r}")
    sessions = [by_id[sid] for sid in conflict.session_ids]
    visit_choice = choose_session(visit_sessions)
    chosen = next((s for s in sessions if visit_choice and s.id == visit_choice.id), None)
    answers = [
        {
            item: a
            for item, a in reads.current_answers(s.id).items()
            if a.instrument_id == conflict.instrument_id
        }
        for s in sessions
    ]
    order = list(load_instrument(conflict.instrument_id).item_ids)
    order += sorted({i for given in answers for i in given} - set(order))
    items = []
    for item_id in order:
        first, *rest = given_by_version = tuple(given.get(item_id) for given in answers)
        differs = any(not _same(first, a) for a in rest)
        items.append(ItemComparison(item_id, given_by_version, differs))
    versions = []
    for n, (session, given) in enumerate(zip(sessions, answers, strict=True)):
        differing = sum(1 for i in items if any(not _same(i.answers[n], a) for a in i.answers))
        versions.append(
            ConflictVersion(
                session_id=session.id,
                device_id=session.device_id,
                device_label=_device_label(db, session.device_id),
                state=session.state,
                started_at=session.started_at,
                submitted_at=session.submitted_at,
                submitted_by=_username(db, session.submitted_by),
                answers=given,
                differing_items=differing,
                chosen=session is chosen,
            )
        )
    others = [s for s in sessions if s is not chosen]
    resolution = reads.current_choice(sessions[0].visit_id) if sessions else None
    return ConflictReview(
        conflict, tuple(versions), tuple(items), _reason(chosen, others), resolution
    )


def review_conflicts(db: StudyDb) -> list[ConflictReview]:
    """Every conflict flagged by a bundle import, read back for review, oldest first."""
    reads = _Reads(db)
    reviews = []
    for conflict in list_conflicts(db):
        reviews.append(_review(reads, conflict))
        if len(reads.sessions) > _CACHED_SUBJECTS:  # conflicts come visit by visit: keep few
            reads = _Reads(db)
    return reviews
