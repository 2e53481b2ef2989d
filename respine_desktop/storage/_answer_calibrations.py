"""Which VAS calibration an answer may name: one its own device recorded.

A VAS answer drawn on a line stores the id of the calibration in force on the device that drew
it (`_calibrations`: staff measured that device's line with a ruler), or ``uncalibrated``. The
calibration rows stay on their device (a bundle does not carry them), but each is recorded by a
``vas.calibrated`` entry of that device's audit chain, which every bundle carries to the hub: so
an answer's calibration is an entry of the chain of the answer's own device, on the kiosk as on
the hub. An answer naming a calibration no entry records, or one of another device, would
show a monitor a measurement of the line that was never made, or made on another screen.

The merge refuses a bundle whose new answer does so (`check_new_answers`: the bundle's own
entries first, the hub's only for an id they lack, as for a bundle cut with ``--since``), and
`verify` names the first such answer of the file (`first_unrecorded`), and the first entry
recording a calibration wrongly (`first_bad_entry`: what the merge refuses of a new entry,
`check_new_entries`, in a file that merged it before the merge did).
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from itertools import compress
from operator import attrgetter
from typing import Any

from respine_desktop.storage._calibrations import CALIBRATED, UNCALIBRATED, from_entry
from respine_desktop.storage._driver import sqlite3
from respine_desktop.storage._errors import InvalidInput
from respine_desktop.storage._schema import CALIBRATION_ENTRIES_SQL

__all__ = ["check_new_answers", "check_new_entries", "first_bad_entry", "first_unrecorded"]

_CALIBRATION = attrgetter("vas_calibration")

# (through 0015's index of those entries, when the file has it)
_RECORDED = (
    f"SELECT entity_id, device_id FROM audit_log WHERE {CALIBRATION_ENTRIES_SQL} "
    "AND entity_id IN (SELECT value FROM json_each(?))"
)


def _recorded(conn: sqlite3.Connection, ids: Collection[str]) -> dict[str, set[str]]:
    """The devices whose ``vas.calibrated`` entries record each of `ids` (those the file has:
    one device each, unless a file merged a forged entry before the merge refused them)."""
    recorded: dict[str, set[str]] = {}
    for r in conn.execute(_RECORDED, [json.dumps(sorted(ids))]):
        recorded.setdefault(str(r[0]), set()).add(str(r[1]))
    return recorded


def _problem(calibration: str, device: str, recorded: Mapping[str, set[str]]) -> str | None:
    by = recorded.get(calibration)
    if not by:
        return f"names calibration {calibration}, which no {CALIBRATED} audit entry records"
    if device not in by:
        return (
            f"names calibration {calibration}, a calibration of device {' '.join(sorted(by))}, "
            f"not of the device that drew the line ({device})"
        )
    return None


def check_new_entries(conn: sqlite3.Connection, entries: Iterable[Any]) -> None:
    """InvalidInput naming the first of `entries` (a bundle's audit rows new to the hub, with
    id, action, entity_id, device_id, payload) that records a calibration wrongly: its payload
    not the calibration's row of its own device (`from_entry`: the hub reads the calibration
    from there), or an id another entry records already (the hub's or the bundle's: a
    calibration is recorded once, by its device; a second entry, of another device or payload,
    would make the hub read another calibration for the answers naming it)."""
    found = [e for e in entries if e.action == CALIBRATED]
    if not found:
        return
    ids = [e.entity_id for e in found if isinstance(e.entity_id, str)]
    hub = _recorded(conn, ids) if ids else {}
    seen: set[object] = set(hub)
    for e in found:
        where = f"audit_log row {e.id}, field "
        fault = _entry_fault(e.entity_id, e.device_id, e.payload, seen)
        if fault == "twice":
            raise InvalidInput(
                f"{where}entity_id: {e.entity_id!r}: a {CALIBRATED} entry recording a "
                "calibration another entry records already"
            )
        if fault == "payload":
            raise InvalidInput(
                f"{where}payload: a {CALIBRATED} entry whose payload is not the row of a "
                f"calibration of its own device ({e.device_id})"
            )


def _entry_fault(calibration: object, device: str, payload: str, seen: set[object]) -> str | None:
    """What is wrong with a ``vas.calibrated`` entry of `device` recording `calibration`:
    "twice" when `seen` (the calibrations recorded before it) has it, "payload" when its
    payload is not the row of a calibration of its own device (`from_entry`); else None, and
    the calibration is added to `seen`."""
    if not isinstance(calibration, str) or calibration in seen:
        return "twice"
    if from_entry(calibration, device, payload) is None:
        return "payload"
    seen.add(calibration)
    return None


def check_new_answers(
    conn: sqlite3.Connection, answers: Sequence[Any], entries: Iterable[Any]
) -> None:
    """InvalidInput naming the first of `answers` (a bundle's new rows, `Answer`) whose
    calibration is not one its device recorded: in `entries` (the bundle's audit rows, with
    action, entity_id, device_id) or else in the hub (`conn`)."""
    named = set(map(_CALIBRATION, answers))
    named.difference_update((None, UNCALIBRATED))
    if not named:
        return
    recorded: dict[str, set[str]] = {}
    for e in entries:
        if e.action == CALIBRATED:
            recorded.setdefault(e.entity_id, set()).add(e.device_id)
    missing = named - recorded.keys()
    if missing:
        recorded.update(_recorded(conn, missing))
    for answer in compress(answers, map(named.__contains__, map(_CALIBRATION, answers))):
        problem = _problem(answer.vas_calibration, answer.device_id, recorded)
        if problem is not None:
            raise InvalidInput(f"answers row {answer.id}, field vas_calibration: {problem}")


_NAMED = (
    "SELECT DISTINCT vas_calibration, device_id FROM answers "
    "WHERE vas_calibration IS NOT NULL AND vas_calibration <> ?"
)
_FIRST = (
    "SELECT id FROM answers WHERE vas_calibration = ? AND device_id IS ? ORDER BY rowid LIMIT 1"
)


def first_unrecorded(conn: sqlite3.Connection) -> tuple[str, str] | None:
    """The first answer of the file (by rowid) whose calibration is not one its device
    recorded, with the problem in words; None if there is none (or the file predates
    calibrations). One pass over the answers for their distinct (calibration, device)."""
    if "vas_calibration" not in {r[1] for r in conn.execute("PRAGMA table_info(answers)")}:
        return None
    pairs = conn.execute(_NAMED, [UNCALIBRATED]).fetchall()
    if not pairs:
        return None
    recorded = _recorded(conn, {str(p[0]) for p in pairs})
    found: list[tuple[str, str]] = []
    for calibration, device in pairs:
        problem = _problem(str(calibration), str(device), recorded)
        if problem is not None:
            (answer_id,) = conn.execute(_FIRST, [calibration, device]).fetchone()
            found.append((str(answer_id), problem))
    if not found:
        return None
    first = conn.execute(
        "SELECT id FROM answers WHERE id IN (SELECT value FROM json_each(?)) "
        "ORDER BY rowid LIMIT 1",
        [json.dumps([f[0] for f in found])],
    ).fetchone()[0]
    return next(f for f in found if f[0] == first)


_ENTRIES = (
    "SELECT id, device_id, seq, entity_id, payload FROM audit_log "
    f"WHERE {CALIBRATION_ENTRIES_SQL} ORDER BY rowid"
)


def first_bad_entry(conn: sqlite3.Connection) -> tuple[tuple[str, int, str], str] | None:
    """The first ``vas.calibrated`` entry of the file (by rowid) that records a calibration
    wrongly, as (device, seq, id) with the problem in words: an id an earlier entry records,
    or a payload that is not the row of a calibration of the entry's own device
    (`from_entry`); None if there is none."""
    seen: set[object] = set()
    for entry_id, device, seq, calibration, payload in conn.execute(_ENTRIES):
        where = (str(device), int(seq), str(entry_id))
        fault = _entry_fault(calibration, str(device), str(payload), seen)
        if fault == "twice":
            return where, f"records calibration {calibration!r}, which an earlier entry records"
        if fault == "payload":
            return where, (
                f"records calibration {calibration}, but its payload is not the row of a "
                f"calibration of its own device ({device})"
            )
    return None
