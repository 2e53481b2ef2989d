"""Frozen records the storage API returns: plain values for the UI, reports and exports."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Final, Literal, NamedTuple

from respine_desktop.storage._database_info import DatabaseInfo as DatabaseInfo

if TYPE_CHECKING:  # annotations only: the schedule (and the study) load after the kiosk's start
    from respine_desktop.schedule import VisitState, VisitStatus, Window

Role = Literal["admin", "investigator", "coordinator", "data_manager"]
ROLES: tuple[Role, ...] = ("admin", "investigator", "coordinator", "data_manager")
SessionState = Literal["in_progress", "parked", "submitted"]
SESSION_STATES: tuple[SessionState, ...] = ("in_progress", "parked", "submitted")
AnswerStatus = Literal["answered", "skipped"]
AnswerValue = int | float


class Skipped(enum.Enum):
    """The type of `SKIPPED`."""

    SKIPPED = "skipped"


SKIPPED: Final = Skipped.SKIPPED
"""Pass as the value of `record_answer` when the patient chose to skip the item."""


@dataclass(frozen=True, slots=True)
class Staff:
    """A staff account (never carries the PIN hash)."""

    id: str
    username: str
    role: Role
    active: bool
    failed_attempts: int
    locked_until: str | None
    created_at: str
    created_by: str | None


@dataclass(frozen=True, slots=True)
class Subject:
    """A pseudonymous subject: code like ``RSP-01-023``, site, day 0, year of birth at most."""

    id: str
    code: str
    site_code: str
    day0: date
    year_of_birth: int | None
    created_at: str
    created_by: str | None


@dataclass(frozen=True, slots=True)
class VisitRecord:
    """A subject's visit with its schedule and status as of the day asked for."""

    subject_id: str
    subject_code: str
    code: str
    window: Window
    status: VisitStatus
    state: VisitState | None
    visit_id: str | None = None
    actual_date: date | None = None
    missed_reason: str | None = None
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class WorklistEntry:
    """One line of a site's worklist: a subject × visit with its status today."""

    subject_id: str
    subject_code: str
    site_code: str
    day0: date
    visit_code: str
    status: VisitStatus
    target_date: date
    window_opens: date
    window_closes: date
    session_id: str | None = None


@dataclass(frozen=True, slots=True)
class Session:
    """One visit's questionnaire sitting (VAS → ODI → SF-36), open until submitted."""

    id: str
    subject_id: str
    subject_code: str
    visit_id: str
    visit_code: str
    instruments: tuple[str, ...]
    state: SessionState
    position: int
    language: str | None
    device_id: str
    started_at: str
    started_by: str | None
    parked_at: str | None = None
    parked_by: str | None = None
    resumed_at: str | None = None
    resumed_by: str | None = None
    submitted_at: str | None = None
    submitted_by: str | None = None
    # The visit's current reviewed choice (`conflict_resolution`): it counts whatever the times.
    chosen_by_review: bool = False

    @property
    def is_open(self) -> bool:
        return self.state != "submitted"


class Answer(NamedTuple):
    """One answer row (append-only): the ``answers`` columns, in the table's order.

    `value` is an int code for choice items, mm for the VAS. A named tuple, not a dataclass:
    the exports read millions of them, built from rows that select exactly these fields.
    """

    id: str
    session_id: str
    instrument_id: str
    instrument_version: str
    instrument_checksum: str
    item_id: str
    value: AnswerValue | None
    status: AnswerStatus
    language: str
    app_version: str
    device_id: str
    given_at: str
    given_by: str | None = None
    supersedes: str | None = None
    reason: str | None = None
    vas_line_mm: float | None = None
    # The VAS calibration in force (its id, or "uncalibrated"); None for other rows and old ones.
    vas_calibration: str | None = None


@dataclass(frozen=True, slots=True)
class Score:
    """The scores of one instrument of one session by one method, as computed at `computed_at`."""

    id: str
    session_id: str
    instrument_id: str
    method: str
    values: Mapping[str, float | None]
    scoring_version: str
    computed_at: str
    superseded_at: str | None = None
    superseded_by: str | None = None
    computed_by: str | None = None  # the staff whose correction caused it, None: the patient's
    device_id: str = ""  # the device that computed it

    @property
    def current(self) -> bool:
        return self.superseded_at is None


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One entry of a device's hash-chained audit log."""

    id: str
    device_id: str
    seq: int
    at: str
    actor: str | None
    action: str
    subject_id: str | None
    entity: str
    entity_id: str | None
    payload: Mapping[str, object]
    prev_hash: str
    hash: str


@dataclass(frozen=True, slots=True)
class SessionCounts:
    """Sessions by state (``completed`` = submitted)."""

    completed: int
    in_progress: int
    parked: int


@dataclass(frozen=True, slots=True)
class Counts:
    """Row counts for `status`."""

    subjects: int
    visits: int
    sessions: SessionCounts
    answers: int
    current_answers: int
    scores: int
    audit_entries: int
    staff: int
    devices: int
    sites: int


@dataclass(frozen=True, slots=True)
class VerifyResult:
    """The outcome of `verify_database`: ``ok`` and a one-line summary or the first problem."""

    ok: bool
    message: str
    audit_entries: int = 0
    answers: int = 0
    chains: int = 0
    details: tuple[str, ...] = field(default_factory=tuple)
