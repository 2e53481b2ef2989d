"""Site bundles on the database side: the rows a bundle carries, and merging them into a hub.

Reading (`bundle_rows`): every table a hub needs, in a fixed column order (`BUNDLE_COLUMNS`),
streamed. Staff rows carry no PIN hash, failure counter or lock. Devices carry no chain head (the
hub derives it from the entries it holds). With `since`, the state tables (sites, devices, staff,
subjects, visits, sessions: small, and mutable) and the session choices (few) are still
complete, while the append-only streams
are cut: each device's audit chain from its first entry at or after `since` to its end (a
contiguous suffix, so the hub can link it to what it has), the answers those entries record, and
the score rows computed or superseded since.

Merging (`merge_bundle`), in one transaction that commits everything or nothing:

* every row is validated first by the rules the kiosk itself applies (`_validation`); the
  forward-only rules decide what a bundle may change in a record the hub has (`_merge_rules`:
  a submitted session, an answer, a score are never rewritten; a true disagreement such as two
  days 0 for one subject code is kept as the hub has it and flagged as a ``bundle.mismatch``);
  after writing, the scores of every touched session are recomputed from the merged answers
  and a difference refuses the bundle (`_merge_scores`); the result counts new, updated,
  conflicting and unchanged rows per table (docs/conflicts.md);
* rows are matched by UUID; a row the hub has is not written again, so importing a bundle twice
  changes nothing (no row, no audit entry);
* a subject code the hub knows under another id (the same patient registered on two kiosks) is
  the same subject: the bundle's visits and sessions are attached to the hub's subject (visit ids
  are recomputed as ``uuid5(subject id, visit)``), while the imported audit entries keep the ids
  they were hashed with;
* visits and sessions are mutable state, moving forward only: a submitted session over an open
  one; a complete or missed visit over an open one (never one over the other);
* session choices (a reviewer's choice of the session that counts, `conflict_resolution`) are
  append-only: new ones are inserted in the bundle's order, each checked to name a session of
  its visit and to match the ``conflict.resolved`` audit entry the bundle carries for it; the
  visit's stored session follows its chosen session. A bundle without the table (an older
  version's) carries none;
* staff arrive without PIN hashes and disabled (they can never log in on the hub), renamed
  ``<username>@<site>.<last 6 hex digits of their id>`` so they never collide with local accounts;
* audit entries keep their device, seq and hashes: each device's chain must continue the hub's
  copy of it exactly (same hashes up to the hub's head, then seq + 1 with the right prev_hash),
  otherwise the bundle is refused (a gap: import the earlier bundle first; a fork: the chains
  diverge). New answer entries are checked against the answer rows (digests) before commit;
* when two sessions of the same subject × visit both hold answers to the same instrument (two
  kiosks did the same questionnaire), both are kept and a ``bundle.conflict`` audit entry flags it
  for review (`list_conflicts`), once per set of sessions;
* when anything was written, a ``bundle.imported`` audit entry on this device's chain records the
  bundle id, its source and the row counts.

Refusals raise `MergeRefused` (one line, the transaction rolled back; exported by the package).

Public API
----------

- `TABLES`: the tables a bundle carries, in the order they are written and merged
- `BUNDLE_COLUMNS`: each table's columns, in the order of a bundle's rows
- `bundle_rows(db, table, since=None) -> iter[row]`: a table's rows for a bundle (streamed)
- `count_rows(db, table, since=None) -> int`: how many rows `bundle_rows` yields
- `merge_bundle(db, rows, *, bundle, ...) -> MergeResult`: one transaction, all or nothing
- `MergeResult`: rows new, updated, conflicting, unchanged per table; conflicts flagged
- `list_conflicts(db) -> [Conflict]`: every conflict flagged by an import, oldest first
- `Conflict`: a subject x visit x instrument two sessions (two kiosks) both answered
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from respine_desktop.storage import _audit as audit
from respine_desktop.storage._answers import ANSWER, digest
from respine_desktop.storage._audit import GENESIS, entry_hash
from respine_desktop.storage._bundle_rows import (
    AuditLine,
    ChoiceLine,
    DeviceLine,
    ScoreLine,
    SessionLine,
    SiteLine,
    StaffLine,
    SubjectLine,
    VisitLine,
)
from respine_desktop.storage._chain_head import audit_chain_head
from respine_desktop.storage._chosen_session import chosen_sql
from respine_desktop.storage._conflict_resolution import RESOLVED_ACTION
from respine_desktop.storage._database import (
    StudyDb,
    plain_rows,
    scalar,
    select_list,
    transaction,
)
from respine_desktop.storage._driver import sqlite3
from respine_desktop.storage._errors import InvalidInput, StorageError
from respine_desktop.storage._merge_rules import (
    first_difference,
    merged_visit,
    score_outcome,
    session_outcome,
)
from respine_desktop.storage._merge_scores import check_scores
from respine_desktop.storage._records import Answer
from respine_desktop.storage._validation import RowChecker
from respine_desktop.storage._visits import visit_id

__all__ = [
    "BUNDLE_COLUMNS",
    "TABLES",
    "Conflict",
    "MergeResult",
    "bundle_rows",
    "count_rows",
    "list_conflicts",
    "merge_bundle",
]

_ANSWER_ACTIONS = ("answer.recorded", "answer.corrected")
_CONFLICT_ACTION = "bundle.conflict"
_MISMATCH_ACTION = "bundle.mismatch"
_IMPORT_ACTION = audit.BUNDLE_IMPORTED
_IMPORTED_PIN = "!imported: no PIN on this database"

BUNDLE_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "sites": SiteLine._fields,
    "devices": DeviceLine._fields,
    "staff": StaffLine._fields,
    "subjects": SubjectLine._fields,
    "visits": VisitLine._fields,
    "sessions": SessionLine._fields,
    "session_choices": ChoiceLine._fields,
    "answers": Answer._fields,
    "scores": ScoreLine._fields,
    "audit_log": AuditLine._fields,
}
TABLES: tuple[str, ...] = tuple(BUNDLE_COLUMNS)
_Line = TypeVar("_Line", bound=tuple[Any, ...])
_BATCH = 500
_MERGE_CACHE_KIB = -65536  # 64 MiB of page cache while merging (negative: KiB, SQLite's rule)


class MergeRefused(StorageError):
    """The bundle cannot be merged into this database; nothing was written."""


@dataclass(frozen=True, slots=True)
class Conflict:
    """A subject × visit × instrument that two sessions (two kiosks) both answered."""

    entry_id: str
    flagged_at: str
    subject_code: str
    visit_code: str
    instrument_id: str
    session_ids: tuple[str, ...]
    device_ids: tuple[str, ...]
    bundle_id: str | None


@dataclass
class MergeResult:
    """What `merge_bundle` did, per table: the bundle's rows, and how many were new
    (inserted), updated, conflicting (the hub's copy kept, the mismatch flagged) and unchanged;
    the conflicts and mismatches flagged."""

    inserted: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    updated: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    rows: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    conflicting: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TABLES, 0))
    subjects_matched_by_code: int = 0
    day0_mismatches: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    new_mismatches: int = 0
    conflicts: list[Conflict] = field(default_factory=list)
    audit_entry: str | None = None

    @property
    def unchanged(self) -> dict[str, int]:
        """Per table, the bundle's rows that were neither new, updated nor conflicting."""
        return {
            t: self.rows[t] - self.inserted[t] - self.updated[t] - self.conflicting[t]
            for t in TABLES
        }

    def summary(self) -> dict[str, dict[str, int]]:
        """Per table: new / updated / conflicting / unchanged counts (a refused row refuses
        the whole bundle, so a merged bundle has none)."""
        unchanged = self.unchanged
        return {
            t: {
                "new": self.inserted[t],
                "updated": self.updated[t],
                "conflicting": self.conflicting[t],
                "unchanged": unchanged[t],
            }
            for t in TABLES
        }

    @property
    def changed(self) -> bool:
        return any(self.inserted.values()) or any(self.updated.values()) or self.new_mismatches > 0


# -- reading ---------------------------------------------------------------------------------


def _select(table: str) -> str:
    return f"SELECT {', '.join(BUNDLE_COLUMNS[table])} FROM {table}"


def bundle_rows(db: StudyDb, table: str, since: str | None = None) -> Iterator[tuple[Any, ...]]:
    """The rows of one bundle table (columns in `BUNDLE_COLUMNS` order), streamed."""
    conn = db.conn
    if table not in BUNDLE_COLUMNS:
        raise ValueError(f"no bundle table {table!r}")
    # Plain tuples: a bundle stores each row as the list of its values in that order.
    if since is None or table not in ("answers", "scores", "audit_log"):
        order = {"sites": "code", "audit_log": "device_id, seq"}.get(table, "rowid")
        yield from plain_rows(conn, f"{_select(table)} ORDER BY {order}")
        return
    if table == "scores":
        yield from plain_rows(
            conn,
            f"{_select(table)} WHERE computed_at >= ? OR superseded_at >= ? ORDER BY rowid",
            [since, since],
        )
        return
    starts = conn.execute(
        "SELECT device_id, min(seq) AS first_seq FROM audit_log WHERE at >= ? "
        "GROUP BY device_id ORDER BY device_id",
        [since],
    ).fetchall()
    for start in starts:
        device, first = start["device_id"], start["first_seq"]
        if table == "audit_log":
            yield from plain_rows(
                conn, f"{_select(table)} WHERE device_id=? AND seq>=? ORDER BY seq", [device, first]
            )
        else:
            columns = select_list(BUNDLE_COLUMNS["answers"], "a.")
            yield from plain_rows(
                conn,
                f"SELECT {columns} FROM audit_log l, json_each(l.payload, '$.answers') j "
                "JOIN answers a ON a.id = json_extract(j.value, '$[0]') "
                "WHERE l.device_id=? AND l.seq>=? AND l.action IN (?, ?) ORDER BY l.seq, j.key",
                [device, first, *_ANSWER_ACTIONS],
            )


def count_rows(db: StudyDb, table: str, since: str | None = None) -> int:
    """How many rows `bundle_rows` will yield about (an estimate for progress fractions only:
    0 for the streams `since` cuts, every row of the other tables)."""
    if table not in BUNDLE_COLUMNS:
        raise ValueError(f"no bundle table {table!r}")
    if since is not None and table in ("answers", "scores", "audit_log"):
        return 0
    return int(scalar(db.conn, f"SELECT count(*) FROM {table}"))


# -- merging ---------------------------------------------------------------------------------

RowSource = Callable[[str], Iterable[Sequence[Any]]]
"""``rows(table)``: the bundle's rows of a table, in `BUNDLE_COLUMNS` order (none for a table
the bundle's format does not have, e.g. session_choices in a bundle of format 1)."""


class _Merge:
    def __init__(
        self, db: StudyDb, result: MergeResult, tick: Callable[[], None], source_site: str
    ) -> None:
        self.db = db
        self.source_site = source_site
        self.source_device = ""
        self.conn = db.conn
        self.result = result
        self.tick = tick
        self.subject_map: dict[str, str] = {}
        self.visit_map: dict[str, str] = {}
        self.touched_sessions: set[str] = set()
        self.new_answer_entries: list[tuple[str, int, int]] = []  # (device, first seq, last seq)
        self.new_choices: list[ChoiceLine] = []
        self.scored_sessions: set[str] = set()
        self.visit_codes = frozenset(v.code for v in db.study.visits)
        self.mismatch_entries: list[tuple[str, str, str, dict[str, Any]]] = []

    def _rows(
        self, table: str, line: type[_Line], rows: Iterable[Sequence[Any]]
    ) -> Iterator[_Line]:
        """The bundle's rows of `table`, each as the named tuple `line` of its columns."""
        columns = BUNDLE_COLUMNS[table]
        width = len(columns)
        check_row = RowChecker(table, columns, self.visit_codes)
        counts = self.result.rows
        for n, row in enumerate(rows, start=1):
            if not isinstance(row, list | tuple) or len(row) != width:
                raise MergeRefused(f"bundle table {table}, row {n}: expected {width} columns")
            try:
                check_row(row)
            except InvalidInput as exc:
                raise MergeRefused(f"bundle {exc}") from None
            counts[table] += 1
            self.tick()
            yield tuple.__new__(line, row)

    def refuse_change(self, table: str, row_id: object, column: str | None, what: str) -> None:
        raise MergeRefused(
            f"bundle {table} row {row_id}, field {column}: {what} (the hub's copy differs)"
        )

    def same_as_hub(self, table: str, key: str, row: Sequence[Any], where: str = "id") -> bool:
        """True when the hub has this row (by `where`) with the same content; False when it
        does not have it; refused when it has another content under that key."""
        columns = BUNDLE_COLUMNS[table]
        found = plain_rows(
            self.conn, f"SELECT {select_list(columns)} FROM {table} WHERE {where}=?", [key]
        ).fetchone()
        if found is None:
            return False
        column = first_difference(columns, found, row)
        if column is not None:
            self.refuse_change(table, key, column, "an existing record cannot be rewritten")
        return True

    def flag_mismatch(
        self, table: str, subject_id: str, key: str, text: str, **detail: object
    ) -> None:
        """A true disagreement: the hub's copy is kept, the mismatch flagged for review.
        `detail` (field, hub, bundle, visit_code) goes into the audit entry for the console."""
        self.result.conflicting[table] += 1
        self.result.mismatches.append(text)
        entity_id = f"{table}:{key}:{self.source_device}"
        payload: dict[str, Any] = {"table": table, "record": key, "mismatch": text}
        payload.update({k: v for k, v in detail.items() if v is not None})
        self.mismatch_entries.append((entity_id, subject_id, table, payload))

    def one(self, sql: str, params: Sequence[Any]) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.conn.execute(sql, params).fetchone()
        return row

    # state tables

    def sites(self, rows: Iterable[Sequence[Any]]) -> None:
        for site in self._rows("sites", SiteLine, rows):
            # a site's row is made by each database that knows it (its own time): by code only
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO sites (code, created_at) VALUES (?, ?)",
                [site.code, site.created_at],
            )
            self.result.inserted["sites"] += cur.rowcount

    def devices(self, rows: Iterable[Sequence[Any]]) -> None:
        for device in self._rows("devices", DeviceLine, rows):
            if self.same_as_hub("devices", device.id, device):
                continue
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO devices (id, label, site_code, registered_at, audit_seq, "
                "audit_head) VALUES (?, ?, ?, ?, 0, ?)",
                [device.id, device.label, device.site_code, device.registered_at, GENESIS],
            )
            self.result.inserted["devices"] += cur.rowcount

    def staff(self, rows: Iterable[Sequence[Any]]) -> None:
        for account in self._rows("staff", StaffLine, rows):
            staff_id = account.id
            known = self.one(
                "SELECT role, created_at, created_by FROM staff WHERE id=?", [staff_id]
            )
            if known is not None:
                mine = (known["role"], known["created_at"], known["created_by"])
                theirs = (account.role, account.created_at, account.created_by)
                column = first_difference(("role", "created_at", "created_by"), mine, theirs)
                if column is not None:
                    self.refuse_change("staff", staff_id, column, "a staff record is not rewritten")
                continue
            name = str(account.username)
            if "@" not in name:
                name = f"{name}@{self.source_site.lower()}.{str(staff_id)[-6:]}"
            base, n = name, 1
            while self.one("SELECT 1 FROM staff WHERE username=?", [name]):
                n += 1
                name = f"{base}.{n}"
            self.conn.execute(
                "INSERT INTO staff (id, username, role, pin_hash, active, created_at, created_by) "
                "VALUES (?, ?, ?, ?, 0, ?, ?)",
                [
                    staff_id,
                    name,
                    account.role,
                    _IMPORTED_PIN,
                    account.created_at,
                    account.created_by,
                ],
            )
            self.result.inserted["staff"] += 1

    def subjects(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in self._rows("subjects", SubjectLine, rows):
            subject_id, code = row.id, row.code
            if self.same_as_hub("subjects", subject_id, row):
                continue
            known = self.one("SELECT id, day0 FROM subjects WHERE code=?", [code])
            if known is not None:
                self.subject_map[subject_id] = known["id"]
                self.result.subjects_matched_by_code += 1
                if known["day0"] != row.day0:
                    # the hub's day 0 is kept; flagged for review (summary, audit)
                    self.result.day0_mismatches.append(str(code))
                    self.flag_mismatch(
                        "subjects",
                        known["id"],
                        str(code),
                        f"subject {code}: day 0 {known['day0']} on the hub, {row.day0} in the "
                        "bundle (the hub's kept)",
                        field="day0",
                        hub=known["day0"],
                        bundle=row.day0,
                    )
                continue
            self.conn.execute(
                f"INSERT INTO subjects ({', '.join(BUNDLE_COLUMNS['subjects'])}) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                row,
            )
            self.result.inserted["subjects"] += 1

    def visits(self, rows: Iterable[Sequence[Any]]) -> None:
        for row in self._rows("visits", VisitLine, rows):
            vid, code = row.id, row.visit_code
            subject_id = self.subject_map.get(row.subject_id, row.subject_id)
            existing = self.one(
                "SELECT id, state, actual_date, missed_reason, updated_at FROM visits "
                "WHERE subject_id=? AND visit_code=?",
                [subject_id, code],
            )
            if existing is None:
                new_id = visit_id(subject_id, code) if subject_id != row.subject_id else vid
                self.visit_map[vid] = new_id
                self.conn.execute(
                    "INSERT INTO visits (id, subject_id, visit_code, state, actual_date, "
                    "missed_reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [
                        new_id,
                        subject_id,
                        code,
                        row.state,
                        row.actual_date,
                        row.missed_reason,
                        row.updated_at,
                    ],
                )
                self.result.inserted["visits"] += 1
                continue
            self.visit_map[vid] = existing["id"]
            mine = row._replace(
                state=existing["state"],
                actual_date=existing["actual_date"],
                missed_reason=existing["missed_reason"],
                updated_at=existing["updated_at"],
            )
            merged, mismatch = merged_visit(mine, row)
            if mismatch is not None:
                field, _, values = mismatch.partition(": hub ")
                hub_value, _, bundle_value = values.partition(", bundle ")
                self.flag_mismatch(
                    "visits",
                    subject_id,
                    str(existing["id"]),
                    f"visit {code} ({vid}): {mismatch}",
                    field=field,
                    hub=hub_value,
                    bundle=bundle_value,
                    visit_code=code,
                )
            elif merged != mine:
                self.conn.execute(
                    "UPDATE visits SET state=?, actual_date=?, missed_reason=?, updated_at=? "
                    "WHERE id=?",
                    [
                        merged.state,
                        merged.actual_date,
                        merged.missed_reason,
                        merged.updated_at,
                        existing["id"],
                    ],
                )
                self.result.updated["visits"] += 1

    def sessions(self, rows: Iterable[Sequence[Any]]) -> None:
        columns = BUNDLE_COLUMNS["sessions"]
        # Mapped ids aside, a session's columns from ``state`` on change as it progresses.
        mutable = columns[columns.index("state") :]
        for row in self._rows("sessions", SessionLine, rows):
            values = row._replace(
                visit_id=self.visit_map.get(row.visit_id, row.visit_id),
                subject_id=self.subject_map.get(row.subject_id, row.subject_id),
            )
            found = plain_rows(
                self.conn, f"SELECT {select_list(columns)} FROM sessions WHERE id=?", [row.id]
            ).fetchone()
            if found is None:
                self.conn.execute(
                    f"INSERT INTO sessions ({', '.join(columns)}) "
                    f"VALUES ({', '.join('?' for _ in columns)})",
                    values,
                )
                self.result.inserted["sessions"] += 1
                self.touched_sessions.add(row.id)
                continue
            existing = tuple.__new__(SessionLine, found)
            outcome, column = session_outcome(existing, values)
            if outcome == "refused":
                self.refuse_change(
                    "sessions",
                    row.id,
                    column,
                    "a submitted session, its visit, subject or start are never rewritten",
                )
            if outcome == "updated":
                self.conn.execute(
                    f"UPDATE sessions SET {', '.join(c + '=?' for c in mutable)} WHERE id=?",
                    [*(getattr(values, c) for c in mutable), row.id],
                )
                self.result.updated["sessions"] += 1
                self.touched_sessions.add(row.id)

    # append-only streams

    def session_choices(self, rows: Iterable[Sequence[Any]]) -> None:
        columns = BUNDLE_COLUMNS["session_choices"]
        for row in self._rows("session_choices", ChoiceLine, rows):
            values = row._replace(visit_id=self.visit_map.get(row.visit_id, row.visit_id))
            if self.same_as_hub("session_choices", row.id, values):
                continue
            session = self.one("SELECT visit_id FROM sessions WHERE id=?", [values.session_id])
            if session is None or session["visit_id"] != values.visit_id:
                raise MergeRefused(
                    f"session choice {row.id}: session {values.session_id} is not a session of "
                    "its visit"
                )
            self.conn.execute(
                f"INSERT INTO session_choices ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})",
                values,
            )
            self.result.inserted["session_choices"] += 1
            self.new_choices.append(row)
            self.touched_sessions.add(values.session_id)

    def answers(self, rows: Iterable[Sequence[Any]]) -> None:
        columns = BUNDLE_COLUMNS["answers"]
        sql = (
            f"INSERT OR IGNORE INTO answers ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        batch: list[Answer] = []
        for row in self._rows("answers", Answer, rows):
            batch.append(row)
            if len(batch) >= _BATCH:
                self._insert_answers(sql, batch)
                batch = []
        self._insert_answers(sql, batch)

    def _insert_answers(self, sql: str, batch: list[Answer]) -> None:
        if not batch:
            return
        before = self.conn.total_changes
        self.conn.executemany(sql, batch)
        inserted = self.conn.total_changes - before
        if inserted:
            self.result.inserted["answers"] += inserted
            sessions = {r.session_id for r in batch}
            self.touched_sessions.update(sessions)
            self.scored_sessions.update(sessions)
        if inserted < len(batch):
            self._compare_known_answers(batch)

    def _compare_known_answers(self, batch: list[Answer]) -> None:
        """The batch's rows the hub had already must be the hub's rows exactly (append-only:
        an answer is never changed, even by a bundle whose chain was forged to match)."""
        columns = BUNDLE_COLUMNS["answers"]
        ids = [r.id for r in batch]
        found = {
            r[0]: r
            for r in plain_rows(
                self.conn,
                f"SELECT {select_list(columns)} FROM answers "
                f"WHERE id IN ({', '.join('?' for _ in ids)})",
                ids,
            )
        }
        for row in batch:
            mine = found.get(row.id)
            if mine is not None and tuple(mine) != tuple(row):
                column = first_difference(columns, mine, row)
                if column is not None:
                    self.refuse_change("answers", row.id, column, "an answer is never changed")

    def scores(self, rows: Iterable[Sequence[Any]]) -> None:
        """New score rows are inserted; a row the hub has may only gain its superseded stamp
        (`score_outcome`); the scores are recomputed after the merge (`check_scores`)."""
        columns = BUNDLE_COLUMNS["scores"]
        insert = (
            f"INSERT INTO scores ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        )
        batch: list[ScoreLine] = []
        for row in self._rows("scores", ScoreLine, rows):
            batch.append(row)
            if len(batch) >= _BATCH:
                self._merge_scores(insert, batch)
                batch = []
        self._merge_scores(insert, batch)

    def _merge_scores(self, insert: str, batch: list[ScoreLine]) -> None:
        if not batch:
            return
        columns = BUNDLE_COLUMNS["scores"]
        ids = [r.id for r in batch]
        found = {
            r[0]: tuple.__new__(ScoreLine, r)
            for r in plain_rows(
                self.conn,
                f"SELECT {select_list(columns)} FROM scores "
                f"WHERE id IN ({', '.join('?' for _ in ids)})",
                ids,
            )
        }
        new = [r for r in batch if r.id not in found]
        if new:
            self.conn.executemany(insert, new)
            self.result.inserted["scores"] += len(new)
            self.scored_sessions.update(r.session_id for r in new)
        for row in batch:
            mine = found.get(row.id)
            if mine is None:
                continue
            outcome, column = score_outcome(mine, row)
            if outcome == "refused":
                self.refuse_change("scores", row.id, column, "a score is never rewritten")
            if outcome == "updated":
                self.conn.execute(
                    "UPDATE scores SET superseded_at=?, superseded_by=? WHERE id=?",
                    [row.superseded_at, row.superseded_by, row.id],
                )
                self.result.updated["scores"] += 1
                self.scored_sessions.add(row.session_id)

    def audit_log(self, rows: Iterable[Sequence[Any]]) -> None:
        columns = BUNDLE_COLUMNS["audit_log"]
        insert = (
            f"INSERT INTO audit_log ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        device: str | None = None
        head_seq, head_hash, first_new, known = 0, GENESIS, 0, 0
        expected = 1
        batch: list[AuditLine] = []

        def close() -> None:
            if batch:
                self.conn.executemany(insert, batch)
                batch.clear()
            if device is not None and head_seq >= first_new > 0:
                self.conn.execute(
                    "UPDATE devices SET audit_seq=?, audit_head=? WHERE id=?",
                    [head_seq, head_hash, device],
                )
                self.new_answer_entries.append((device, first_new, head_seq))

        for row in self._rows("audit_log", AuditLine, rows):
            entry_id, dev, seq = row.id, row.device_id, row.seq
            if not isinstance(seq, int) or isinstance(seq, bool):
                raise MergeRefused(f"audit entry {entry_id}: seq {seq!r} is not an integer")
            if dev != device:
                close()
                device = dev
                head = self.one("SELECT audit_seq, audit_head FROM devices WHERE id=?", [dev])
                if head is None:
                    raise MergeRefused(f"audit entries of device {dev}, which the bundle lacks")
                head_seq, head_hash, first_new = int(head["audit_seq"]), str(head["audit_head"]), 0
                known = head_seq  # entries up to the hub's head must match its copy
                expected = seq
            if seq != expected:
                raise MergeRefused(
                    f"the audit chain of device {dev} in the bundle jumps from #{expected - 1} "
                    f"to #{seq}"
                )
            expected += 1
            mine = (
                self.one("SELECT hash FROM audit_log WHERE device_id=? AND seq=?", [dev, seq])
                if seq <= known
                else None
            )
            if mine is not None:
                if mine["hash"] != row.hash:
                    raise MergeRefused(
                        f"audit entry #{seq} of device {dev} differs from this database's copy: "
                        "the chains diverge"
                    )
                continue
            if dev == self.db.device_id:
                raise MergeRefused(
                    f"the bundle extends this database's own audit chain (#{seq}): refused"
                )
            if seq != head_seq + 1:
                raise MergeRefused(
                    f"the bundle continues the audit chain of device {dev} at #{seq}, but this "
                    f"database has it up to #{head_seq}: import the earlier bundles first"
                )
            recomputed = entry_hash(
                head_hash,
                row.id,
                row.device_id,
                row.seq,
                row.at,
                row.actor,
                row.action,
                row.subject_id,
                row.entity,
                row.entity_id,
                row.payload,
            )
            if row.prev_hash != head_hash or recomputed != row.hash:
                raise MergeRefused(f"audit entry #{seq} of device {dev}: hash chain broken")
            batch.append(row)
            if len(batch) >= _BATCH:
                self.conn.executemany(insert, batch)
                batch.clear()
            self.result.inserted["audit_log"] += 1
            head_seq, head_hash = seq, str(row.hash)
            first_new = first_new or seq
        close()


def _check_new_answers(merge: _Merge, answers_before: int) -> None:
    """Every new answer entry lists existing new rows with its digest; every new row is listed.

    The rows of several entries are read in one query (about `_BATCH` answers at a time)."""
    listed = 0
    for device, first, last in merge.new_answer_entries:
        entries = merge.conn.execute(
            "SELECT seq, payload FROM audit_log WHERE device_id=? AND seq BETWEEN ? AND ? "
            "AND action IN (?, ?) ORDER BY seq",
            [device, first, last, *_ANSWER_ACTIONS],
        )
        pending: list[tuple[int, Mapping[str, Any], list[str]]] = []
        size = 0
        for entry in entries.fetchall():
            payload = json.loads(entry["payload"])
            ids = [a[0] for a in payload.get("answers") or []]  # [id, item, value]
            pending.append((entry["seq"], payload, ids))
            size += len(ids)
            if size >= _BATCH:
                listed += _check_entries(merge, device, pending, answers_before)
                pending, size = [], 0
        listed += _check_entries(merge, device, pending, answers_before)
    if listed != merge.result.inserted["answers"]:
        raise MergeRefused(
            f"the bundle carries {merge.result.inserted['answers']} new answers but its audit "
            f"entries record {listed}"
        )


def _check_entries(
    merge: _Merge,
    device: str,
    entries: list[tuple[int, Mapping[str, Any], list[str]]],
    answers_before: int,
) -> int:
    """Check the digests of some answer entries of `device`; returns the answers they list."""
    every = [i for _, _, ids in entries for i in ids]
    if not every:
        return 0
    # Only the answers this merge wrote (rowid above those the hub had before).
    sql = (
        f"SELECT {select_list(Answer._fields)} FROM answers "
        f"WHERE id IN ({', '.join('?' for _ in every)}) AND rowid > ?"
    )
    found = {r.id: r for r in map(ANSWER, plain_rows(merge.conn, sql, [*every, answers_before]))}
    for seq, payload, ids in entries:
        rows = []
        for answer_id in ids:
            row = found.get(answer_id)
            if row is None:
                raise MergeRefused(
                    f"audit entry #{seq} of device {device} records answer {answer_id}, "
                    "which the bundle does not carry"
                )
            rows.append(row)
        if digest(rows) != payload.get("digest"):
            raise MergeRefused(
                f"answers recorded by audit entry #{seq} of device {device} do not match "
                "their digest"
            )
    return len(every)


def _check_new_choices(merge: _Merge) -> None:
    """Every new session choice matches the ``conflict.resolved`` entry that recorded it."""
    for choice in merge.new_choices:
        entry = merge.one(
            "SELECT device_id, actor, payload FROM audit_log WHERE action=? AND entity_id=?",
            [RESOLVED_ACTION, choice.id],
        )
        if entry is None:
            raise MergeRefused(f"session choice {choice.id} has no audit entry in the bundle")
        p = json.loads(entry["payload"])
        recorded = (
            entry["device_id"],
            entry["actor"],
            p.get("session_id"),
            p.get("chosen_at"),
            p.get("reason"),
        )
        wanted = (choice.device_id, choice.chosen_by, choice.session_id, choice.chosen_at)
        if recorded != (*wanted, choice.reason):
            raise MergeRefused(f"session choice {choice.id} differs from its audit entry")


def _set_visit_sessions(merge: _Merge) -> None:
    """Point each visit whose sessions the bundle touched at its chosen session
    (`chosen_session`), as a sitting on this device would have."""
    touched = sorted(merge.touched_sessions)
    for start in range(0, len(touched), _BATCH_IDS):
        batch = touched[start : start + _BATCH_IDS]
        merge.conn.execute(
            f"UPDATE visits SET session_id = {chosen_sql('visits.id')} WHERE id IN "
            f"(SELECT visit_id FROM sessions WHERE id IN ({', '.join('?' for _ in batch)}))",
            batch,
        )


_BATCH_IDS = 500


def _flag_mismatches(merge: _Merge, bundle_id: str | None) -> None:
    """One ``bundle.mismatch`` entry per disagreement not flagged before (so a second import
    of the same bundle writes nothing)."""
    for entity_id, subject_id, table, payload in merge.mismatch_entries:
        if merge.one(
            "SELECT 1 FROM audit_log WHERE action=? AND entity_id=? "
            "AND json_extract(payload, '$.mismatch')=?",
            [_MISMATCH_ACTION, entity_id, payload["mismatch"]],
        ):
            continue
        audit.append(
            merge.db,
            action=_MISMATCH_ACTION,
            entity=table.rstrip("s"),
            entity_id=entity_id,
            subject_id=subject_id,
            payload={**payload, "bundle_id": bundle_id, "resolution": "hub's copy kept; review"},
        )
        merge.result.new_mismatches += 1


def _flag_conflicts(merge: _Merge, bundle_id: str | None) -> None:
    conn = merge.conn
    if not merge.touched_sessions:
        return
    visits: set[str] = set()
    for session in merge.touched_sessions:
        row = merge.one("SELECT visit_id FROM sessions WHERE id=?", [session])
        if row is not None:
            visits.add(row["visit_id"])
    for vid in sorted(visits):
        found = conn.execute(
            "SELECT a.instrument_id, s.id, s.device_id FROM sessions s "
            "JOIN answers a ON a.session_id = s.id "
            "WHERE s.visit_id=? AND a.status='answered' "
            "GROUP BY a.instrument_id, s.id ORDER BY a.instrument_id, s.started_at, s.id",
            [vid],
        ).fetchall()
        by_instrument: dict[str, list[tuple[str, str]]] = {}
        for r in found:
            by_instrument.setdefault(r["instrument_id"], []).append((r["id"], r["device_id"]))
        pairs = [(i, s) for i, s in by_instrument.items() if len(s) > 1]
        if not pairs:
            continue
        info = merge.one(
            "SELECT v.subject_id, v.visit_code, j.code FROM visits v "
            "JOIN subjects j ON j.id = v.subject_id WHERE v.id=?",
            [vid],
        )
        assert info is not None
        subject_id, visit_code, code = info["subject_id"], info["visit_code"], info["code"]
        flagged = {
            (p.get("instrument_id"), tuple(p.get("session_ids") or ()))
            for r in conn.execute(
                "SELECT payload FROM audit_log WHERE subject_id=? AND action=?",
                [subject_id, _CONFLICT_ACTION],
            )
            for p in [json.loads(r["payload"])]
        }
        for instrument_id, sessions in pairs:
            session_ids = tuple(s for s, _ in sessions)
            if (instrument_id, session_ids) in flagged:
                continue
            devices = tuple(d for _, d in sessions)
            payload = {
                "subject": code,
                "visit": visit_code,
                "visit_id": vid,
                "instrument_id": instrument_id,
                "session_ids": list(session_ids),
                "device_ids": list(devices),
                "bundle_id": bundle_id,
                "resolution": "both versions kept; review needed",
            }
            entry = audit.append(
                merge.db,
                action=_CONFLICT_ACTION,
                entity="visit",
                entity_id=vid,
                subject_id=subject_id,
                payload=payload,
            )
            stamp = merge.one("SELECT at FROM audit_log WHERE id=?", [entry])
            at = str(stamp["at"]) if stamp else ""
            merge.result.conflicts.append(
                Conflict(
                    entry, at, code, visit_code, instrument_id, session_ids, devices, bundle_id
                )
            )


def merge_bundle(
    db: StudyDb,
    rows: RowSource,
    *,
    bundle: Mapping[str, Any],
    tick: Callable[[], None] | None = None,
) -> MergeResult:
    """Merge a bundle's rows into `db` in one transaction (see the module docstring).

    `bundle` describes it for the import audit entry (``bundle_id``, ``device_id``,
    ``site_code``, ``created_at``, ``since``, ``sha256`` ...); `tick` is called once per row.
    Raises `MergeRefused` (nothing written) when the bundle cannot be merged.
    """
    result = MergeResult()
    # A larger page cache for the merge's index inserts (the hub grows to gigabytes); restored.
    cache_size = int(scalar(db.conn, "PRAGMA cache_size"))
    db.conn.execute(f"PRAGMA cache_size={_MERGE_CACHE_KIB}")
    merge = _Merge(db, result, tick or (lambda: None), str(bundle.get("site_code") or "site"))
    merge.source_device = str(bundle.get("device_id") or "")
    try:
        with transaction(db):
            db.conn.execute("PRAGMA defer_foreign_keys=ON")
            answers_before = int(scalar(db.conn, "SELECT coalesce(max(rowid), 0) FROM answers"))
            merge.sites(rows("sites"))
            merge.devices(rows("devices"))
            merge.staff(rows("staff"))
            merge.subjects(rows("subjects"))
            merge.visits(rows("visits"))
            merge.sessions(rows("sessions"))
            merge.session_choices(rows("session_choices"))
            merge.answers(rows("answers"))
            merge.scores(rows("scores"))
            merge.audit_log(rows("audit_log"))
            _check_new_answers(merge, answers_before)
            _check_new_choices(merge)
            try:
                check_scores(db, sorted(merge.scored_sessions))
            except InvalidInput as exc:
                raise MergeRefused(f"bundle {exc}") from None
            _set_visit_sessions(merge)
            _flag_mismatches(merge, bundle.get("bundle_id"))
            if result.changed:
                _flag_conflicts(merge, bundle.get("bundle_id"))
                result.audit_entry = audit.append(
                    db,
                    action=_IMPORT_ACTION,
                    entity="bundle",
                    entity_id=str(bundle.get("bundle_id")),
                    payload={
                        **bundle,
                        "inserted": result.inserted,
                        "updated": result.updated,
                        "tables": result.summary(),
                        "mismatches": result.mismatches,
                        "subjects_matched_by_code": result.subjects_matched_by_code,
                        # kiosk subject id -> hub subject id, so that the kiosk's audit entries
                        # (which keep their own subject id) are found under the hub's subject
                        "subject_map": dict(sorted(merge.subject_map.items())),
                        "day0_mismatches": result.day0_mismatches,
                        "conflicts": len(result.conflicts),
                        # each merged device's chain head as imported: an anchor for later
                        "chain_heads": _imported_heads(db),
                    },
                )
    except sqlite3.IntegrityError as exc:
        if "FOREIGN KEY" in str(exc):
            raise MergeRefused(
                "the bundle refers to records this database does not have "
                "(import the earlier bundles of that kiosk first)"
            ) from None
        raise MergeRefused(f"the bundle does not fit this database ({exc})") from None
    except sqlite3.OperationalError as exc:
        # e.g. "database is locked": another program kept the write lock past the busy timeout
        raise MergeRefused(f"cannot write to {db.path} now ({exc}): try again") from None
    finally:
        db.conn.execute(f"PRAGMA cache_size={cache_size}")
    return result


def list_conflicts(db: StudyDb) -> list[Conflict]:
    """Every conflict flagged by a bundle import, oldest first."""
    out = []
    for row in db.conn.execute(
        "SELECT id, at, payload FROM audit_log WHERE action=? ORDER BY at, device_id, seq",
        [_CONFLICT_ACTION],
    ):
        p = json.loads(row["payload"])
        out.append(
            Conflict(
                entry_id=row["id"],
                flagged_at=row["at"],
                subject_code=p.get("subject", ""),
                visit_code=p.get("visit", ""),
                instrument_id=p.get("instrument_id", ""),
                session_ids=tuple(p.get("session_ids") or ()),
                device_ids=tuple(p.get("device_ids") or ()),
                bundle_id=p.get("bundle_id"),
            )
        )
    return out


def _imported_heads(db: StudyDb) -> dict[str, list[object]]:
    """Every other device's chain head (seq, hash) as this import leaves it."""
    return {d: [q, h] for d, q, h in audit_chain_head(db).chains if d != db.device_id}
