"""The reports' reads: every subject as it was known at the end of a day (a true data cut-off).

A report "on DATE" shows only what the database knew at the end of that day (UTC), from the
time stamps every record carries, the same ones its audit entries carry:

* subjects registered (``created_at``) by then;
* a visit is *complete* if a session of it was submitted by then; the session that counts is
  the reviewer's newest choice made by then, else the one submitted last by then (the rule of
  `_chosen_session`, applied to what existed on the day);
* a visit is *missed* if its ``visit.missed`` audit entry is dated by then;
* a visit is *in progress* if a session was started by then but not submitted;
* scores are the rows of the counting session computed by then and not superseded by then (a
  correction made later is not seen; one made earlier is);
* a withdrawal counts if it was recorded by then.

Everything is read in chunks of subjects inside one read transaction that the caller opens
(`read_snapshot`), so a report never mixes two states of a database another process writes to.

Reads only.

Public API
----------

- `cutoff(on) -> text`: the first time stamp after the day `on` (records before it count)
- `iter_report_subjects(db, *, on, methods, codes=None)`: the subjects as known on `on`
- `ReportSubject`: one subject as known on a day
- `ReportVisit`: one visit of a subject as known on a day (only visits something happened to)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from respine_desktop.schedule import VisitState
from respine_desktop.storage._database import StudyDb
from respine_desktop.storage.stored_values import StoredValues, score_values

__all__ = ["ReportSubject", "ReportVisit", "cutoff", "iter_report_subjects"]

_CHUNK = 200


@dataclass(frozen=True, slots=True)
class ReportVisit:
    """A visit something happened to by the cut-off: its state then and the counting session."""

    visit_code: str
    state: VisitState
    actual_date: date | None = None
    missed_reason: str | None = None
    session_id: str | None = None
    submitted_at: str | None = None
    # instrument id -> {score key: value} of the counting session's scores known on the day
    scores: Mapping[str, Mapping[str, float | None]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ReportSubject:
    """A subject as known on a day: day 0, the visits something happened to, a withdrawal."""

    code: str
    site_code: str
    day0: date
    registered_at: str
    visits: Mapping[str, ReportVisit]
    withdrawn_on: date | None = None
    withdrawal_reason: str | None = None


def cutoff(on: date) -> str:
    """The first time stamp after the day `on` (UTC): a record counts if stamped before it."""
    return f"{(on + timedelta(days=1)).isoformat()}T00:00:00"


def _in(ids: Collection[str]) -> str:
    return ", ".join("?" for _ in ids)


def _has_withdrawals(db: StudyDb) -> bool:
    row = db.conn.execute(
        "SELECT 1 AS x FROM sqlite_master WHERE type='table' AND name='withdrawals'"
    ).fetchone()
    return row is not None


_STORED_VALUES = StoredValues()


def _chunk(
    db: StudyDb,
    rows: list[sqlite3.Row],
    cut: str,
    methods: Mapping[str, str],
    withdrawals: bool,
) -> Iterator[ReportSubject]:
    ids = [str(r["id"]) for r in rows]
    marks = _in(ids)
    conn = db.conn
    # every answer of these subjects keeps its item's rule, their rows hold texts where texts
    # are stored (`stored_values`): a report lists them
    _STORED_VALUES.check_subjects(conn, ids)
    visits: dict[str, dict[str, sqlite3.Row]] = {}
    for r in conn.execute(
        "SELECT id, subject_id, visit_code, actual_date, missed_reason FROM visits "
        f"WHERE subject_id IN ({marks})",
        ids,
    ):
        visits.setdefault(r["subject_id"], {})[r["id"]] = r
    missed: dict[str, str] = {}
    for r in conn.execute(
        "SELECT entity_id, min(at) AS at FROM audit_log WHERE action='visit.missed' "
        f"AND at < ? AND subject_id IN ({marks}) GROUP BY entity_id",
        [cut, *ids],
    ):
        missed[r["entity_id"]] = r["at"]
    sessions: dict[str, list[sqlite3.Row]] = {}
    for r in conn.execute(
        "SELECT x.id, x.visit_id, x.started_at, x.submitted_at FROM sessions x "
        f"WHERE x.subject_id IN ({marks}) AND x.started_at < ? ORDER BY x.started_at, x.id",
        [*ids, cut],
    ):
        sessions.setdefault(r["visit_id"], []).append(r)
    choices: dict[str, str] = {}
    for r in conn.execute(
        "SELECT c.visit_id, c.session_id FROM session_choices c JOIN visits v ON v.id = c.visit_id "
        f"WHERE v.subject_id IN ({marks}) AND c.chosen_at < ? ORDER BY c.chosen_at, c.rowid",
        [*ids, cut],
    ):
        choices[r["visit_id"]] = r["session_id"]  # the newest by the cut-off wins
    pairs = " OR ".join("(c.instrument_id=? AND c.method=?)" for _ in methods)
    params: list[Any] = [v for pair in methods.items() for v in pair]
    scores: dict[str, dict[str, Mapping[str, float | None]]] = {}
    for r in conn.execute(
        "SELECT c.session_id, c.instrument_id, c.id, c.scores FROM scores c "
        "JOIN sessions x ON x.id = c.session_id "
        f"WHERE x.subject_id IN ({marks}) AND ({pairs}) AND c.computed_at < ? "
        "AND (c.superseded_at IS NULL OR c.superseded_at >= ?) ORDER BY c.computed_at, c.rowid",
        [*ids, *params, cut, cut],
    ):
        scores.setdefault(r["session_id"], {})[r["instrument_id"]] = score_values(
            r["id"], r["scores"]
        )
    withdrawn: dict[str, sqlite3.Row] = {}
    if withdrawals:
        for r in conn.execute(
            "SELECT subject_id, withdrawn_on, reason FROM withdrawals "
            f"WHERE subject_id IN ({marks}) AND recorded_at < ?",
            [*ids, cut],
        ):
            withdrawn[r["subject_id"]] = r
    for row in rows:
        mine: dict[str, ReportVisit] = {}
        for vid, v in visits.get(row["id"], {}).items():
            known = sessions.get(vid, [])
            submitted = [
                s for s in known if s["submitted_at"] is not None and s["submitted_at"] < cut
            ]
            chosen = None
            if vid in choices:
                chosen = next((s for s in submitted if s["id"] == choices[vid]), None)
            if chosen is None and submitted:
                chosen = max(submitted, key=lambda s: (s["submitted_at"], s["started_at"], s["id"]))
            if chosen is not None:
                mine[v["visit_code"]] = ReportVisit(
                    v["visit_code"],
                    "complete",
                    actual_date=date.fromisoformat(v["actual_date"] or chosen["submitted_at"][:10]),
                    session_id=chosen["id"],
                    submitted_at=chosen["submitted_at"],
                    scores=scores.get(chosen["id"], {}),
                )
            elif vid in missed:
                mine[v["visit_code"]] = ReportVisit(
                    v["visit_code"], "missed", missed_reason=v["missed_reason"]
                )
            elif known:
                mine[v["visit_code"]] = ReportVisit(v["visit_code"], "in_progress")
        w = withdrawn.get(row["id"])
        yield ReportSubject(
            code=row["code"],
            site_code=row["site_code"],
            day0=date.fromisoformat(row["day0"]),
            registered_at=row["created_at"],
            visits=mine,
            withdrawn_on=date.fromisoformat(w["withdrawn_on"]) if w else None,
            withdrawal_reason=w["reason"] if w else None,
        )


def iter_report_subjects(
    db: StudyDb,
    *,
    on: date,
    methods: Mapping[str, str],
    codes: Collection[str] | None = None,
) -> Iterator[ReportSubject]:
    """The subjects registered by the end of `on`, in code order, as known then (module doc).

    `methods` names the scoring method read per instrument; `codes` limits the walk to some
    subjects. Run it inside `read_snapshot` for one consistent state of a database others write.
    """
    cut = cutoff(on)
    withdrawals = _has_withdrawals(db)
    last = ""
    wanted = sorted(codes) if codes is not None else None
    while True:
        if wanted is not None:
            batch = wanted[:_CHUNK]
            wanted = wanted[_CHUNK:]
            if not batch:
                return
            rows = db.conn.execute(
                "SELECT id, code, site_code, day0, created_at FROM subjects "
                f"WHERE code IN ({_in(batch)}) AND created_at < ? ORDER BY code",
                [*batch, cut],
            ).fetchall()
            if rows:
                yield from _chunk(db, rows, cut, methods, withdrawals)
            continue
        rows = db.conn.execute(
            "SELECT id, code, site_code, day0, created_at FROM subjects "
            "WHERE code > ? AND created_at < ? ORDER BY code LIMIT ?",
            [last, cut, _CHUNK],
        ).fetchall()
        if not rows:
            return
        yield from _chunk(db, rows, cut, methods, withdrawals)
        last = rows[-1]["code"]
