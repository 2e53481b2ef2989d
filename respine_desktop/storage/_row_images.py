"""Row images: every change to a state table travels in the audit entry of its transaction.

A writable connection gets TEMP triggers (never stored in the file) that note the key of every
row inserted, updated or deleted in the tracked tables (`TRACKED`) in ``temp.audit_touched``
(SQLite deletes every TEMP object when the connection's ``temp_store`` changes: each write
transaction puts them back first, `_database.transaction`).
The next `audit.append` of the transaction takes them (`drain`): it reads each noted row as it
now is and puts its image in the entry's payload under ``rows_after``::

    "rows_after": {"<table>": {"columns": [key, col, ...], "values": [[...], ...],
                               "deleted": [key, ...]}}

The first column is the table's key (``settings.key``, ``sites.code``, else ``id``). Columns
that are operational rather than evidence are left out, all of them listed in `EXCLUDED`; a
secret setting (`SECRET_SETTINGS`) and a staff account's PIN hash (`DIGESTED`) travel as
``sha256:<hex>`` of their value, so an edit shows while the value never leaves the file (the
chain travels in bundles; the salt is inside the hash, so its digest gives nothing to attack
a PIN with). A transaction that
changed rows without appending an entry gets one (``rows.changed``) before it commits
(`_database.transaction`), so no change to a tracked table is ever committed unaudited by this
application. `verify` replays the images in chain order and compares them with the tables.

``answers`` (covered by the digest of their entries) and ``audit_log`` (the chain) are not
tracked here. Every code path is covered alike (the API, a bundle merge, a migration written
later), because the triggers see the SQL, not the functions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import sqlite3

# table -> its key column, in the order images are written
TRACKED: Mapping[str, str] = {
    "settings": "key",
    "sites": "code",
    "devices": "id",
    "staff": "id",
    "subjects": "id",
    "visits": "id",
    "sessions": "id",
    "session_choices": "id",
    "scores": "id",
    # append-only evidence of later migrations (0005, 0010, 0011): a row slipped in is named too
    "vas_calibrations": "id",
    "withdrawals": "id",
    "signatures": "id",
}
# Columns that are not evidence, hence neither imaged nor compared (the ONE list of them).
EXCLUDED: Mapping[str, frozenset[str]] = {
    # each chain's head: `verify` checks it against the chain itself
    "devices": frozenset({"audit_seq", "audit_head"}),
    # login machinery: the failure counter and lock (written at every wrong PIN)
    "staff": frozenset({"failed_attempts", "locked_until"}),
    # kept by a trigger from the visits rows (the worklist's index)
    "subjects": frozenset({"visits_started"}),
    # the visit's current session, derived from the sessions and choices (`chosen_session`)
    "visits": frozenset({"session_id"}),
    # where the patient is in the questionnaire (resume aid), written at every page turn
    "sessions": frozenset({"position"}),
}
SECRET_SETTINGS: frozenset[str] = frozenset({"site_key"})
# Evidence columns imaged as their digest (`secret_digest`): the PIN hash is evidence (a hash
# swapped for a known PIN's lets someone sign in as that account), its value is not for the
# chain. Every write of it is audited (staff.created, pin_changed, pin_reset, pin_rehashed).
DIGESTED: Mapping[str, frozenset[str]] = {"staff": frozenset({"pin_hash"})}
PAYLOAD_KEY = "rows_after"
_TOUCHED = "audit_touched"
_CHUNK = 400
# Rows per entry at most: a merge of thousands of rows spreads its images over several
# ``rows.changed`` entries (each bundle line stays small), the last ones in its own entry.
ROWS_PER_ENTRY = 2000


def secret_digest(value: object) -> str:
    """What a secret setting's image holds instead of its value."""
    import hashlib  # (not at start-up: opening a database never needs it)

    return "sha256:" + hashlib.sha256(str(value).encode("utf-8")).hexdigest()


def evidence_columns(conn: sqlite3.Connection, table: str) -> tuple[str, ...]:
    """The key column then the other evidence columns of `table` (empty if it does not exist)."""
    key = TRACKED[table]
    names = [str(r[1]) for r in conn.execute(f"PRAGMA main.table_info({table})")]
    if key not in names:
        return ()
    skip = EXCLUDED.get(table, frozenset())
    return (key, *(n for n in names if n != key and n not in skip))


def install(conn: sqlite3.Connection) -> None:
    """Create the temporary tracking table and triggers on `conn` (a writable connection)."""
    conn.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {_TOUCHED} "
        "(tbl TEXT NOT NULL, key TEXT NOT NULL, PRIMARY KEY (tbl, key)) WITHOUT ROWID"
    )
    for table, key in TRACKED.items():
        columns = evidence_columns(conn, table)
        if not columns:
            continue

        def note(row: str, table: str = table, key: str = key) -> str:
            # not INSERT OR IGNORE: an upsert's own conflict clause would override it
            return (
                f"INSERT INTO {_TOUCHED} (tbl, key) SELECT '{table}', {row}.{key} WHERE NOT "
                f"EXISTS (SELECT 1 FROM {_TOUCHED} WHERE tbl='{table}' AND key={row}.{key});"
            )

        triggers = {
            "i": f"AFTER INSERT ON main.{table} BEGIN {note('NEW')} END",
            "u": (
                f"AFTER UPDATE OF {', '.join(columns)} ON main.{table} "
                f"BEGIN {note('NEW')} {note('OLD')} END"
            ),
            "d": f"AFTER DELETE ON main.{table} BEGIN {note('OLD')} END",
        }
        for suffix, body in triggers.items():
            conn.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS {_TOUCHED}_{table}_{suffix} {body}")


def installed(conn: sqlite3.Connection) -> bool:
    return (
        conn.execute(
            "SELECT 1 FROM sqlite_temp_master WHERE type='table' AND name=?", [_TOUCHED]
        ).fetchone()
        is not None
    )


def pending(conn: sqlite3.Connection, more_than: int = 0) -> bool:
    """Whether more than `more_than` rows changed since the last `drain` (False without
    tracking)."""
    if not installed(conn):
        return False
    sql = f"SELECT 1 FROM temp.{_TOUCHED} LIMIT 1 OFFSET ?"
    return conn.execute(sql, [more_than]).fetchone() is not None


def image_values(table: str, values: Sequence[Any], columns: Sequence[str]) -> list[Any]:
    """A row's image values, its `columns` (a secret setting's value and the `DIGESTED`
    columns replaced by their digest)."""
    out = list(values)
    if table == "settings" and out[0] in SECRET_SETTINGS:
        out[1] = secret_digest(out[1])
    for name in DIGESTED.get(table, ()):
        if name in columns:
            where = columns.index(name)
            out[where] = secret_digest(out[where])
    return out


def drain(conn: sqlite3.Connection, limit: int = -1) -> dict[str, dict[str, Any]] | None:
    """The images of the rows noted since the last call (then forgotten), or None.

    With `limit`, at most that many rows (the rest stay noted for the next call).
    """
    if not installed(conn):
        return None
    noted: dict[str, list[str]] = {}
    picked = conn.execute(
        f"SELECT tbl, key FROM temp.{_TOUCHED} ORDER BY tbl, key LIMIT ?", [limit]
    ).fetchall()
    for row in picked:
        noted.setdefault(str(row[0]), []).append(str(row[1]))
    if not noted:
        return None
    if limit < 0:
        conn.execute(f"DELETE FROM temp.{_TOUCHED}")
    else:
        conn.executemany(
            f"DELETE FROM temp.{_TOUCHED} WHERE tbl=? AND key=?", [tuple(r) for r in picked]
        )
    images: dict[str, dict[str, Any]] = {}
    for table in TRACKED:
        keys = noted.get(table)
        if not keys:
            continue
        columns = evidence_columns(conn, table)
        found: dict[str, list[Any]] = {}
        for start in range(0, len(keys), _CHUNK):
            chunk = keys[start : start + _CHUNK]
            sql = (
                f"SELECT {', '.join(columns)} FROM main.{table} "
                f"WHERE {columns[0]} IN ({', '.join('?' * len(chunk))})"
            )
            for row in conn.execute(sql, chunk):
                found[str(row[0])] = image_values(table, tuple(row), columns)
        image: dict[str, Any] = {
            "columns": list(columns),
            "values": [found[k] for k in keys if k in found],
        }
        deleted = [k for k in keys if k not in found]
        if deleted:
            image["deleted"] = deleted
        images[table] = image
    return images
