"""Verification of a database file: SQLite integrity, every audit chain, answers against the log.

Checks, in order (the first failure is reported, naming the row):

1. ``PRAGMA integrity_check`` and ``PRAGMA foreign_key_check``;
2. each device's audit chain: seq 1, 2, 3 ... without gaps, ``prev_hash`` links, every hash
   recomputed, and the chain head recorded in ``devices`` (so removed last entries show);
3. every answer row listed by exactly the answer entry that recorded it, with the same content
   (the entry's digest recomputed from the rows), and no answer without an entry;
4. the triggers that make ``answers``, ``audit_log`` and ``session_choices`` append-only are in
   place;
5. every session choice (`conflict_resolution`) names a session of its own visit and matches the
   ``conflict.resolved`` audit entry that recorded it (same staff, device, session, time and
   reason), and every such entry has its choice row;
6. every current (not superseded) score row of the current scoring version equals the scores
   recomputed from its session's current answers (`scores.compute`, the study's
   ``odi_min_sections``), compared as JSON values. Rows of another scoring version (an older
   release) are not recomputed.

Reads only: the file is opened read-only and nothing is created.
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from respine_desktop.storage import _schema as schema
from respine_desktop.storage import _scores as scores
from respine_desktop.storage._answers import COLUMNS as ANSWER_COLUMNS
from respine_desktop.storage._answers import digest
from respine_desktop.storage._audit import COLUMNS as AUDIT_COLUMNS
from respine_desktop.storage._audit import GENESIS, entry_hash
from respine_desktop.storage._conflict_resolution import RESOLVED_ACTION
from respine_desktop.storage._database import connect, inspect_database
from respine_desktop.storage._records import VerifyResult
from respine_desktop.study import Study, load_study

ANSWER_ACTIONS = ("answer.recorded", "answer.corrected")
CHOICES_MIGRATION = "0003_session_choices"


class _Bad(Exception):
    pass


def _name(device_id: str, seq: int, entry_id: str) -> str:
    return f"audit entry #{seq} of device {device_id} (id {entry_id})"


def verify_database(path: str | Path, *, study: Study | None = None) -> VerifyResult:
    """Verify the RESPINE database at `path` without modifying it.

    Scores are recomputed with the rules of `study` (default: the shipped configuration).

    Raises `DatabaseMissing` / `NotARespineDatabase` when the file is absent, unreadable or not
    ours; otherwise returns a result whose ``message`` is a one-line summary or the first problem.
    """
    path = Path(path)
    inspect_database(path)
    conn = connect(path, readonly=True)
    try:
        return verify_connection(conn, min_sections=(study or load_study()).odi_min_sections)
    finally:
        conn.close()


def verify_connection(conn: sqlite3.Connection, *, min_sections: int) -> VerifyResult:
    """Run every check on an open connection (see the module docstring)."""
    stats = {"entries": 0, "answers": 0, "chains": 0, "scores": 0}
    # One read transaction: every check sees the same snapshot even while the kiosk writes.
    conn.execute("BEGIN")
    try:
        _integrity(conn)
        _chains(conn, stats)
        _answers_covered(conn, stats)
        choices = _has_choices(conn)
        _triggers(conn, choices)
        if choices:
            _choices(conn)
        _scores(conn, stats, min_sections)
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
        f"{stats['scores']} scores match their answers",
        stats["entries"],
        stats["answers"],
        stats["chains"],
    )


def _integrity(conn: sqlite3.Connection) -> None:
    rows = conn.execute("PRAGMA integrity_check").fetchall()
    if [tuple(r) for r in rows] != [("ok",)]:
        first = str(rows[0][0]).splitlines()[0]
        more = f" (+{len(rows) - 1} more problems)" if len(rows) > 1 else ""
        raise _Bad(f"integrity check failed: {first}{more}")
    bad = conn.execute("PRAGMA foreign_key_check").fetchone()
    if bad is not None:
        raise _Bad(f"foreign key check failed: {bad[0]} row {bad[1]} references a missing {bad[2]}")


def _chains(conn: sqlite3.Connection, stats: dict[str, int]) -> None:
    heads = {
        r[0]: (int(r[1]), str(r[2]))
        for r in conn.execute("SELECT id, audit_seq, audit_head FROM devices")
    }
    device: str | None = None
    expected, prev = 1, GENESIS

    def close_chain() -> None:
        if device is None:
            return
        seq, head = heads[device]
        if expected - 1 < seq:
            raise _Bad(
                f"audit entries #{expected}..#{seq} of device {device} are missing "
                f"(the chain ends at #{expected - 1})"
            )
        if expected - 1 > seq or head != prev:
            raise _Bad(f"audit chain head of device {device} does not match its last entry")

    cursor = conn.execute(f"SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY device_id, seq")
    for row in cursor:
        (
            entry_id,
            dev,
            seq,
            at,
            actor,
            action,
            subject_id,
            entity,
            entity_id,
            payload,
            prev_hash,
            stored,
        ) = row
        if dev != device:
            close_chain()
            if dev not in heads:
                raise _Bad(f"{_name(dev, seq, entry_id)}: device {dev} is not registered")
            device, expected, prev = dev, 1, GENESIS
            stats["chains"] += 1
        if seq != expected:
            raise _Bad(
                f"audit entry #{expected} of device {dev} is missing "
                f"(found #{seq}, id {entry_id}, after #{expected - 1})"
            )
        if prev_hash != prev:
            raise _Bad(f"{_name(dev, seq, entry_id)}: prev_hash does not match entry #{seq - 1}")
        recomputed = entry_hash(
            prev, entry_id, dev, seq, at, actor, action, subject_id, entity, entity_id, payload
        )
        if recomputed != stored:
            raise _Bad(f"{_name(dev, seq, entry_id)}: content changed (hash mismatch)")
        if action in ANSWER_ACTIONS:
            stats["answers"] += _check_answers(conn, _name(dev, seq, entry_id), payload)
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


def _check_answers(conn: sqlite3.Connection, entry: str, payload_text: str) -> int:
    payload: dict[str, Any] = json.loads(payload_text)
    listed = payload.get("answers") or []
    ids = [a[0] for a in listed]
    found = {
        r[0]: r
        for r in conn.execute(
            f"SELECT {ANSWER_COLUMNS} FROM answers WHERE id IN ({', '.join('?' for _ in ids)})",
            ids,
        )
    }
    rows = []
    for summary in listed:
        row = found.get(summary[0])
        if row is None:
            raise _Bad(f"answer {summary[0]} ({summary[1]}) recorded by {entry} is missing")
        if [row[0], row[5], row[6]] != summary:
            raise _Bad(f"answer {row[0]} ({row[5]}) differs from what {entry} recorded")
        rows.append(row)
    if digest(rows) != payload.get("digest"):
        raise _Bad(f"answers recorded by {entry} were changed (digest mismatch)")
    return len(rows)


def _answers_covered(conn: sqlite3.Connection, stats: dict[str, int]) -> None:
    total = int(conn.execute("SELECT count(*) FROM answers").fetchone()[0])
    if total == stats["answers"]:
        return
    covered: set[str] = set()
    for (payload,) in conn.execute(
        "SELECT payload FROM audit_log WHERE action IN (?, ?)", ANSWER_ACTIONS
    ):
        covered.update(a[0] for a in json.loads(payload).get("answers") or [])
    for answer_id, item_id in conn.execute("SELECT id, item_id FROM answers ORDER BY rowid"):
        if answer_id not in covered:
            raise _Bad(f"answer {answer_id} ({item_id}) has no audit entry")
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
    present = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    for name in schema.TRIGGERS:
        if not choices and name.startswith("session_choices_"):
            continue
        if name not in present:
            raise _Bad(f"protective trigger {name} is missing")


# A choice row and the audit entry that recorded it, side by side.
_CHOICES = (
    "SELECT c.id, c.visit_id, c.session_id, c.chosen_at, c.chosen_by, c.device_id, c.reason, "
    "s.visit_id, l.id, l.device_id, l.seq, l.actor, l.payload "
    "FROM session_choices c LEFT JOIN sessions s ON s.id = c.session_id "
    "LEFT JOIN audit_log l ON l.action = ? AND l.entity_id = c.id ORDER BY c.rowid"
)


def _choices(conn: sqlite3.Connection) -> None:
    """Check 5: each choice row against its session and its audit entry, and back."""
    seen: set[str] = set()
    for row in conn.execute(_CHOICES, [RESOLVED_ACTION]):
        choice, visit, session, at, by, device, reason, session_visit = row[:8]
        entry_id, entry_device, seq, actor, text = row[8:]
        name = f"session choice {choice}"
        if session_visit != visit:
            raise _Bad(f"{name}: session {session} is not a session of visit {visit}")
        if entry_id is None:
            raise _Bad(f"{name} has no audit entry")
        if choice in seen:
            raise _Bad(f"{name} is recorded by more than one audit entry")
        seen.add(choice)
        payload = json.loads(text)
        recorded = (
            entry_device,
            actor,
            payload.get("session_id"),
            payload.get("chosen_at"),
            payload.get("device_id"),
            payload.get("reason"),
        )
        if recorded != (device, by, session, at, device, reason):
            raise _Bad(f"{name} differs from what {_name(entry_device, seq, entry_id)} recorded")
    for entry_id, device, seq, choice in conn.execute(
        "SELECT id, device_id, seq, entity_id FROM audit_log WHERE action=? "
        "ORDER BY device_id, seq",
        [RESOLVED_ACTION],
    ):
        if choice not in seen:
            raise _Bad(
                f"session choice {choice} recorded by {_name(device, seq, entry_id)} is missing"
            )


_CURRENT_SCORES = (
    "SELECT session_id, id, instrument_id, method, scores FROM scores "
    "WHERE superseded_at IS NULL AND scoring_version=? ORDER BY session_id"
)
# Oldest first within a session, as `answers.current_rows` orders them (a later answer wins).
_ANSWERS_BY_SESSION = (
    "SELECT session_id, id, supersedes, instrument_id, item_id, value FROM answers "
    "ORDER BY session_id, given_at, rowid"
)


def _session_answers(
    conn: sqlite3.Connection,
) -> Iterator[tuple[str, list[tuple[str, str, float | None]]]]:
    """Each session's current answers as (instrument, item, value), oldest first, by session."""
    for session_id, group in itertools.groupby(conn.execute(_ANSWERS_BY_SESSION), key=_first):
        rows = list(group)
        superseded = {r[2] for r in rows if r[2] is not None}
        yield session_id, [(r[3], r[4], r[5]) for r in rows if r[1] not in superseded]


def _first(row: tuple[Any, ...]) -> str:
    return str(row[0])


def _scores(conn: sqlite3.Connection, stats: dict[str, int], min_sections: int) -> None:
    """Recompute every current score row from its session's current answers (check 6).

    Two cursors in session order, merged: the answers are read once, in one pass.
    """
    answers = _session_answers(conn)
    pending: tuple[str, list[tuple[str, str, float | None]]] = ("", [])
    score_rows = conn.execute(_CURRENT_SCORES, [scores.scoring_version()])
    for session_id, group in itertools.groupby(score_rows, key=_first):
        while pending[0] < session_id:
            pending = next(answers, (_AFTER_ALL, []))
        given = scores.scoring_input(pending[1] if pending[0] == session_id else [])
        computed: dict[str, dict[str, dict[str, float | None]]] = {}
        for _, score_id, instrument_id, method, text in group:
            if instrument_id not in computed:
                try:
                    computed[instrument_id] = scores.compute(
                        instrument_id, given.get(instrument_id, {}), min_sections=min_sections
                    )
                except ValueError:  # answers the scorer refuses: no stored score can match
                    computed[instrument_id] = {}
            expected = computed[instrument_id].get(method)
            if expected is None or (
                # the text storage wrote, else the same values written otherwise (an import)
                text != scores.dumps(expected)
                and json.loads(text) != json.loads(scores.dumps(expected))
            ):
                raise _Bad(_score_problem(conn, score_id, session_id, instrument_id, method))
            stats["scores"] += 1


_AFTER_ALL = "\U0010ffff"  # sorts after every session id


def _score_problem(
    conn: sqlite3.Connection, score_id: str, session_id: str, instrument_id: str, method: str
) -> str:
    found = conn.execute(
        "SELECT j.code, s.visit_code FROM sessions s JOIN subjects j ON j.id = s.subject_id "
        "WHERE s.id=?",
        [session_id],
    ).fetchone()
    where = f"subject {found[0]} visit {found[1]}, " if found else ""
    return (
        f"score {score_id} ({where}session {session_id}, instrument {instrument_id}, "
        f"method {method}) does not match its session's current answers"
    )
