"""Verification of a database file: SQLite integrity, every audit chain, answers against the log.

Checks, in order (the first failure is reported, naming the row):

1. ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check``;
2. each device's audit chain: seq 1, 2, 3 ... without gaps, ``prev_hash`` links, every hash
   recomputed, and the chain head recorded in ``devices`` (so removed last entries show); then
   each head given with ``expect`` must still be an entry of its chain
   (`chain_head.expected_problem`: an older copy of the file is caught);
3. no column declared TEXT holds bytes, in any table (`stored_values.first_bytes`); every
   answer's value keeps its item's rule, as every way in checks it (`stored_values`: a code of
   its item, a VAS in range and on its grid); every answer row listed by exactly the answer
   entry that recorded it, with the same content (the entry's digest recomputed from the
   rows), of the session the entry names (and of its subject, when it names a subject of
   the file), and no answer without an entry; every answer's VAS calibration one its own
   device recorded (a ``vas.calibrated`` entry of its chain, whose payload is that device's
   row, the only one recording that calibration: `_answer_calibrations`);
4. the triggers that make ``answers``, ``audit_log`` and ``session_choices`` append-only are in
   place;
5. every session choice (`conflict_resolution`) names a session of its own visit and matches the
   ``conflict.resolved`` audit entry that recorded it (same staff, device, session, time and
   reason), and every such entry has its choice row;
6. every current (not superseded) score row of the current scoring version equals the scores
   recomputed from its session's current answers (`scores.compute`, the study's
   ``odi_min_sections``), compared as JSON values. Rows of another scoring version (an older
   release) are not recomputed. In the same pass, every answer that supersedes one names an
   answer of its own session and item, and its links end at a first answer (`_answer_links`:
   no link to another patient's or item's answer, no cycle; a fork is legitimate);
7. the replay (`_replay`, unless ``replay=False``): every state table (settings, sites,
   devices, staff, subjects, visits, sessions, session choices, scores) rebuilt from the
   ``rows_after`` images of the database's own chain and compared row by row, column by column
   (`row_images.EXCLUDED` aside); the summary says which tables were covered (an older
   database: what its entries allow);
8. with the replay, every other device's chain (a hub's kiosks; a kiosk's hub) replayed too
   (`_replay_devices`): each row a device's own entries image must be held here as that image,
   or as a state a merge may legitimately make of it (forward-only steps, flagged conflicts),
   so a row edited in the file *and* its image rewritten in the file's own chain is named with
   the device whose chain says otherwise;
9. what a row's images cannot show, checked after the replay (which names a changed column
   more precisely): each kind of score of a session (instrument, method) has exactly one
   current row (none: superseded without a replacement; two: one of another scoring version
   is not recomputed by check 6) and a superseded one names a replacement of its own kind;
   each session names (``visit_id``) the visit of its own subject and visit code, and each
   visit's stored session is one of its own; every withdrawal is recorded by exactly one
   ``subject.withdrawn`` entry, which it matches (device, staff, day and reason, and the
   subject when the entry names one here: a second entry recording it otherwise, or a row no
   entry records, is named).

Reads only: the file is opened read-only and nothing is created. An encrypted file is opened with
its key (`_encryption.key_for`, or the one given).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from functools import partial
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple

from respine_desktop import json_text
from respine_desktop.storage import _encryption as encryption
from respine_desktop.storage import _schema as schema
from respine_desktop.storage import _scores as scores
from respine_desktop.storage._answer_calibrations import first_bad_entry, first_unrecorded
from respine_desktop.storage._answer_links import bad_link
from respine_desktop.storage._answers import digest, select_rows_and_rowids
from respine_desktop.storage._audit import COLUMNS as AUDIT_COLUMNS
from respine_desktop.storage._audit import GENESIS, entry_hash
from respine_desktop.storage._chain_head import ExpectedHead, expected_problem
from respine_desktop.storage._conflict_resolution import RESOLVED_ACTION
from respine_desktop.storage._database import (
    connect,
    inspect_database,
    integrity_problem,
    plain_rows,
    scalar,
    select_list,
)
from respine_desktop.storage._driver import sqlite3
from respine_desktop.storage._errors import DatabaseCorrupt
from respine_desktop.storage._merge_withdrawals import WITHDRAWN_ACTION, has_table
from respine_desktop.storage._records import VerifyResult
from respine_desktop.storage._replay import UNREADABLE, Coverage, Replay, ReplayMismatch
from respine_desktop.storage._replay_devices import DeviceReplay
from respine_desktop.storage.stored_values import StoredValues, first_bytes
from respine_desktop.study import Study, load_study

ANSWER_ACTIONS = ("answer.recorded", "answer.corrected")
CHOICES_MIGRATION = "0003_session_choices"


class _Bad(Exception):
    pass


def _name(device_id: str, seq: int, entry_id: str) -> str:
    return f"audit entry #{seq} of device {device_id} (id {entry_id})"


def verify_database(
    path: str | Path,
    *,
    study: Study | None = None,
    expect: Sequence[ExpectedHead] = (),
    replay: bool = True,
    key: bytes | None = None,
) -> VerifyResult:
    """Verify the RESPINE database at `path` without modifying it.

    Scores are recomputed with the rules of `study` (default: the shipped configuration).
    Each head in `expect` (`parse_expected`) must still be in the file's chains.

    Raises `DatabaseMissing` / `NotARespineDatabase` when the file is absent, unreadable or not
    ours; otherwise returns a result whose ``message`` is a one-line summary or the first problem.
    """
    path = Path(path)
    if key is None:
        key = encryption.key_for(path)
    try:
        inspect_database(path, key=key)
    except DatabaseCorrupt as exc:  # the schema pages themselves: the data was checked, exit 1
        return VerifyResult(False, f"integrity check failed: {exc.__cause__ or exc}")
    conn = connect(path, readonly=True, key=key)
    try:
        return verify_connection(
            conn,
            min_sections=(study or load_study()).odi_min_sections,
            expect=expect,
            replay=replay,
        )
    finally:
        conn.close()


def verify_connection(
    conn: sqlite3.Connection,
    *,
    min_sections: int,
    expect: Sequence[ExpectedHead] = (),
    replay: bool = True,
) -> VerifyResult:
    """Run every check on an open connection (see the module docstring).

    `replay=False` leaves out checks 7 and 8 (the benchmark measures what they cost).
    """
    stats = {"entries": 0, "answers": 0, "chains": 0, "scores": 0}
    coverage: Coverage | None = None
    others: DeviceReplay | None = None
    # One read transaction: every check sees the same snapshot even while the kiosk writes.
    conn.execute("BEGIN")
    try:
        _integrity(conn)
        replayer = _replayer(conn) if replay else None
        others = DeviceReplay(conn, replayer.device_id) if replayer is not None else None
        withdrawn: _Withdrawn = {}
        _chains(conn, stats, replayer, others, withdrawn)
        for head in expect:
            problem = expected_problem(conn, head)
            if problem is not None:
                raise _Bad(problem)
        for (table,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite%' "
            "ORDER BY name"
        ).fetchall():
            found = first_bytes(conn, str(table))
            if found is not None:
                raise _Bad(f"table {table} row {found[0]!r}: its {found[1]} is bytes, not a text")
        broken = StoredValues().first_broken(conn)
        if broken is not None:
            raise _Bad(f"table answers row {broken[0]} ({broken[1]}): {broken[2]}")
        _answers_covered(conn, stats)
        _answer_calibrations(conn)
        choices = _has_choices(conn)
        _triggers(conn, choices)
        if choices:
            _choices(conn)
        _scores(conn, stats, min_sections)  # before the replay: it names subject and visit
        if replayer is not None:
            try:
                coverage = replayer.compare()
                if others is not None:
                    others.compare()
            except ReplayMismatch as exc:
                raise _Bad(str(exc)) from None
            except UNREADABLE as exc:
                # An image read again to decide a row (`_replay_devices`), none of ours.
                raise _Bad(
                    f"an audit entry's row image cannot be read ({type(exc).__name__}: {exc})"
                ) from None
        kinds = _score_kinds(conn)
        if kinds is not None:
            raise _Bad(kinds)
        _score_replacements(conn)
        _session_visits(conn)
        _withdrawals(conn, withdrawn)
    except _Bad as bad:
        return VerifyResult(False, str(bad), stats["entries"], stats["answers"], stats["chains"])
    except sqlite3.DatabaseError as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return VerifyResult(False, f"database error while verifying: {first}")
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
    return VerifyResult(
        True,
        f"ok: integrity ok, {stats['entries']} audit entries in {stats['chains']} device "
        f"chain(s) verified, {stats['answers']} answers match the audit log, "
        f"{stats['scores']} scores match their answers"
        + (f", {coverage.summary()}" if coverage is not None else "")
        + (f", {others.summary()}" if others is not None and others.replays else "")
        + (f", the {len(expect)} expected head(s) are in the chains" if expect else ""),
        stats["entries"],
        stats["answers"],
        stats["chains"],
    )


def _integrity(conn: sqlite3.Connection) -> None:
    problem = integrity_problem(conn, full=True)
    if problem is not None:
        raise _Bad(f"integrity check failed: {problem}")
    bad = conn.execute("PRAGMA foreign_key_check").fetchone()
    if bad is not None:
        raise _Bad(
            f"foreign key check failed: {bad['table']} row {bad['rowid']} references a missing "
            f"{bad['parent']}"
        )


def _replayer(conn: sqlite3.Connection) -> Replay:
    """The replay of this database's own chain (the device its settings name)."""
    row = conn.execute("SELECT value FROM settings WHERE key='device_id'").fetchone()
    device = str(row["value"]) if row is not None else ""
    if not conn.execute("SELECT 1 FROM audit_log WHERE device_id=? LIMIT 1", [device]).fetchone():
        raise _Bad(f"settings name device {device or '(none)'}, which has no audit chain here")
    return Replay(conn, device)


def _chains(
    conn: sqlite3.Connection,
    stats: dict[str, int],
    replayer: Replay | None = None,
    others: DeviceReplay | None = None,
    withdrawn: _Withdrawn | None = None,
) -> None:
    """Check 2, and the answers of check 3 (`_check_answers`), entry by entry; the entries
    recording a withdrawal noted in `withdrawn` (for `_withdrawals`)."""
    heads = {
        r["id"]: (int(r["audit_seq"]), str(r["audit_head"]))
        for r in conn.execute("SELECT id, audit_seq, audit_head FROM devices")
    }
    device: str | None = None
    expected, prev = 1, GENESIS
    recorded = _Recorded(conn)
    owners = _Owners(conn)

    def close_chain() -> None:
        if device is None:
            return
        seq, head = heads[device]
        if expected - 1 < seq:
            raise _Bad(
                f"table audit_log: audit entries #{expected}..#{seq} of device {device} are "
                f"missing (the chain ends at #{expected - 1})"
            )
        if expected - 1 > seq or head != prev:
            raise _Bad(
                f"table devices row {device}: audit_seq/audit_head: audit chain head of device "
                f"{device} does not match its last entry"
            )

    cursor = conn.execute(f"SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY device_id, seq")
    for row in cursor:
        entry_id, dev, seq, action = row["id"], row["device_id"], row["seq"], row["action"]
        payload, stored = row["payload"], row["hash"]
        if dev != device:
            close_chain()
            if dev not in heads:
                raise _Bad(
                    f"table devices row {dev}: missing, but its chain is here "
                    f"({_name(dev, seq, entry_id)})"
                )
            device, expected, prev = dev, 1, GENESIS
            stats["chains"] += 1
        if seq != expected:
            raise _Bad(
                f"table audit_log: audit entry #{expected} of device {dev} is missing "
                f"(found #{seq}, id {entry_id}, after #{expected - 1})"
            )
        if row["prev_hash"] != prev:
            raise _Bad(
                f"table audit_log row {entry_id}: {_name(dev, seq, entry_id)}: prev_hash does not "
                f"match entry #{seq - 1}"
            )
        recomputed = entry_hash(
            prev,
            entry_id,
            dev,
            seq,
            row["at"],
            row["actor"],
            action,
            row["subject_id"],
            row["entity"],
            row["entity_id"],
            payload,
        )
        if recomputed != stored:
            raise _Bad(
                f"table audit_log row {entry_id}: {_name(dev, seq, entry_id)}: content changed "
                "(hash mismatch)"
            )
        try:
            parsed: dict[str, Any] | None = None
            if action in ANSWER_ACTIONS:
                parsed = json_text.loads(payload)  # once, for the answers' check and the replay
                stats["answers"] += _check_answers(
                    conn, _name(dev, seq, entry_id), parsed, recorded, owners, row["subject_id"]
                )
            elif action == WITHDRAWN_ACTION and withdrawn is not None:
                noted = (_name(dev, seq, entry_id), dev, row["actor"], row["subject_id"], payload)
                withdrawn.setdefault(row["entity_id"], []).append(noted)
            if replayer is not None and dev == replayer.device_id:
                replayer.feed(seq, action, row["entity_id"], payload, parsed)
            elif others is not None:
                others.feed(dev, seq, action, row["entity_id"], payload, parsed)
        except UNREADABLE as exc:
            # A payload none of our versions writes, yet chained (a consistent rewrite): named.
            raise _Bad(
                f"table audit_log row {entry_id}: {_name(dev, seq, entry_id)}: its payload "
                f"cannot be read ({type(exc).__name__}: {exc})"
            ) from None
        prev, expected = stored, expected + 1
        stats["entries"] += 1
    close_chain()
    for dev, (seq, _) in heads.items():
        if (
            seq > 0
            and not conn.execute(
                "SELECT 1 FROM audit_log WHERE device_id=? LIMIT 1", [dev]
            ).fetchone()
        ):
            raise _Bad(f"audit entries #1..#{seq} of device {dev} are missing")


class _Recorded:
    """The answer rows (by rowid) the entries checked so far recorded: a byte per rowid up to
    the table's largest (a set for a file whose rowids are sparse or negative)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        top, count = conn.execute(
            "SELECT coalesce(max(rowid), 0), count(*) FROM answers"
        ).fetchone()
        self.marks = bytearray(int(top) + 1) if 0 <= int(top) <= 4 * int(count) + 4096 else None
        self.others: set[int] = set()

    def first_again(self, rowids: list[int]) -> int | None:
        """Note `rowids` (in order) as recorded; the first that was recorded already (by an
        earlier entry or earlier in this list), None if none was."""
        marks = self.marks
        if (  # the usual case at once: distinct rowids, none noted yet
            marks is not None
            and rowids
            and min(rowids) >= 0
            and len(set(rowids)) == len(rowids)
            and not any(map(marks.__getitem__, rowids))
        ):
            for rowid in rowids:
                marks[rowid] = 1
            return None
        for rowid in rowids:
            if marks is not None and 0 <= rowid < len(marks):
                if marks[rowid]:
                    return rowid
                marks[rowid] = 1
            elif rowid in self.others:
                return rowid
            else:
                self.others.add(rowid)
        return None


class _Owners:
    """Each session's subject, and the subjects of the file: whom an answer entry may name."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.sessions: dict[str, str] = dict(conn.execute("SELECT id, subject_id FROM sessions"))
        self.subjects = frozenset(r[0] for r in conn.execute("SELECT id FROM subjects"))


def _check_answers(
    conn: sqlite3.Connection,
    entry: str,
    payload: dict[str, Any],
    recorded: _Recorded,
    owners: _Owners,
    subject: str | None,
) -> int:
    """The rows an answer entry lists: each as listed, of the session the entry names, recorded
    by no other entry, their digest the entry's, of the subject the entry names (when it names
    a subject of the file: a hub that matched a kiosk's subject by code holds it under another
    id, and the kiosk's entries name an id known nowhere here)."""
    session = payload.get("session_id")
    listed = payload.get("answers") or []
    # Each listed answer is [id, item_id, value] (the payload's stored format, not a row).
    ids = [a[0] for a in listed]
    where = f"WHERE id IN ({', '.join('?' for _ in ids)})"
    found = {r.id: (rowid, r) for rowid, r in select_rows_and_rowids(conn, where, ids)}
    rows = []
    rowids = []
    for summary in listed:
        got = found.get(summary[0])
        if got is None:
            raise _Bad(
                f"table answers row {summary[0]} ({summary[1]}), recorded by {entry}, is missing"
            )
        rowid, row = got
        if [row.id, row.item_id, row.value] != summary:
            raise _Bad(
                f"table answers row {row.id} ({row.item_id}): differs from what {entry} recorded"
            )
        if row.session_id != session and session is not None:
            raise _Bad(
                f"table answers row {row.id} ({row.item_id}): an answer of session "
                f"{row.session_id}, but {entry} records answers of session {session}"
            )
        rows.append(row)
        rowids.append(rowid)
    again = recorded.first_again(rowids)
    if again is not None:
        row = rows[rowids.index(again)]
        raise _Bad(
            f"table answers row {row.id} ({row.item_id}): recorded again by {entry} (an "
            "answer is recorded by one audit entry, once)"
        )
    if digest(rows) != payload.get("digest"):
        # the digest spans the entry's rows: one is named exactly, several by their span
        if len(rows) == 1:
            raise _Bad(
                f"table answers row {rows[0].id} ({rows[0].item_id}): changed since {entry} "
                "recorded it (digest mismatch)"
            )
        raise _Bad(
            f"table answers rows {rows[0].id}..{rows[-1].id}: one or more of the {len(rows)} "
            f"answers recorded by {entry} were changed (digest mismatch)"
        )
    if subject in owners.subjects:
        for row in rows if session is None else rows[:1]:  # one session: its first row says
            owner = owners.sessions.get(row.session_id)
            if owner != subject:
                raise _Bad(
                    f"table answers row {row.id} ({row.item_id}): an answer of subject {owner}, "
                    f"but {entry} names subject {subject}"
                )
    return len(rows)


def _answers_covered(conn: sqlite3.Connection, stats: dict[str, int]) -> None:
    total = int(scalar(conn, "SELECT count(*) FROM answers"))
    if total == stats["answers"]:
        return
    covered: set[str] = set()
    for row in conn.execute("SELECT payload FROM audit_log WHERE action IN (?, ?)", ANSWER_ACTIONS):
        covered.update(a[0] for a in json_text.loads(row["payload"]).get("answers") or [])
    for row in conn.execute("SELECT id, item_id FROM answers ORDER BY rowid"):
        if row["id"] not in covered:
            raise _Bad(f"table answers row {row['id']} ({row['item_id']}): has no audit entry")
    raise _Bad(f"{stats['answers']} answers listed in the audit log but {total} stored")


def _has_choices(conn: sqlite3.Connection) -> bool:
    """Whether the database has the ``session_choices`` table (a file not yet upgraded to schema
    0003 has none; one upgraded must have it)."""
    if conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type='table' AND name='session_choices'"
    ).fetchone():
        return True
    applied = conn.execute(
        f"SELECT 1 FROM {schema.migrations.migrations_table} WHERE migration_set=? AND name=?",
        [schema.MIGRATION_SET, CHOICES_MIGRATION],
    ).fetchone()
    if applied:
        raise _Bad("table session_choices is missing")
    return False


def _triggers(conn: sqlite3.Connection, choices: bool = True) -> None:
    present = {
        r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")
    }
    for name in schema.TRIGGERS:
        if not choices and name.startswith("session_choices_"):
            continue
        if name not in present:
            raise _Bad(f"protective trigger {name} is missing")


# A choice row and the audit entry that recorded it, side by side. Both queries name the
# condition of 0014's partial index (`_schema.ENTITY_ACTIONS_SQL`): SQLite then looks the
# entries up through ``audit_entity`` instead of building an automatic index of the log (the
# join) or reading the whole log (the way back: 0.12 s CPU at 232,000 entries, 0.0001 s so).
_CHOICES = (
    "SELECT c.id, c.visit_id, c.session_id, c.chosen_at, c.chosen_by, c.device_id, c.reason, "
    "s.visit_id AS session_visit, l.id AS entry_id, l.device_id AS entry_device, l.seq, "
    "l.actor, l.payload "
    "FROM session_choices c LEFT JOIN sessions s ON s.id = c.session_id "
    f"LEFT JOIN audit_log l ON l.{schema.ENTITY_ACTIONS_SQL} "
    "AND l.action = ? AND l.entity_id = c.id ORDER BY c.rowid"
)
_RESOLVED_ENTRIES = (
    f"SELECT id, device_id, seq, entity_id FROM audit_log WHERE {schema.ENTITY_ACTIONS_SQL} "
    "AND action=? ORDER BY device_id, seq"
)


def _choices(conn: sqlite3.Connection) -> None:
    """Check 5: each choice row against its session and its audit entry, and back."""
    seen: set[str] = set()
    for row in conn.execute(_CHOICES, [RESOLVED_ACTION]):
        choice, visit, session = row["id"], row["visit_id"], row["session_id"]
        entry_id, entry_device, seq = row["entry_id"], row["entry_device"], row["seq"]
        name = f"table session_choices row {choice}"
        if row["session_visit"] != visit:
            raise _Bad(f"{name}: session {session} is not a session of visit {visit}")
        if entry_id is None:
            raise _Bad(f"{name}: no audit entry records it")
        if choice in seen:
            raise _Bad(f"{name}: recorded by more than one audit entry")
        seen.add(choice)
        payload = json_text.loads(row["payload"])
        recorded = (
            entry_device,
            row["actor"],
            payload.get("session_id"),
            payload.get("chosen_at"),
            payload.get("device_id"),
            payload.get("reason"),
        )
        device = row["device_id"]
        if recorded != (device, row["chosen_by"], session, row["chosen_at"], device, row["reason"]):
            raise _Bad(f"{name}: differs from what {_name(entry_device, seq, entry_id)} recorded")
    for row in conn.execute(_RESOLVED_ENTRIES, [RESOLVED_ACTION]):
        if row["entity_id"] not in seen:
            entry = _name(row["device_id"], row["seq"], row["id"])
            raise _Bad(f"table session_choices row {row['entity_id']}: missing ({entry})")


def _answer_calibrations(conn: sqlite3.Connection) -> None:
    """Check 3 for calibrations: each is recorded once, by an entry whose payload is its
    device's row; each answer's is one its own device recorded."""
    entry = first_bad_entry(conn)
    if entry is not None:
        (device, seq, entry_id), problem = entry
        raise _Bad(f"{_name(device, seq, entry_id)}: {problem}")
    found = first_unrecorded(conn)
    if found is not None:
        answer_id, problem = found
        raise _Bad(f"table answers row {answer_id}: column vas_calibration {problem}")


# Check 9 for sessions: the first whose visit (``visit_id``) is not of its own subject and code.
_SESSION_VISITS = (
    "SELECT s.id, s.visit_id, s.subject_id, s.visit_code, v.subject_id AS visit_subject, "
    "v.visit_code AS visit_code_of_visit FROM sessions s JOIN visits v ON v.id = s.visit_id "
    "WHERE v.subject_id IS NOT s.subject_id OR v.visit_code IS NOT s.visit_code "
    "ORDER BY s.rowid LIMIT 1"
)


# ... and the first visit whose stored session (``visits.session_id``: derived, in no image)
# is not one of its own sessions.
_VISIT_SESSIONS = (
    "SELECT v.id, v.session_id FROM visits v LEFT JOIN sessions s ON s.id = v.session_id "
    "WHERE v.session_id IS NOT NULL AND s.visit_id IS NOT v.id ORDER BY v.rowid LIMIT 1"
)


def _session_visits(conn: sqlite3.Connection) -> None:
    """Check 9 for sessions: each names (``visit_id``) the visit of its own subject and visit
    code, the sitting readers by visit (worklist, chosen session) and readers by subject
    (exports, reports) must both find; and each visit's stored session (the worklist's, the
    one "Start questionnaires" resumes; derived, so in no row image) is a session of it."""
    row = conn.execute(_SESSION_VISITS).fetchone()
    if row is not None:
        raise _Bad(
            f"table sessions row {row['id']}: column visit_id is {row['visit_id']!r}, the visit "
            f"{row['visit_code_of_visit']} of subject {row['visit_subject']}, but the session "
            f"is of visit {row['visit_code']} of subject {row['subject_id']}"
        )
    columns = {r[1] for r in conn.execute("PRAGMA table_info(visits)")}
    if "session_id" not in columns:
        return  # a file of schema 0001, read as it is: no stored session yet (0002_worklist)
    row = conn.execute(_VISIT_SESSIONS).fetchone()
    if row is not None:
        raise _Bad(
            f"table visits row {row['id']}: column session_id is {row['session_id']!r}, not a "
            "session of this visit"
        )


# a withdrawal's id -> the entries recording it: (name, device, actor, subject, payload)
_Withdrawn = dict[str, list[tuple[str, str, str | None, str | None, str]]]


def _withdrawals(conn: sqlite3.Connection, withdrawn: _Withdrawn) -> None:
    """Check 9 for withdrawals: each row recorded by exactly one ``subject.withdrawn`` entry,
    which it matches: device, staff, day, reason, and the subject when the entry names one here
    (a subject matched by code on a hub has another id here: not compared)."""
    if not has_table(conn):
        return
    # an entry names the subject's id where it was written: on a hub that matched a kiosk's
    # subject by code, an id known nowhere here (not compared); any subject here must be its own
    subjects = {r[0] for r in conn.execute("SELECT id FROM subjects")}
    for row in conn.execute(
        "SELECT id, subject_id, withdrawn_on, reason, recorded_by, device_id FROM withdrawals "
        "ORDER BY rowid"
    ):
        name = f"table withdrawals row {row['id']}"
        entries = withdrawn.get(row["id"], [])
        if not entries:
            raise _Bad(f"{name}: no audit entry records it")
        if len(entries) > 1:
            raise _Bad(
                f"{name}: recorded by more than one audit entry ({entries[0][0]}, {entries[1][0]})"
            )
        entry, device, actor, subject, payload = entries[0]
        try:
            said = json_text.loads(payload)
            recorded = (device, actor, said.get("withdrawn_on"), said.get("reason"))
        except UNREADABLE:
            recorded = None
        wanted = (row["device_id"], row["recorded_by"], row["withdrawn_on"], row["reason"])
        if recorded != wanted:
            raise _Bad(f"{name}: differs from what {entry} recorded")
        if subject != row["subject_id"] and subject in subjects:
            raise _Bad(
                f"{name}: column subject_id is {row['subject_id']!r}, {entry} recorded the "
                f"withdrawal of subject {subject!r}"
            )


class _StoredScore(NamedTuple):
    """The columns of a current score row that check 6 compares."""

    session_id: str
    id: str
    instrument_id: str
    method: str
    scores: str


class _StoredValue(NamedTuple):
    """The columns of an answer row that scoring reads."""

    session_id: str
    id: str
    supersedes: str | None
    instrument_id: str
    item_id: str
    value: float | None


# Bulk reads (every score, every answer): plain rows of the named tuples' fields.
_CURRENT_SCORES = (
    f"SELECT {select_list(_StoredScore._fields)} FROM scores "
    "WHERE superseded_at IS NULL AND scoring_version=? ORDER BY session_id"
)
# In written order within a session, as `answers.current_rows` orders them (a later answer wins).
_ANSWERS_BY_SESSION = (
    f"SELECT {select_list(_StoredValue._fields)} FROM answers ORDER BY session_id, rowid"
)
_STORED_SCORE = partial(tuple.__new__, _StoredScore)
_STORED_VALUE = partial(tuple.__new__, _StoredValue)
_BY_SESSION = attrgetter("session_id")


def _session_answers(
    conn: sqlite3.Connection,
) -> Iterator[tuple[str, list[tuple[str, str, float | None]]]]:
    """Each session's current answers as (instrument, item, value), oldest first, by session."""
    rows = map(_STORED_VALUE, plain_rows(conn, _ANSWERS_BY_SESSION))
    for session_id, group in itertools.groupby(rows, key=_BY_SESSION):
        answers = list(group)
        superseded = {r.supersedes for r in answers if r.supersedes is not None}
        if superseded:
            _links(answers)
        yield (
            session_id,
            [(r.instrument_id, r.item_id, r.value) for r in answers if r.id not in superseded],
        )


def _links(answers: list[_StoredValue]) -> None:
    """Each row of a session that supersedes one names an answer of its session and item, and
    its links end at a first answer (`_answer_links`; a fork, two rows superseding one, is
    legitimate: the later written counts)."""
    found = bad_link({r.id: r for r in answers}, [r for r in answers if r.supersedes is not None])
    if found is not None:
        row, problem = found
        raise _Bad(f"table answers row {row[1]} ({row[4]}): {problem}")


def _scores(conn: sqlite3.Connection, stats: dict[str, int], min_sections: int) -> None:
    """Recompute every current score row from its session's current answers (check 6).

    Two cursors in session order, merged: the answers are read once, in one pass.
    """
    answers = _session_answers(conn)
    pending: tuple[str, list[tuple[str, str, float | None]]] = ("", [])
    score_rows = map(_STORED_SCORE, plain_rows(conn, _CURRENT_SCORES, [scores.scoring_version()]))
    for session_id, group in itertools.groupby(score_rows, key=_BY_SESSION):
        while pending[0] < session_id:
            pending = next(answers, (_AFTER_ALL, []))
        given = scores.scoring_input(pending[1] if pending[0] == session_id else [])
        computed: dict[str, dict[str, dict[str, float | None]]] = {}
        for score in group:
            score_id, instrument_id, method = score.id, score.instrument_id, score.method
            text = score.scores
            if instrument_id not in computed:
                try:
                    computed[instrument_id] = scores.compute(
                        instrument_id, given.get(instrument_id, {}), min_sections=min_sections
                    )
                except ValueError:  # answers the scorer refuses: no stored score can match
                    computed[instrument_id] = {}
            expected = computed[instrument_id].get(method)
            if expected is None or not scores.holds(text, expected):
                raise _Bad(
                    _score_problem(conn, score_id, session_id, instrument_id, method, _DIFFERS)
                )
            stats["scores"] += 1
    for _ in answers:  # the sessions after the last scored one: their links checked too
        pass


_DIFFERS = "does not match its session's current answers"
# Check 9: the first kind of score of a session without exactly one current row (SQLite counts
# them: 0.15 s for 150,000 rows, a third of doing it in check 6's pass), then the row to name:
# the second current one, or the last superseded.
_SCORE_KINDS = (
    "SELECT session_id, instrument_id, method, count(*) - count(superseded_at) AS current "
    "FROM scores GROUP BY session_id, instrument_id, method HAVING current <> 1 LIMIT 1"
)
_KIND_ROW = (
    "SELECT id FROM scores WHERE session_id=? AND instrument_id=? AND method=? AND "
    "(superseded_at IS NULL) = ? ORDER BY rowid {} LIMIT 1 OFFSET ?"
)


def _score_kinds(conn: sqlite3.Connection) -> str | None:
    """Check 9 for scores: each kind of score of a session (instrument, method) has exactly one
    current row (none: superseded without a replacement; two: one of another scoring version
    is not recomputed by check 6); the first that has not, named, or None."""
    found = conn.execute(_SCORE_KINDS).fetchone()
    if found is None:
        return None
    session_id, instrument_id, method, current = found
    kind = [session_id, instrument_id, method]
    if current:
        (score_id,) = conn.execute(_KIND_ROW.format("ASC"), [*kind, 1, 1]).fetchone()
        problem = f"{current} current scores of its session, instrument and method (one each)"
    else:
        (score_id,) = conn.execute(_KIND_ROW.format("DESC"), [*kind, 0, 0]).fetchone()
        problem = (
            "no current score of its session, instrument and method (a score is superseded "
            "only by its replacement)"
        )
    return _score_problem(conn, score_id, session_id, instrument_id, method, problem)


# Check 9, a superseded score's replacement: a row of its session, instrument and method, as
# the merge asks (`_merge_scores`). Through the partial index of ``superseded_by`` (0013): the
# superseded rows only (415 of 149,499 in a 10,000-subject study: 0.008 s, a scan 0.056 s).
_SCORE_REPLACEMENTS = (
    "SELECT o.id, o.superseded_by FROM scores o LEFT JOIN scores n ON n.id = o.superseded_by "
    "WHERE o.superseded_by IS NOT NULL AND (n.session_id IS NOT o.session_id "
    "OR n.instrument_id IS NOT o.instrument_id OR n.method IS NOT o.method) LIMIT 1"
)


def _score_replacements(conn: sqlite3.Connection) -> None:
    """Check 9: each superseded score names (``superseded_by``) a score of its own session,
    instrument and method."""
    row = conn.execute(_SCORE_REPLACEMENTS).fetchone()
    if row is not None:
        raise _Bad(
            f"table scores row {row['id']}: column superseded_by is {row['superseded_by']!r}, "
            "not a score of its session, instrument and method"
        )


_AFTER_ALL = "\U0010ffff"  # sorts after every session id


def _score_problem(
    conn: sqlite3.Connection,
    score_id: str,
    session_id: str,
    instrument_id: str,
    method: str,
    problem: str,
) -> str:
    found = conn.execute(
        "SELECT j.code, s.visit_code FROM sessions s JOIN subjects j ON j.id = s.subject_id "
        "WHERE s.id=?",
        [session_id],
    ).fetchone()
    where = f"subject {found['code']} visit {found['visit_code']}, " if found else ""
    return (
        f"table scores row {score_id} ({where}session {session_id}, instrument "
        f"{instrument_id}, method {method}): {problem}"
    )
