"""The audit log: append-only, one SHA-256 hash chain per device, recomputed by `verify`.

Chain design (chosen so that the databases of several kiosks can merge into a hub):

* Every entry belongs to the chain of the device that wrote it: ``(device_id, seq)`` is unique
  and ``seq`` counts 1, 2, 3 ... per device. An imported entry keeps its device id, seq and
  hashes, so each kiosk's chain stays verifiable inside the hub beside the hub's own chain.
* ``hash = sha256(prev_hash + canonical)`` in hex, where ``canonical`` is the compact JSON array
  ``[id, device_id, seq, at, actor, action, subject_id, entity, entity_id, payload]`` (UTF-8,
  ``ensure_ascii=False``, separators ``,`` and ``:``) and ``payload`` is the stored JSON text.
  The first entry of a chain has ``prev_hash = GENESIS`` (64 zeros).
* ``devices.audit_seq`` / ``devices.audit_head`` hold each chain's last seq and hash, updated in
  the same transaction as the append, so that deleting the newest entries is detected too.
* Triggers reject UPDATE and DELETE on ``audit_log`` (and on ``answers``).
* Every entry carries, under ``rows_after``, the images of the rows its transaction changed in
  the state tables (`row_images`), which `verify` replays in chain order.
* Order is the chain's order (seq, and ``rowid`` across chains), never the clock: when the clock
  reads earlier than this device's previous entry, a ``clock.backwards`` entry records both
  times (once per jump) and work goes on; entries still get strictly increasing seqs.
* Answer entries (``answer.recorded``, ``answer.corrected``) list the answer rows they record
  (id, item, value) and a digest of their full content (`answers.digest`), which ties the
  append-only ``answers`` table to the chain: `verify` recomputes the digests and checks that
  every answer row is listed once.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Mapping
from typing import Any

from respine_desktop import clock
from respine_desktop.storage import _row_images as row_images
from respine_desktop.storage._database import StudyDb, new_id, transaction
from respine_desktop.storage._errors import UnknownSubject
from respine_desktop.storage._records import AuditEntry
from respine_desktop.storage._schema import ENTITY_ACTIONS, ENTITY_ACTIONS_SQL
from respine_desktop.storage.stored_values import stored_payload, subject_map

GENESIS = "0" * 64
# The action of a bundle import's entry (written by `bundle_merge`, read here for subject aliases).
BUNDLE_IMPORTED = "bundle.imported"
CLOCK_BACKWARDS = "clock.backwards"
COLUMNS = (
    "id, device_id, seq, at, actor, action, subject_id, entity, entity_id, payload, prev_hash, hash"
)


_PAYLOAD = json.JSONEncoder(
    sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
)
_CANONICAL = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def dumps(payload: Mapping[str, Any]) -> str:
    """The canonical JSON text of a payload (sorted keys, compact, no NaN)."""
    return _PAYLOAD.encode(payload)


def entry_hash(
    prev_hash: str,
    entry_id: str,
    device_id: str,
    seq: int,
    at: str,
    actor: str | None,
    action: str,
    subject_id: str | None,
    entity: str,
    entity_id: str | None,
    payload: str,
) -> str:
    """The hash of one entry given the previous entry's hash (see the module docstring)."""
    canonical = _CANONICAL.encode(
        [entry_id, device_id, seq, at, actor, action, subject_id, entity, entity_id, payload]
    )
    return hashlib.sha256((prev_hash + canonical).encode("utf-8")).hexdigest()


def append(
    db: StudyDb,
    *,
    action: str,
    entity: str,
    entity_id: str | None = None,
    subject_id: str | None = None,
    actor: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> str:
    """Append one entry to this device's chain; must run inside the change's transaction.

    `actor` is a staff id, or None for the patient / the system. Returns the entry id.
    """
    conn = db.conn
    if not conn.in_transaction:
        raise RuntimeError("audit.append must run inside the transaction of the change")
    at = clock.now_iso()
    last = conn.execute(
        "SELECT at FROM audit_log WHERE device_id=? ORDER BY seq DESC LIMIT 1", [db.device_id]
    ).fetchone()
    if last is not None and at < str(last["at"]):
        _insert(
            db,
            CLOCK_BACKWARDS,
            "device",
            db.device_id,
            None,
            None,
            at,
            {"previous_at": str(last["at"]), "now": at},
        )
    while row_images.pending(conn, more_than=row_images.ROWS_PER_ENTRY):
        chunk = row_images.drain(conn, row_images.ROWS_PER_ENTRY)
        _insert(db, "rows.changed", "database", None, None, actor, at,
                {row_images.PAYLOAD_KEY: chunk})  # fmt: skip
    body = dict(payload or {})
    images = row_images.drain(conn)
    if images:
        body[row_images.PAYLOAD_KEY] = images
    return _insert(db, action, entity, entity_id, subject_id, actor, at, body)


def append_pending(db: StudyDb) -> str | None:
    """A ``rows.changed`` entry for rows changed since the last entry (the commit's safety net).

    A file without its own device row (a hand-made old file) cannot have a chain: the noted rows
    are dropped. Returns the entry id, or None.
    """
    if db.conn.execute("SELECT 1 FROM devices WHERE id=?", [db.device_id]).fetchone() is None:
        row_images.drain(db.conn)
        return None
    return append(db, action="rows.changed", entity="database")


def _insert(
    db: StudyDb,
    action: str,
    entity: str,
    entity_id: str | None,
    subject_id: str | None,
    actor: str | None,
    at: str,
    payload: Mapping[str, Any],
) -> str:
    conn = db.conn
    row = conn.execute(
        "SELECT audit_seq, audit_head FROM devices WHERE id=?", [db.device_id]
    ).fetchone()
    seq, prev = int(row["audit_seq"]) + 1, str(row["audit_head"])
    entry_id = new_id()
    text = dumps(payload)
    digest = entry_hash(
        prev, entry_id, db.device_id, seq, at, actor, action, subject_id, entity, entity_id, text
    )
    conn.execute(
        f"INSERT INTO audit_log ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            entry_id,
            db.device_id,
            seq,
            at,
            actor,
            action,
            subject_id,
            entity,
            entity_id,
            text,
            prev,
            digest,
        ],
    )
    conn.execute(
        "UPDATE devices SET audit_seq=?, audit_head=? WHERE id=?", [seq, digest, db.device_id]
    )
    return entry_id


def recording_entries(conn: sqlite3.Connection, action: str, entity_id: str | None) -> list[Any]:
    """The entries of `action` that record `entity_id` (id, device_id, actor, subject_id,
    payload), at most two:
    none, the one, or more than one. Through the partial index of the actions looked up so
    (`_schema.ENTITY_ACTIONS`, migration 0014): another action is refused, since its entries
    are not in the index's condition and would never be found."""
    if action not in ENTITY_ACTIONS:
        raise ValueError(f"{action!r} is not looked up by entity (_schema.ENTITY_ACTIONS)")
    return conn.execute(
        f"SELECT id, device_id, actor, subject_id, payload FROM audit_log WHERE "
        f"{ENTITY_ACTIONS_SQL} "
        "AND action=? AND entity_id=? LIMIT 2",
        [action, entity_id],
    ).fetchall()


def _entry(row: sqlite3.Row) -> AuditEntry:
    return AuditEntry(
        id=row["id"],
        device_id=row["device_id"],
        seq=row["seq"],
        at=row["at"],
        actor=row["actor"],
        action=row["action"],
        subject_id=row["subject_id"],
        entity=row["entity"],
        entity_id=row["entity_id"],
        payload=stored_payload(row["id"], row["payload"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def audit_entries(
    db: StudyDb,
    *,
    subject_code: str | None = None,
    action: str | None = None,
    limit: int | None = None,
) -> list[AuditEntry]:
    """Audit entries in the order written (chain order, not clock order): all of them, or those
    of one subject and/or one action."""
    where: list[str] = []
    params: list[Any] = []
    if subject_code is not None:
        row = db.conn.execute("SELECT id FROM subjects WHERE code=?", [subject_code]).fetchone()
        if row is None:
            raise UnknownSubject(f"unknown subject {subject_code!r}")
        ids = [row["id"], *_subject_aliases(db, row["id"])]
        where.append(f"subject_id IN ({', '.join('?' * len(ids))})")
        params.extend(ids)
    if action is not None:
        where.append("action=?")
        params.append(action)
    sql = f"SELECT {COLUMNS} FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY rowid"  # the order entries were written in, never the clock
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return [_entry(r) for r in db.conn.execute(sql, params)]


def _subject_aliases(db: StudyDb, subject_id: str) -> list[str]:
    """Other devices' ids of this subject, recorded when a bundle import matched it by code."""
    aliases: list[str] = []
    for row in db.conn.execute(
        "SELECT id, payload FROM audit_log WHERE action=? AND payload LIKE '%\"subject_map\"%'",
        [BUNDLE_IMPORTED],
    ):
        mapping = subject_map(row["id"], row["payload"])
        aliases += [kiosk for kiosk, hub in mapping.items() if hub == subject_id]
    return aliases


def log_event(
    db: StudyDb,
    action: str,
    *,
    entity: str,
    entity_id: str | None = None,
    subject_id: str | None = None,
    actor: str | None = None,
    payload: Mapping[str, Any] | None = None,
) -> str:
    """Append an application event (e.g. an intercepted Escape) in a transaction of its own.

    For events that change no record; a change writes its entry with `append` inside its own
    transaction. Returns the entry id.
    """
    with transaction(db):
        return append(
            db,
            action=action,
            entity=entity,
            entity_id=entity_id,
            subject_id=subject_id,
            actor=actor,
            payload=payload,
        )
