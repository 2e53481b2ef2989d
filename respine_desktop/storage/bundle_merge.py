"""Site bundles on the database side: the rows a bundle carries, and merging them into a hub.

Reading (`bundle_rows`): every table a hub needs, in a fixed column order (`BUNDLE_COLUMNS`),
streamed. Staff rows carry no PIN hash, failure counter or lock. Devices carry no chain head (the
hub derives it from the entries it holds). With `since`, the state tables (sites, devices, staff,
subjects, visits, sessions: small, and mutable) and the session choices (few) are still
complete, while the append-only streams
are cut: each device's audit chain from its first entry at or after `since` to its end (a
contiguous suffix, so the hub can link it to what it has), the answers those entries record, and
the score rows computed or superseded since.

Merging (`merge_bundle`), in one transaction that commits everything or nothing, prepared
first without the write lock (`_merge_prepare`: validation, chains, digests, scores; the lock is
then held for the comparisons with the hub's rows and the writes only, docs/conflicts.md §5;
the checks of the rows alone run meanwhile where the platform allows: the validation, the chain
hashes, the digests and the scores in a forked child, `respine_desktop.meanwhile`, beside the
staging and the write, the child's outcome awaited before the commit: a refusal rolls the write
back, nothing committed):

* every row is validated first by the rules the kiosk itself applies (`_validation`); the
  forward-only rules decide what a bundle may change in a record the hub has (`_merge_rules`:
  a submitted session, an answer, a score are never rewritten; a true disagreement such as two
  days 0 for one subject code is kept as the hub has it and flagged as a ``bundle.mismatch``);
  after writing, the scores of every touched session are recomputed from the merged answers
  and a difference refuses the bundle (`_merge_scores`); the result counts new, updated,
  conflicting and unchanged rows per table (docs/conflicts.md);
* rows are matched by UUID; a row the hub has is not written again, so importing a bundle twice
  changes nothing (no row, no audit entry);
* speed (bench/merge.py): the new answers are bound into a TEMP table before the write lock
  and copied from it by SQLite inside (`_merge_staging`; bound inside the lock otherwise);
  Python's garbage collector is paused during the merge (its rows are all alive until it ends:
  a collection frees nothing and walks them all); an answer entry's digest is taken from its
  rows' text when that text is canonical (`RAW_LINE_TABLES`, `_merge_prepare`);
  nothing is read from a hub that cannot have the bundle's answers (none at all); the WAL
  checkpoint after the commit is made once the write lock is released;
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
- `RAW_LINE_TABLES`: the tables whose line texts the row source keeps (answer digests)
- `bundle_rows(db, table, since=None) -> iter[row]`: a table's rows for a bundle (streamed)
- `count_rows(db, table, since=None) -> int`: how many rows `bundle_rows` yields
- `merge_bundle(db, rows, *, bundle, ...) -> MergeResult`: checked outside the write lock
  (`_merge_prepare`), then written in one short transaction, all or nothing
- `MergeRefused`: the bundle cannot be merged (one line naming what); nothing was written
- `MergeResult`: rows new, updated, conflicting, unchanged per table; conflicts flagged
- `list_conflicts(db) -> [Conflict]`: every conflict flagged by an import, oldest first
- `Conflict`: a subject x visit x instrument two sessions (two kiosks) both answered
"""

from __future__ import annotations

import contextlib
import itertools
import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import compress
from operator import attrgetter, not_
from typing import Any, TypeVar

from respine_desktop import collector, meanwhile
from respine_desktop.instruments import load_instrument
from respine_desktop.storage import _audit as audit
from respine_desktop.storage import _merge_staging as staging
from respine_desktop.storage._answer_calibrations import check_new_answers, check_new_entries
from respine_desktop.storage._answer_contents import foreign_contents
from respine_desktop.storage._answer_links import FirstFork, Fork, first_forks, forks
from respine_desktop.storage._answers import current_rows
from respine_desktop.storage._audit import GENESIS
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
from respine_desktop.storage._errors import InvalidInput, WriteFailed
from respine_desktop.storage._merge_prepare import (
    ANSWER_ACTIONS,
    MergeRefused,
    Prepared,
    check_against_hub,
    hub_heads,
    load,
    run_deferred,
    score_stamp,
    validate,
)
from respine_desktop.storage._merge_rules import (
    first_difference,
    merged_visit,
    score_outcome,
    session_outcome,
)
from respine_desktop.storage._merge_scores import check_scores
from respine_desktop.storage._merge_withdrawals import (
    WithdrawalLine,
    check_withdrawal_entries,
    check_withdrawals_carried,
    merge_withdrawals,
)
from respine_desktop.storage._records import Answer
from respine_desktop.storage._schema import ENTITY_ACTIONS_SQL
from respine_desktop.storage._visits import visit_id
from respine_desktop.storage.stored_values import payloads_read, stored_payload

__all__ = [
    "BUNDLE_COLUMNS",
    "RAW_LINE_TABLES",
    "TABLES",
    "Conflict",
    "MergeRefused",
    "MergeResult",
    "bundle_rows",
    "count_rows",
    "list_conflicts",
    "merge_bundle",
]

_ANSWER_ACTIONS = ANSWER_ACTIONS
_CONFLICT_ACTION = "bundle.conflict"
_MISMATCH_ACTION = "bundle.mismatch"
_IMPORT_ACTION = audit.BUNDLE_IMPORTED
_IMPORTED_PIN = "!imported: no PIN on this database"

# One entry per table a bundle carries, in the order they are merged: the named tuple of its rows
# (its fields: the bundle's columns, in order). A table added here is read and validated by
# `_merge_prepare` and written by the `_Merge` method of the same name.
_LINES: Mapping[str, type[tuple[Any, ...]]] = {
    "sites": SiteLine,
    "devices": DeviceLine,
    "staff": StaffLine,
    "subjects": SubjectLine,
    "visits": VisitLine,
    "sessions": SessionLine,
    "session_choices": ChoiceLine,
    "answers": Answer,
    "scores": ScoreLine,
    "audit_log": AuditLine,
    # optional member (older bundles lack it: no rows), after audit_log: each new row is checked
    # against its `subject.withdrawn` entry (`_merge_withdrawals`)
    "withdrawals": WithdrawalLine,
}
BUNDLE_COLUMNS: Mapping[str, tuple[str, ...]] = {
    t: tuple(vars(line)["_fields"])
    for t, line in _LINES.items()  # a NamedTuple's fields
}
TABLES: tuple[str, ...] = tuple(BUNDLE_COLUMNS)
_Line = TypeVar("_Line", bound=tuple[Any, ...])
RAW_LINE_TABLES: frozenset[str] = frozenset({"answers"})
"""The tables whose line texts the row source keeps beside the rows it parsed from them: an
answer entry's digest is taken from its rows' text when that text is the canonical text the
kiosk digested (`_merge_prepare._row_texts`), rather than serialising the rows again. Only the
digests read them: the rows stored are the rows Python parsed and validated."""
_BATCH = 500
_SUPERSEDES = attrgetter("supersedes")
_SESSION = attrgetter("session_id")
_ID = attrgetter("id")
_FIRST_KEY = attrgetter("session_id", "instrument_id", "item_id")
_MERGE_CACHE_KIB = -65536  # 64 MiB of page cache while merging (negative: KiB, SQLite's rule)


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
    prepare_s: float = 0.0  # seconds spent preparing (no lock held)
    lock_held_s: float = 0.0  # seconds the write lock was held
    # seconds of the write step: the lock asked for and held, the commit, the checkpoint (the
    # part of the merge nothing runs beside: bench/merge.py's bound)
    write_s: float = 0.0
    redone: int = 0  # preparations redone because the hub's heads moved meanwhile

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
    if table == "answers":
        # In this database's written order (rowid), not chain by chain: of two current answers
        # of an item (a fork) the last written counts, so the receiving hub must write them in
        # the order this one did to take the same row (`_answer_links`).
        cuts = json.dumps([[s["device_id"], s["first_seq"]] for s in starts])
        with payloads_read(conn):
            yield from plain_rows(
                conn,
                f"{_select(table)} WHERE id IN ("
                "SELECT json_extract(j.value, '$[0]') FROM json_each(?) c "
                "JOIN audit_log l ON l.device_id = json_extract(c.value, '$[0]') "
                "AND l.seq >= json_extract(c.value, '$[1]'), json_each(l.payload, '$.answers') j "
                "WHERE l.action IN (?, ?)) ORDER BY rowid",
                [cuts, *_ANSWER_ACTIONS],
            )
        return
    for start in starts:
        device, first = start["device_id"], start["first_seq"]
        yield from plain_rows(
            conn, f"{_select(table)} WHERE device_id=? AND seq>=? ORDER BY seq", [device, first]
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
    """The write step of a merge (inside the write lock), one method per table, named after it
    and called in `TABLES` order with the table's prepared rows (`_merge_prepare`)."""

    def __init__(
        self, db: StudyDb, result: MergeResult, prepared: Prepared, source_site: str
    ) -> None:
        self.db = db
        self.prepared = prepared
        self.source_site = source_site
        self.source_device = ""
        self.conn = db.conn
        self.result = result
        self.subject_map: dict[str, str] = {}
        self.visit_map: dict[str, str] = {}
        self.visit_keys: dict[str, tuple[str, str]] = {}  # hub visit id -> (subject, code)
        self.touched_sessions: set[str] = set()
        self.new_sessions: set[str] = set()  # the bundle's sessions the hub lacked
        self.new_choices: list[ChoiceLine] = []
        self.scored_sessions: set[str] = set()
        self.visit_codes = frozenset(v.code for v in db.study.visits)
        self.mismatch_entries: list[tuple[str, str, str, dict[str, Any]]] = []
        self.new_withdrawals: list[WithdrawalLine] = []

    def _rows(self, table: str, line: type[_Line]) -> list[_Line]:
        """The bundle's rows of `table` (validated, each as the named tuple `line`)."""
        rows: list[_Line] = self.prepared.rows[table]
        self.result.rows[table] = len(rows)
        return rows

    def hub_rows(
        self, table: str, columns: Sequence[str], key: str, keys: Iterable[object]
    ) -> dict[Any, tuple[Any, ...]]:
        """The hub's rows of `table` whose `key` is one of `keys` (`columns`, the key first),
        in one query, by key."""
        return {
            r[0]: r
            for r in plain_rows(
                self.conn,
                f"SELECT {select_list(columns)} FROM {table} "
                f"WHERE {key} IN (SELECT value FROM json_each(?))",
                [json.dumps(sorted(set(keys)))],
            )
        }

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
        self,
        table: str,
        subject_id: str,
        key: str,
        text: str,
        *,
        kept: bool = True,
        **detail: object,
    ) -> None:
        """A true disagreement: the hub's copy is kept, the mismatch flagged for review.
        `detail` (field, hub, bundle, visit_code, resolution) goes into the audit entry for the
        console. `kept=False`: the bundle's row was written too (a fork of an answer), so it is
        counted new, not conflicting."""
        if kept:
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

    def sites(self) -> None:
        for site in self._rows("sites", SiteLine):
            # a site's row is made by each database that knows it (its own time): by code only
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO sites (code, created_at) VALUES (?, ?)",
                [site.code, site.created_at],
            )
            self.result.inserted["sites"] += cur.rowcount

    def devices(self) -> None:
        for device in self._rows("devices", DeviceLine):
            if self.same_as_hub("devices", device.id, device):
                continue
            cur = self.conn.execute(
                "INSERT OR IGNORE INTO devices (id, label, site_code, registered_at, audit_seq, "
                "audit_head) VALUES (?, ?, ?, ?, 0, ?)",
                [device.id, device.label, device.site_code, device.registered_at, GENESIS],
            )
            self.result.inserted["devices"] += cur.rowcount

    def staff(self) -> None:
        for account in self._rows("staff", StaffLine):
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

    def subjects(self) -> None:
        rows = self._rows("subjects", SubjectLine)
        columns = BUNDLE_COLUMNS["subjects"]
        by_id = self.hub_rows("subjects", columns, "id", (r.id for r in rows))
        by_code = {
            code: {"id": i, "day0": day0}
            for code, i, day0 in self.hub_rows(
                "subjects", ("code", "id", "day0"), "code", (r.code for r in rows)
            ).values()
        }
        new: list[SubjectLine] = []
        for row in rows:
            subject_id, code = row.id, row.code
            found = by_id.get(subject_id)
            if found is not None:
                column = first_difference(columns, found, row)
                if column is not None:
                    self.refuse_change(
                        "subjects", subject_id, column, "an existing record cannot be rewritten"
                    )
                continue
            known = by_code.get(code)
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
            new.append(row)
            self.result.inserted["subjects"] += 1
        self.conn.executemany(
            f"INSERT INTO subjects ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            new,
        )

    def visits(self) -> None:
        rows = self._rows("visits", VisitLine)
        hub: dict[tuple[str, str], dict[str, Any]] = {}
        names = ("id", "subject_id", "visit_code", "state", "actual_date", "missed_reason")
        for found in plain_rows(
            self.conn,
            f"SELECT {select_list(names)}, updated_at FROM visits "
            "WHERE subject_id IN (SELECT value FROM json_each(?))",
            [json.dumps(sorted({self.subject_map.get(r.subject_id, r.subject_id) for r in rows}))],
        ):
            hub[(found[1], found[2])] = dict(zip((*names, "updated_at"), found, strict=True))
        new: list[tuple[Any, ...]] = []
        for row in rows:
            vid, code = row.id, row.visit_code
            subject_id = self.subject_map.get(row.subject_id, row.subject_id)
            existing = hub.get((subject_id, code))
            if existing is None:
                new_id = visit_id(subject_id, code) if subject_id != row.subject_id else vid
                self.visit_map[vid] = new_id
                self.visit_keys[new_id] = (subject_id, code)
                new.append(
                    (
                        new_id,
                        subject_id,
                        code,
                        row.state,
                        row.actual_date,
                        row.missed_reason,
                        row.updated_at,
                    )
                )
                self.result.inserted["visits"] += 1
                continue
            self.visit_map[vid] = existing["id"]
            self.visit_keys[existing["id"]] = (subject_id, code)
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
        self.conn.executemany(
            "INSERT INTO visits (id, subject_id, visit_code, state, actual_date, "
            "missed_reason, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            new,
        )

    def sessions(self) -> None:
        columns = BUNDLE_COLUMNS["sessions"]
        # Mapped ids aside, a session's columns from ``state`` on change as it progresses.
        mutable = columns[columns.index("state") :]
        rows = self._rows("sessions", SessionLine)
        hub = self.hub_rows("sessions", columns, "id", (r.id for r in rows))
        new: list[SessionLine] = []
        for row in rows:
            values = row._replace(
                visit_id=self.visit_map.get(row.visit_id, row.visit_id),
                subject_id=self.subject_map.get(row.subject_id, row.subject_id),
            )
            found = hub.get(row.id)
            if found is None:
                self._check_visit(values)
                new.append(values)
                self.result.inserted["sessions"] += 1
                self.touched_sessions.add(row.id)
                self.new_sessions.add(row.id)
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
        self.conn.executemany(
            f"INSERT INTO sessions ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})",
            new,
        )

    def _check_visit(self, session: SessionLine) -> None:
        """A new session's visit (its ``visit_id``, mapped) is the visit of its own subject and
        visit code (readers by visit and readers by subject must find the same sitting): a
        dictionary look-up for a visit of the bundle, a query for one it does not carry."""
        key = self.visit_keys.get(session.visit_id)
        if key is None:
            found = self.one(
                "SELECT subject_id, visit_code FROM visits WHERE id=?", [session.visit_id]
            )
            if found is None:
                return  # no such visit: the foreign key refuses it at the commit
            key = (found["subject_id"], found["visit_code"])
        if key != (session.subject_id, session.visit_code):
            raise MergeRefused(
                f"bundle sessions row {session.id}, field visit_id: names the visit {key[1]} of "
                f"subject {key[0]}, but the session is of visit {session.visit_code} of subject "
                f"{session.subject_id}"
            )

    # append-only streams

    def session_choices(self) -> None:
        columns = BUNDLE_COLUMNS["session_choices"]
        for row in self._rows("session_choices", ChoiceLine):
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

    def answers(self) -> None:
        """Only the answers the hub lacks are written: the ones it has were compared with its
        copies by the preparation (`_merge_prepare`; append-only, so they cannot have changed
        since), and the count written is checked against the preparation's. Copied from the
        TEMP table the preparation bound them into (`_merge_staging`) when it did: only the rows
        the hub lacked are copied (the same count check, the statement's own count: each
        expected row inserted, none ignored for a row the hub gained meanwhile)."""
        columns = BUNDLE_COLUMNS["answers"]
        known = self.prepared.known_answers
        rows: list[Answer] = [r for r in self._rows("answers", Answer) if r.id not in known]
        if not rows:
            return
        if self.prepared.staged:
            inserted = staging.insert(self.conn, columns, known)
            if inserted:
                self.result.inserted["answers"] += inserted
                sessions = {r.session_id for r in rows}
                self.touched_sessions.update(sessions)
                self.scored_sessions.update(sessions)
        else:
            sql = (
                f"INSERT OR IGNORE INTO answers ({', '.join(columns)}) "
                f"VALUES ({', '.join('?' for _ in columns)})"
            )
            for start in range(0, len(rows), _BATCH):
                self._insert_answers(sql, rows[start : start + _BATCH])
        try:
            check_new_answers(self.conn, rows, self.prepared.rows["audit_log"])
        except InvalidInput as exc:
            raise MergeRefused(f"bundle {exc}") from None
        self._flag_forks(rows)
        self._flag_contents(rows)

    def _flag_contents(self, rows: list[Answer]) -> None:
        """Answers given on an instrument content this program does not show (another release's
        questionnaire, an edited file: `_answer_contents`) are merged, they are what the patient
        answered, and flagged for review, a session and instrument at a time."""
        for (instrument_id, version, checksum), sessions in foreign_contents(rows).items():
            shown = load_instrument(instrument_id)
            for session_id, count in sessions.items():
                found = self.one(
                    "SELECT subject_id, visit_code FROM sessions WHERE id=?", [session_id]
                )
                subject_id = found["subject_id"] if found is not None else ""
                visit = found["visit_code"] if found is not None else None
                self.flag_mismatch(
                    "answers",
                    subject_id,
                    f"{session_id}:{instrument_id}",
                    f"session {session_id} (visit {visit}): {count} answers of {instrument_id} "
                    f"given on version {version!r} ({checksum}), not the content this program "
                    f"shows ({shown.version!r}, {shown.checksum}); merged and scored as this "
                    "program's questionnaire: check which one the kiosk showed",
                    kept=False,
                    field="instrument",
                    hub=f"{shown.version} {shown.checksum}",
                    bundle=f"{version} {checksum}",
                    visit_code=visit,
                    resolution="answers kept and scored as this program's instrument; review",
                )

    def _flag_forks(self, rows: list[Answer]) -> None:
        """An answer the new rows supersede that another row supersedes too (two devices
        holding the session both replaced it: a fork, legitimate) is flagged for review; the
        last written counts, for every reader (`_answer_links`). So is an item the new rows
        answer first that another first answer has (`_flag_first_forks`)."""
        self._flag_first_forks(rows)
        targets = set(map(_SUPERSEDES, rows))  # in C: the lock is held
        targets.discard(None)
        found = forks(self.conn, targets) if targets else []
        new = {r.id for r in rows} if found else set()
        for fork in found:
            self._flag_fork(
                fork.answer_id,
                f"answer {fork.answer_id} ({fork.item_id}, visit {fork.visit_code}, session "
                f"{fork.session_id}): superseded by {len(fork.ids)} rows",
                "superseded_by",
                fork,
                new,
            )

    def _flag_first_forks(self, rows: list[Answer]) -> None:
        """An item answered first on two devices (a sitting parked before it, resumed on both):
        two current rows, as a fork. Looked for in the sessions the hub had before (a query),
        and in a new session only if two of the bundle's first rows share an item (a set, in
        C: the lock is held)."""
        firsts = list(compress(rows, map(not_, map(_SUPERSEDES, rows))))
        sessions = set(map(_SESSION, firsts)) - self.new_sessions
        keys = list(map(_FIRST_KEY, firsts))
        if len(set(keys)) != len(keys):
            sessions.update(k[0] for k, n in Counter(keys).items() if n > 1)
        found = first_forks(self.conn, sessions) if sessions else []
        new = set(map(_ID, firsts)) if found else set()
        for fork in found:
            self._flag_fork(
                f"{fork.session_id}:{fork.item_id}",
                f"item {fork.item_id} (visit {fork.visit_code}, session {fork.session_id}): "
                f"answered first by {len(fork.ids)} rows",
                "first_answer",
                fork,
                new,
            )

    def _flag_fork(
        self, record: str, what: str, field: str, fork: Fork | FirstFork, new: set[str]
    ) -> None:
        """Flag a fork the new rows (`new`) make: `what` it is, then its rows (the hub's and
        the bundle's) and the one that counts. One of only the hub's own rows was flagged when
        it was made."""
        theirs = [i for i in fork.ids if i in new]
        if not theirs:
            return
        # the row that counts: the last written current one (a fork's row may be superseded in
        # turn, by a correction in the same bundle)
        counts = current_rows(self.db, fork.session_id, fork.item_id)[-1].id
        self.flag_mismatch(
            "answers",
            fork.subject_id,
            record,
            f"{what} ({' '.join(fork.ids)}), a fork: the last written of its current rows, "
            f"{counts}, counts",
            kept=False,
            field=field,
            hub=" ".join(i for i in fork.ids if i not in new),
            bundle=" ".join(theirs),
            visit_code=fork.visit_code,
            resolution="both rows kept; the last written counts; review",
        )

    def _insert_answers(self, sql: str, batch: list[Answer]) -> None:
        # the statement's own count (not the connection's total, which counts a trigger's rows)
        inserted = self.conn.executemany(sql, batch).rowcount
        if inserted:
            self.result.inserted["answers"] += inserted
            sessions = {r.session_id for r in batch}
            self.touched_sessions.update(sessions)
            self.scored_sessions.update(sessions)

    def scores(self) -> None:
        """New score rows are inserted; a row the hub has may only gain its superseded stamp
        (`score_outcome`); the scores are recomputed after the merge (`check_scores`)."""
        columns = BUNDLE_COLUMNS["scores"]
        insert = (
            f"INSERT INTO scores ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        )
        batch: list[ScoreLine] = []
        for row in self._rows("scores", ScoreLine):
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
            self.conn.executemany(insert, map(tuple, new))  # (plain tuples: `_merge_staging`)
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

    def audit_log(self) -> None:
        """Append each device's new entries (checked by `_merge_prepare`, the hub's heads
        unchanged since) and move the device's head."""
        columns = BUNDLE_COLUMNS["audit_log"]
        self._rows("audit_log", AuditLine)
        insert = (
            f"INSERT INTO audit_log ({', '.join(columns)}) "
            f"VALUES ({', '.join('?' for _ in columns)})"
        )
        try:
            check_new_entries(self.conn, itertools.chain(*self.prepared.new_entries.values()))
        except InvalidInput as exc:
            raise MergeRefused(f"bundle {exc}") from None
        for device, entries in self.prepared.new_entries.items():
            self.conn.executemany(insert, map(tuple, entries))  # (plain tuples, likewise)
            last = entries[-1]
            self.conn.execute(
                "UPDATE devices SET audit_seq=?, audit_head=? WHERE id=?",
                [last.seq, last.hash, device],
            )
            self.result.inserted["audit_log"] += len(entries)

    def withdrawals(self) -> None:
        """The optional withdrawals member: append-only, a different one flagged
        (`_merge_withdrawals`)."""
        rows = self._rows("withdrawals", WithdrawalLine)
        merge_withdrawals(self, rows, MergeRefused, self.result.inserted)


def _check_new_choices(merge: _Merge) -> None:
    """Every new session choice is recorded by exactly one ``conflict.resolved`` entry, which it
    matches, and every new such entry has its choice, a choice no other entry records (what
    `verify`'s check 5 asks of the merged hub; the first entry found matching would let a
    second one record the choice otherwise)."""
    for choice in merge.new_choices:
        found = audit.recording_entries(merge.conn, RESOLVED_ACTION, choice.id)
        if not found:
            raise MergeRefused(f"session choice {choice.id} has no audit entry in the bundle")
        if len(found) > 1:
            raise MergeRefused(
                f"session choice {choice.id} is recorded by more than one audit entry"
            )
        entry = found[0]
        p = stored_payload(entry["id"], entry["payload"])
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
    # And back: every new entry recording a choice has it here (a bundle of format 1 carries
    # no choices; a chain with such an entry is of a version that puts them in its bundles),
    # and no other entry records it (a new choice's entries were counted above).
    new = {c.id for c in merge.new_choices}
    for entries in merge.prepared.new_entries.values():
        for e in entries:
            if e.action != RESOLVED_ACTION:
                continue
            if merge.one("SELECT 1 FROM session_choices WHERE id=?", [e.entity_id]) is None:
                raise MergeRefused(
                    f"audit entry #{e.seq} of device {e.device_id} records session choice "
                    f"{e.entity_id}, which the bundle does not carry"
                )
            if (
                e.entity_id not in new
                and len(audit.recording_entries(merge.conn, e.action, e.entity_id)) > 1
            ):
                raise MergeRefused(  # a choice the hub had: the bundle's entry records it again
                    f"audit entry #{e.seq} of device {e.device_id} records session choice "
                    f"{e.entity_id}, which another audit entry records already"
                )


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
        with payloads_read(merge.conn):
            flagged = merge.one(
                f"SELECT 1 FROM audit_log WHERE {ENTITY_ACTIONS_SQL} AND action=? "
                "AND entity_id=? AND json_extract(payload, '$.mismatch')=?",
                [_MISMATCH_ACTION, entity_id, payload["mismatch"]],
            )
        if flagged:
            continue
        audit.append(
            merge.db,
            action=_MISMATCH_ACTION,
            entity=table.rstrip("s"),
            entity_id=entity_id,
            subject_id=subject_id,
            payload={"resolution": "hub's copy kept; review", **payload, "bundle_id": bundle_id},
        )
        merge.result.new_mismatches += 1


def _flag_conflicts(merge: _Merge, bundle_id: str | None) -> None:
    conn = merge.conn
    if not merge.touched_sessions:
        return
    # The answered instruments of every session of the touched sessions' visits that have more
    # than one session (a conflict takes two), in one query.
    answered: dict[str, dict[str, list[tuple[str, str]]]] = {}
    for vid, instrument_id, session_id, device_id in plain_rows(
        conn,
        "SELECT s.visit_id, a.instrument_id, s.id, s.device_id FROM sessions s "
        "JOIN answers a ON a.session_id = s.id "
        "WHERE s.visit_id IN (SELECT visit_id FROM sessions WHERE visit_id IN "
        "(SELECT visit_id FROM sessions WHERE id IN (SELECT value FROM json_each(?))) "
        "GROUP BY visit_id HAVING count(*) > 1) AND a.status='answered' "
        "GROUP BY s.visit_id, a.instrument_id, s.id "
        "ORDER BY s.visit_id, a.instrument_id, s.started_at, s.id",
        [json.dumps(sorted(merge.touched_sessions))],
    ):
        answered.setdefault(vid, {}).setdefault(instrument_id, []).append((session_id, device_id))
    for vid in sorted(answered):
        by_instrument = answered[vid]
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
                "SELECT id, payload FROM audit_log WHERE subject_id=? AND action=?",
                [subject_id, _CONFLICT_ACTION],
            )
            for p in [stored_payload(r["id"], r["payload"])]
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


LOCK_WAIT_S = 120.0
"""How long a merge waits for the hub's write lock (held by a kiosk or another import) before it
gives up with one line (nothing written)."""
_MAX_REDO = 3  # heads moved this many times: the last check runs inside the write lock


class _HeadsMoved(Exception):
    """The hub's chain heads changed between the preparation and the write lock."""


def merge_bundle(
    db: StudyDb,
    rows: RowSource,
    *,
    bundle: Mapping[str, Any],
    tick: Callable[[], None] | None = None,
    lock_wait_s: float | None = None,
    committed: Callable[[], None] = lambda: None,
) -> MergeResult:
    """Merge a bundle's rows into `db` (see the module docstring): prepared and checked without
    the write lock (`_merge_prepare`), then written in one short transaction, all or nothing;
    `committed` is called as soon as that transaction has committed (a command then takes no
    Ctrl-C for a cancel: the merge is in).

    `bundle` describes it for the import audit entry (``bundle_id``, ``device_id``,
    ``site_code``, ``created_at``, ``since``, ``sha256`` ...); `tick` is called once per row
    (a source that reports its own progress, as `exports.import_bundle`'s, needs none).
    Waits up to `lock_wait_s` seconds (default `LOCK_WAIT_S`) for the write lock. Raises
    `MergeRefused` (nothing written) when the bundle cannot be merged.
    """
    with collector.paused():
        return _merge(db, rows, bundle, tick, lock_wait_s, committed)


def _merge(
    db: StudyDb,
    rows: RowSource,
    bundle: Mapping[str, Any],
    tick: Callable[[], None] | None,
    lock_wait_s: float | None,
    committed: Callable[[], None],
) -> MergeResult:
    started = time.perf_counter()
    visit_codes = frozenset(v.code for v in db.study.visits)
    loaded, lines = load(BUNDLE_COLUMNS, _LINES, rows, visit_codes, tick, RAW_LINE_TABLES)
    prepared = Prepared(loaded, lines=lines)
    try:
        bundle_devices = [d.id for d in loaded["devices"]]
        try:
            check_against_hub(db, prepared, bundle_devices, defer=True)
        except Exception:
            # (read from rows not validated yet: a refusal of the validation comes first)
            validate(BUNDLE_COLUMNS, loaded, visit_codes)
            raise
        # The checks that need only the rows (the validation, then those `check_against_hub`
        # deferred: the chain hashes, the digests, the scores) run meanwhile in a child on
        # another core, while this process stages the new answers and writes every row: the
        # child's outcome is awaited inside the write transaction, before its commit (a refusal
        # rolls the write back: nothing committed), and first whenever anything here stops with
        # an error (its refusal is the earlier one). The two paths take about as long (on the
        # bench's 1,000 subjects the staging and the write 1.8 s, the child's checks 2.1-2.2 s),
        # so the lock waits about 0.25 s for the child (awaited before the lock, the checks had
        # the second core idle during the whole write). Without new answers there is nothing to
        # overlap: they all run here, before any staging.
        overlap = None if prepared.new_answers else False
        child = partial(_check_rows, prepared, visit_codes)
        with meanwhile.start(child, fork=overlap) as checks:
            if not checks.forked:
                checks.result()  # run here already: refused before any staging
            try:
                return _stage_and_write(
                    db, prepared, bundle, checks.result, started, lock_wait_s, committed
                )
            except Exception:
                checks.result()  # (an interruption is not waited for: the child is killed)
                raise
    finally:
        staging.drop(db.conn)
        # The deferred checks hold `prepared` (a cycle): cleared, its rows are freed as this
        # returns, not by the collector's first pass once it runs again (walking them all: 0.17 s
        # on the bench's 1,000 subjects).
        prepared.deferred.clear()


def _stage_and_write(
    db: StudyDb,
    prepared: Prepared,
    bundle: Mapping[str, Any],
    checked: Callable[[], None],
    started: float,
    lock_wait_s: float | None,
    committed: Callable[[], None],
) -> MergeResult:
    """The new answers staged (`_merge_staging`), then the write step (`_write`), redone
    while the hub's heads moved; `checked` (the rows' checks run meanwhile: returns once they
    passed, else raises their refusal) is called inside the write's transaction, before it
    commits. (The caller awaits those checks on any error: their refusal comes first.)"""
    if prepared.new_answers:  # (none: a bundle imported already, nothing to stage)
        prepared.staged = staging.stage(
            db.conn, BUNDLE_COLUMNS["answers"], prepared.rows["answers"]
        )
    prepare_s = time.perf_counter() - started
    deadline = time.monotonic() + (LOCK_WAIT_S if lock_wait_s is None else lock_wait_s)
    bundle_devices = [d.id for d in prepared.rows["devices"]]
    redo = 0
    while True:
        writing = time.perf_counter()
        try:
            result = _write(
                db,
                prepared,
                bundle,
                deadline,
                recheck=redo >= _MAX_REDO,
                checked=checked,
                committed=committed,
            )
        except _HeadsMoved:
            redo += 1
            check_against_hub(db, prepared, bundle_devices)  # outside the lock again
            continue
        result.prepare_s = prepare_s
        result.write_s = time.perf_counter() - writing
        result.redone = redo
        return result


def _check_rows(prepared: Prepared, visit_codes: frozenset[str]) -> None:
    """The checks of the bundle's rows that need nothing more of the hub: every row validated,
    then the checks `check_against_hub` deferred (MergeRefused at the first refusal)."""
    validate(BUNDLE_COLUMNS, prepared.rows, visit_codes)
    run_deferred(prepared)


def _write(
    db: StudyDb,
    prepared: Prepared,
    bundle: Mapping[str, Any],
    deadline: float,
    *,
    recheck: bool,
    checked: Callable[[], None],
    committed: Callable[[], None],
) -> MergeResult:
    """The write step in one transaction, once the write lock is held (waiting for it until
    `deadline`); _HeadsMoved (nothing written) if the hub's heads moved since the preparation,
    unless `recheck` (then the preparation's hub checks run again inside the lock). `checked`
    (the rows' own checks, run meanwhile) is awaited once every row is written, before the
    commit: its refusal rolls everything back."""
    result = MergeResult()
    # A larger page cache for the merge's index inserts (the hub grows to gigabytes); restored.
    cache_size = int(scalar(db.conn, "PRAGMA cache_size"))
    db.conn.execute(f"PRAGMA cache_size={_MERGE_CACHE_KIB}")
    # The WAL checkpoint SQLite makes after a large commit (its automatic checkpoint, in the
    # committing call, the write lock already released) made explicitly after the commit, so
    # that the lock-held time is the time the lock is held; restored.
    autocheckpoint = int(scalar(db.conn, "PRAGMA wal_autocheckpoint"))
    db.conn.execute("PRAGMA wal_autocheckpoint=0")
    # Each wait for the lock within what is left of the merge's own patience (`deadline`): the
    # connection's busy timeout, a kiosk's patience, is longer; restored.
    busy_ms = int(scalar(db.conn, "PRAGMA busy_timeout"))
    merge = _Merge(db, result, prepared, str(bundle.get("site_code") or "site"))
    merge.source_device = str(bundle.get("device_id") or "")
    locked_at = 0.0
    waiting = time.monotonic()
    # The lock is first asked for at once: held by another program, the rows' checks are
    # awaited before waiting for it (a bundle they refuse is not kept waiting for a lock).
    awaited = False
    try:
        while True:
            left_ms = max(0, int((deadline - time.monotonic()) * 1000))
            db.conn.execute(f"PRAGMA busy_timeout={min(busy_ms, left_ms) if awaited else 0}")
            try:
                with _interruptions_held() as hold:
                    with transaction(db):
                        locked_at = time.perf_counter()
                        if hub_heads(db, prepared.heads) != prepared.heads:
                            if not recheck:
                                raise _HeadsMoved
                            devices = [d.id for d in prepared.rows["devices"]]
                            check_against_hub(db, prepared, devices)
                        scores_checked = score_stamp(db) == prepared.score_stamp
                        _write_rows(db, merge, bundle, scores_checked=scores_checked)
                        checked()  # the rows' checks passed: only then is anything committed
                        hold()  # from here the commit and `committed` are one step
                    committed()
                result.lock_held_s = time.perf_counter() - locked_at
                if autocheckpoint > 0:
                    _checkpoint(db)
                return result
            except WriteFailed as exc:
                if not locked_at and _is_busy(exc) and not awaited:
                    checked()
                    awaited = True
                elif locked_at or not _is_busy(exc) or time.monotonic() >= deadline:
                    if not locked_at and _is_busy(exc):
                        raise MergeRefused(
                            f"{db.path} stayed locked by another program (a kiosk or another "
                            f"import) for {time.monotonic() - waiting:.0f} s: nothing was "
                            "imported, try again"
                        ) from None
                    raise
                result = MergeResult()  # the lock was busy past the busy timeout: wait more
                merge = _Merge(db, result, prepared, str(bundle.get("site_code") or "site"))
                merge.source_device = str(bundle.get("device_id") or "")
    except sqlite3.IntegrityError as exc:
        if "FOREIGN KEY" in str(exc):
            raise MergeRefused(
                "the bundle refers to records this database does not have "
                "(import the earlier bundles of that kiosk first)"
            ) from None
        raise MergeRefused(f"the bundle does not fit this database ({exc})") from None
    finally:
        db.conn.execute(f"PRAGMA cache_size={cache_size}")
        db.conn.execute(f"PRAGMA wal_autocheckpoint={autocheckpoint}")
        db.conn.execute(f"PRAGMA busy_timeout={busy_ms}")


@contextlib.contextmanager
def _interruptions_held() -> Iterator[Callable[[], None]]:
    """A function that holds back Ctrl-C and SIGTERM until the block ends: a merge holds them
    from just before its commit until `committed` has run, so that an interruption there reaches
    a caller who has been told the merge is in (the command line ignores it from then on:
    `cli.work_done`) rather than one who would report it as cancelled. Held by handlers that
    note them (the main thread's, where Python runs them; elsewhere nothing is held); at the
    end the handlers are put back, unless `committed` set others, and a noted signal is raised
    again unless it is ignored by then."""
    noted: list[int] = []
    previous: dict[int, Any] = {}

    def note(signum: int, _frame: object) -> None:
        noted.append(signum)

    def hold() -> None:
        if previous or threading.current_thread() is not threading.main_thread():
            return
        for sig in meanwhile.INTERRUPTIONS:
            previous[sig] = signal.signal(sig, note)

    try:
        yield hold
    finally:
        for sig, handler in previous.items():
            if signal.getsignal(sig) is note:  # (`committed` may have set its own)
                signal.signal(sig, handler)
        for sig in dict.fromkeys(noted):
            if signal.getsignal(sig) is not signal.SIG_IGN:
                signal.raise_signal(sig)


def _checkpoint(db: StudyDb) -> None:
    """A passive WAL checkpoint, as SQLite's automatic one after a commit (it waits for no
    reader or writer; what it cannot copy now, a later checkpoint does). The commit is durable
    before it (``synchronous=FULL``: the WAL is synced at the commit)."""
    with contextlib.suppress(sqlite3.OperationalError):  # left to the next checkpoint
        db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()


def _is_busy(exc: WriteFailed) -> bool:
    cause = exc.__cause__
    return isinstance(cause, sqlite3.OperationalError) and (
        "locked" in str(cause) or "busy" in str(cause)
    )


def _write_rows(
    db: StudyDb, merge: _Merge, bundle: Mapping[str, Any], *, scores_checked: bool
) -> None:
    """Every table's rows compared with the hub's and written, in `TABLES` order (one method of
    `_Merge` per table), then the checks of the merged state and the audit entries.
    `scores_checked`: the preparation's score check still holds (the hub's answers and scores
    unchanged since), so the scores are not recomputed here."""
    result = merge.result
    db.conn.execute("PRAGMA defer_foreign_keys=ON")
    for table in TABLES:
        getattr(merge, table)()
    check_withdrawal_entries(merge, MergeRefused)
    for entries in merge.prepared.new_entries.values():
        check_withdrawals_carried(merge, entries, MergeRefused)
    if result.inserted["answers"] != merge.prepared.new_answers:
        raise MergeRefused(
            f"{db.path} gained some of the bundle's answers during the import: try again"
        )
    _check_new_choices(merge)
    if not scores_checked:
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


def list_conflicts(db: StudyDb) -> list[Conflict]:
    """Every conflict flagged by a bundle import, oldest first."""
    out = []
    for row in db.conn.execute(
        "SELECT id, at, payload FROM audit_log WHERE action=? ORDER BY at, device_id, seq",
        [_CONFLICT_ACTION],
    ):
        p = stored_payload(row["id"], row["payload"])
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
