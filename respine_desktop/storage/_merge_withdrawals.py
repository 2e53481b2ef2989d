"""Withdrawals in site bundles: an optional member carried from kiosk to hub, append-only there.

A kiosk's bundle carries every ``withdrawals`` row (few, and never changed: the table is
append-only). A bundle without the member (written before withdrawals existed) carries none.
On the hub, each row is validated by the kiosk's own field rules (`_validation`, table
``withdrawals``), then:

* the same id with the same content: unchanged (a bundle imported twice changes nothing);
* the same id with other content: refused (an append-only row cannot be rewritten);
* a subject the hub does not know: refused (the bundle refers to records the hub lacks);
* a subject other than the one its ``subject.withdrawn`` entry names (when that entry names a
  subject here: a relay's entry of a kiosk whose subject was matched by code names none):
  refused (`check_withdrawal_entries`);
* a day before the subject's day 0: refused (the kiosk refuses it too);
* a subject the hub already has a withdrawal for (another id: two kiosks each recorded one):
  when day and reason are the same, unchanged; otherwise the hub's copy is kept and the
  difference flagged as a ``bundle.mismatch`` for review, never overwritten;
* otherwise inserted, attached to the hub's subject (a subject matched by code).

After the audit entries are merged, every new withdrawal must be recorded by exactly one
``subject.withdrawn`` entry and match it (device, actor, day and reason), so a row forged without
its entry, with other content than its entry, or recorded again by a second entry of other
content, refuses the bundle (`check_withdrawal_entries`). The other
way round, a new ``subject.withdrawn`` entry that says ``in_bundles`` (`_withdrawal.IN_BUNDLES`:
the bundles of the version that wrote it carry the row, a relay's too) must have its row here
after the merge, or its subject a withdrawal: a bundle that left it out (the member removed, or
the row) is refused, as `verify` would name the row missing (`check_withdrawals_carried`).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NamedTuple, Protocol

from respine_desktop import json_text
from respine_desktop.storage._audit import recording_entries
from respine_desktop.storage._database import StudyDb, plain_rows
from respine_desktop.storage._errors import StorageError
from respine_desktop.storage._schema import ENTITY_ACTIONS_SQL
from respine_desktop.storage._withdrawal import IN_BUNDLES
from respine_desktop.storage.stored_values import payloads_read

WITHDRAWALS = "withdrawals"
WITHDRAWN_ACTION = "subject.withdrawn"


class WithdrawalLine(NamedTuple):
    """A ``withdrawals`` row of a bundle."""

    id: str
    subject_id: str
    withdrawn_on: str
    reason: str
    recorded_at: str
    recorded_by: str
    device_id: str


COLUMNS: tuple[str, ...] = WithdrawalLine._fields


class _Merge(Protocol):
    """What this module needs of `bundle_merge`'s merge in progress."""

    db: StudyDb
    conn: sqlite3.Connection
    subject_map: dict[str, str]
    new_withdrawals: list[WithdrawalLine]
    mismatch_entries: list[tuple[str, str, str, dict[str, Any]]]  # flags of this merge, pending

    def refuse_change(self, table: str, row_id: object, column: str | None, what: str) -> None: ...

    def flag_mismatch(self, table: str, subject_id: str, key: str, text: str) -> None: ...


def has_table(conn: sqlite3.Connection) -> bool:
    found = conn.execute(
        "SELECT 1 AS x FROM sqlite_master WHERE type='table' AND name='withdrawals'"
    ).fetchone()
    return found is not None


def merge_withdrawals(
    merge: _Merge,
    rows: Iterable[WithdrawalLine],
    refused: Callable[[str], StorageError],
    inserted: dict[str, int],
) -> None:
    """Merge the bundle's withdrawal rows, already validated (see the module docstring)."""
    conn = merge.conn
    for row in rows:
        found = plain_rows(
            conn, f"SELECT {', '.join(COLUMNS)} FROM withdrawals WHERE id=?", [row.id]
        ).fetchone()
        if found is not None:
            hub = WithdrawalLine(*found)
            same_subject = merge.subject_map.get(row.subject_id, row.subject_id)
            mine = row._replace(subject_id=same_subject)
            for column, a, b in zip(COLUMNS, hub, mine, strict=True):
                if a != b:
                    merge.refuse_change(
                        WITHDRAWALS, row.id, column, "an existing record cannot be rewritten"
                    )
            continue
        subject_id = merge.subject_map.get(row.subject_id, row.subject_id)
        subject = conn.execute(
            "SELECT code, day0 FROM subjects WHERE id=?", [subject_id]
        ).fetchone()
        if subject is None:
            raise refused(
                f"bundle withdrawals row {row.id}: subject {row.subject_id} is not in the "
                "bundle nor on this database"
            )
        if row.withdrawn_on < subject["day0"]:
            raise refused(
                f"bundle withdrawals row {row.id}, field withdrawn_on: {row.withdrawn_on} is "
                f"before the subject's day 0 ({subject['day0']})"
            )
        hub_row = conn.execute(
            "SELECT id, withdrawn_on, reason FROM withdrawals WHERE subject_id=?", [subject_id]
        ).fetchone()
        if hub_row is not None:
            if (hub_row["withdrawn_on"], hub_row["reason"]) != (row.withdrawn_on, row.reason):
                merge.flag_mismatch(
                    WITHDRAWALS,
                    subject_id,
                    str(subject["code"]),
                    f"subject {subject['code']}: withdrawal: hub {hub_row['withdrawn_on']} "
                    f"({hub_row['reason']}), bundle {row.withdrawn_on} ({row.reason})",
                )
            continue
        conn.execute(
            f"INSERT INTO withdrawals ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * 7)})",
            list(row._replace(subject_id=subject_id)),
        )
        merge.new_withdrawals.append(row)
        inserted[WITHDRAWALS] += 1


def check_withdrawal_entries(merge: _Merge, refused: Callable[[str], StorageError]) -> None:
    """Every new withdrawal is recorded by exactly one ``subject.withdrawn`` audit entry, which
    it matches (the first entry found matching would let a second one record it otherwise)."""
    for w in merge.new_withdrawals:
        found = recording_entries(merge.conn, WITHDRAWN_ACTION, w.id)
        if not found:
            raise refused(f"withdrawal {w.id} has no audit entry in the bundle")
        if len(found) > 1:
            raise refused(f"withdrawal {w.id} is recorded by more than one audit entry")
        entry = found[0]
        try:
            p = json_text.loads(entry["payload"])
        except json.JSONDecodeError:  # pragma: no cover - the validators refused it
            raise refused(f"withdrawal {w.id}: its audit entry is damaged") from None
        recorded = (entry["device_id"], entry["actor"], p.get("withdrawn_on"), p.get("reason"))
        if recorded != (w.device_id, w.recorded_by, w.withdrawn_on, w.reason):
            raise refused(f"withdrawal {w.id} differs from its audit entry")
        named = _subject_here(merge, entry["subject_id"])
        if named is not None and named != merge.subject_map.get(w.subject_id, w.subject_id):
            raise refused(
                f"bundle withdrawals row {w.id}, field subject_id: subject {w.subject_id}, but "
                f"its audit entry records the withdrawal of subject {entry['subject_id']}"
            )


def _subject_here(merge: _Merge, subject_id: str | None) -> str | None:
    """The subject `subject_id` names on this database once the bundle's subjects are merged
    (matched by code: the hub's id), or None when it names none here (an entry a relay brings
    of a kiosk whose subject another database matched by code: its id is known nowhere here,
    so not compared)."""
    mapped = merge.subject_map.get(str(subject_id), subject_id)
    found = merge.conn.execute("SELECT id FROM subjects WHERE id=?", [mapped]).fetchone()
    return None if found is None else str(found[0])


class SubjectWithdrawal(NamedTuple):
    """A subject's withdrawal held here, with the subject's code."""

    id: str
    withdrawn_on: str
    reason: str
    code: str


def withdrawal_of(conn: sqlite3.Connection, subject_id: str | None) -> SubjectWithdrawal | None:
    """The withdrawal of subject `subject_id` here (one per subject), or None."""
    found = conn.execute(
        "SELECT w.id, w.withdrawn_on, w.reason, s.code FROM withdrawals w "
        "JOIN subjects s ON s.id=w.subject_id WHERE w.subject_id=?",
        [subject_id],
    ).fetchone()
    return None if found is None else SubjectWithdrawal(*found)


def agrees(here: SubjectWithdrawal, recorded: Mapping[str, Any]) -> bool:
    """Whether a withdrawal as an entry or image records it (`recorded`: its columns; one it
    lacks reads as None) has the day and reason of the one here."""
    return (here.withdrawn_on, here.reason) == (
        recorded.get("withdrawn_on"),
        recorded.get("reason"),
    )


class _Entry(Protocol):
    """What `check_withdrawals_carried` reads of a bundle's audit entry (`AuditLine`)."""

    @property
    def device_id(self) -> str: ...
    @property
    def seq(self) -> int: ...
    @property
    def action(self) -> str: ...
    @property
    def subject_id(self) -> str | None: ...
    @property
    def entity_id(self) -> str | None: ...
    @property
    def payload(self) -> str: ...


def check_withdrawals_carried(
    merge: _Merge, entries: Iterable[_Entry], refused: Callable[[str], StorageError]
) -> None:
    """No new ``subject.withdrawn`` entry records a withdrawal another entry records (a new
    withdrawal's entries are counted by `check_withdrawal_entries`), and every one saying
    ``in_bundles`` has its row here once the bundle is merged, or its subject a withdrawal of
    the same day and reason, or another whose difference is flagged (by this merge or a
    ``bundle.mismatch`` entry of any chain): what `verify` asks (check 9, and its device
    replay: `_replay_devices`, the withdrawals rule)."""
    new = {w.id for w in merge.new_withdrawals}  # each counted by `check_withdrawal_entries`
    for e in entries:
        if e.action != WITHDRAWN_ACTION:
            continue
        if e.entity_id not in new and len(recording_entries(merge.conn, e.action, e.entity_id)) > 1:
            raise refused(  # a withdrawal the hub had: the bundle's entry records it again
                f"audit entry #{e.seq} of device {e.device_id} records withdrawal "
                f"{e.entity_id}, which another audit entry records already"
            )
        # read as verify reads it (parsed: a key spelt with an escape is the same key), never
        # by its spelling in the text
        said = json_text.loads(e.payload)
        if said.get(IN_BUNDLES) is not True:
            continue
        if merge.conn.execute("SELECT 1 FROM withdrawals WHERE id=?", [e.entity_id]).fetchone():
            continue
        subject = merge.subject_map.get(str(e.subject_id), e.subject_id)
        here = withdrawal_of(merge.conn, subject)
        if here is not None:
            if agrees(here, said):
                continue
            if _flagged(merge, str(here.code)):
                continue  # the hub's kept, the difference flagged
            raise refused(
                f"audit entry #{e.seq} of device {e.device_id} records withdrawal "
                f"{e.entity_id}, which the bundle does not carry, and subject {here.code}'s "
                "withdrawal here differs from it, unflagged"
            )
        raise refused(
            f"audit entry #{e.seq} of device {e.device_id} records withdrawal {e.entity_id}, "
            "which the bundle does not carry (the version that wrote the entry puts every "
            "withdrawal in its bundles)"
        )


def _flagged(merge: _Merge, code: str) -> bool:
    """Whether the withdrawal of subject `code` is flagged: by this merge, or by a
    ``bundle.mismatch`` entry of any chain (a relay's, brought by this bundle or before)."""
    if any(t == WITHDRAWALS and p.get("record") == code for _, _, t, p in merge.mismatch_entries):
        return True
    with payloads_read(merge.conn):
        found = merge.conn.execute(
            f"SELECT 1 FROM audit_log WHERE {ENTITY_ACTIONS_SQL} AND action='bundle.mismatch' "
            "AND json_extract(payload, '$.table')=? AND json_extract(payload, '$.record')=?",
            [WITHDRAWALS, code],
        ).fetchone()
    return found is not None


__all__ = [
    "COLUMNS",
    "WITHDRAWALS",
    "SubjectWithdrawal",
    "WithdrawalLine",
    "agrees",
    "check_withdrawal_entries",
    "check_withdrawals_carried",
    "has_table",
    "merge_withdrawals",
    "withdrawal_of",
]
