"""The rows a site bundle carries: per table, a named tuple whose fields are the bundle's columns.

A bundle stores each row as a list of its column values in a fixed order (the bundle format);
these tuples give the values their names. They are the stored columns as they are (texts of
JSON, times), not the records the API returns. Answer rows are `Answer` (same columns).
"""

from __future__ import annotations

from typing import NamedTuple


class SiteLine(NamedTuple):
    """A ``sites`` row of a bundle."""

    code: str
    created_at: str


class DeviceLine(NamedTuple):
    """A ``devices`` row of a bundle (no chain head: the hub derives it)."""

    id: str
    label: str
    site_code: str | None
    registered_at: str


class StaffLine(NamedTuple):
    """A ``staff`` row of a bundle (no PIN hash, failure counter or lock)."""

    id: str
    username: str
    role: str
    active: int
    created_at: str
    created_by: str | None


class SubjectLine(NamedTuple):
    """A ``subjects`` row of a bundle."""

    id: str
    code: str
    site_code: str
    day0: str
    year_of_birth: int | None
    device_id: str
    created_at: str
    created_by: str | None


class VisitLine(NamedTuple):
    """A ``visits`` row of a bundle."""

    id: str
    subject_id: str
    visit_code: str
    state: str
    actual_date: str | None
    missed_reason: str | None
    updated_at: str


class SessionLine(NamedTuple):
    """A ``sessions`` row of a bundle."""

    id: str
    visit_id: str
    subject_id: str
    visit_code: str
    state: str
    position: int
    language: str | None
    device_id: str
    started_at: str
    started_by: str | None
    parked_at: str | None
    parked_by: str | None
    resumed_at: str | None
    resumed_by: str | None
    submitted_at: str | None
    submitted_by: str | None


class ChoiceLine(NamedTuple):
    """A ``session_choices`` row of a bundle."""

    id: str
    visit_id: str
    session_id: str
    chosen_at: str
    chosen_by: str
    device_id: str
    reason: str


class ScoreLine(NamedTuple):
    """A ``scores`` row of a bundle (``scores``: the values as JSON text)."""

    id: str
    session_id: str
    instrument_id: str
    method: str
    scores: str
    scoring_version: str
    computed_at: str
    computed_by: str | None
    device_id: str
    superseded_at: str | None
    superseded_by: str | None


class AuditLine(NamedTuple):
    """An ``audit_log`` row of a bundle (``payload``: JSON text)."""

    id: str
    device_id: str
    seq: int
    at: str
    actor: str | None
    action: str
    subject_id: str | None
    entity: str
    entity_id: str | None
    payload: str
    prev_hash: str
    hash: str
