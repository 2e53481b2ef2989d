"""An append-only row rewritten or deleted *through* an appended, properly chained entry.

Someone with the hub file and Python can open it with this package, drop a protective trigger
and change a row inside a transaction: the row tracking then appends a ``rows.changed`` entry
imaging the change, chained and hashed like any other. The file's heads kept outside
(``verify --expect``) still match, since nothing before them changed: only an entry was added.
The replay compares the tables with the last images, which now say what the tampered rows are,
so the change verified ok. But no application path ever updates or deletes a row of an
append-only table (``withdrawals``, ``signatures``, ``session_choices``, ``vas_calibrations``:
triggers refuse it), so a later image that changes such a row, or deletes it, is itself the
evidence: `verify` names the table, the row and the entry that rewrote it.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.storage import _audit as audit
from respine_desktop.storage._database import transaction
from tests.storage.test_vas_calibrations import SCREEN
from tests.storage.test_verify_devices import LATE, one, rechain, site
from tests.storage.test_verify_replay import verify_cli
from tests.support.storage import ADMIN_PIN, coord

__all__ = ["site"]  # the module fixture, shared


def _hub(site: Path, tmp_path: Path) -> tuple[Path, dict[str, str], list[str]]:
    """A copy of the hub with a signature and a calibration; every row key by table; its
    chains' heads as `status` prints them (kept outside the file)."""
    hub = tmp_path / "hub.db"
    shutil.copy(site / "hub.db", hub)
    with storage.open_database(hub) as db:
        calibration = storage.record_vas_calibration(
            db, staff=coord(db), measured_mm=104.0, drawn_factor=1.0, screen=SCREEN
        )
        signature = storage.sign(
            db, subject_code=LATE, visit_code="M0", meaning="reviewed", username="admin",
            pin=ADMIN_PIN,
        )  # fmt: skip
    keys = {
        "signatures": signature.id,
        "vas_calibrations": calibration.id,
        "withdrawals": one(hub, "SELECT id FROM withdrawals"),
        "session_choices": one(hub, "SELECT id FROM session_choices"),
    }
    conn = sqlite3.connect(hub)
    try:
        heads = [f"{d}:{s}:{h}" for d, s, h in conn.execute(
            "SELECT id, audit_seq, audit_head FROM devices"
        )]  # fmt: skip
    finally:
        conn.close()
    assert storage.verify_database(hub, expect=_expect(heads)).ok
    return hub, keys, heads


def _expect(heads: list[str]) -> list[storage.ExpectedHead]:
    return [e for h in heads for e in storage.parse_expected(h)]


def _through_the_app(path: Path, table: str, statement: str) -> None:
    """Run `statement` in a transaction of this package with `table`'s triggers dropped: the
    change is imaged by an appended ``rows.changed`` entry, chained like any other."""
    with storage.open_database(path) as db:
        triggers = db.conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name=? "
            "AND name LIKE '%_no_%'",
            [table],
        ).fetchall()
        for name, _ in triggers:
            db.conn.execute(f"DROP TRIGGER {name}")
        with transaction(db):
            assert db.conn.execute(statement).rowcount == 1
        for _, sql in triggers:
            db.conn.execute(sql)


EDITS: dict[str, tuple[str, str]] = {
    "signatures: deleted": ("signatures", "DELETE FROM signatures WHERE id='{key}'"),
    "signatures: meaning": (
        "signatures",
        "UPDATE signatures SET meaning='approved' WHERE id='{key}'",
    ),
    "vas_calibrations: deleted": (
        "vas_calibrations",
        "DELETE FROM vas_calibrations WHERE id='{key}'",
    ),
    "vas_calibrations: factor": (
        "vas_calibrations",
        "UPDATE vas_calibrations SET factor=0.5 WHERE id='{key}'",
    ),
    "withdrawals: day": (
        "withdrawals",
        "UPDATE withdrawals SET withdrawn_on=(SELECT day0 FROM subjects WHERE "
        "subjects.id=withdrawals.subject_id) WHERE id='{key}'",
    ),
    "session_choices: reason": (
        "session_choices",
        "UPDATE session_choices SET reason='A is complete' WHERE id='{key}'",
    ),
    "session_choices: deleted": (
        "session_choices",
        "DELETE FROM session_choices WHERE id='{key}'",
    ),
}


@pytest.mark.req("AUD-01")
@pytest.mark.parametrize("edit", sorted(EDITS))
def test_an_append_only_row_changed_through_an_appended_entry_is_named(
    site: Path, tmp_path: Path, edit: str
) -> None:
    hub, keys, heads = _hub(site, tmp_path)
    table, statement = EDITS[edit]
    key = keys[table]
    _through_the_app(hub, table, statement.replace("{key}", key))
    said = f"table {table} row {key}: "
    result = storage.verify_database(hub, expect=_expect(heads))
    assert not result.ok, result.message
    assert said in result.message, result.message
    done = verify_cli(hub, *[a for h in heads for a in ("--expect", h)])
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert said in line


def test_the_append_only_tables_are_the_tracked_ones_the_triggers_guard(tmp_path: Path) -> None:
    from respine_desktop.storage import _replay, _row_images
    from tests.support.storage import new_db

    new_db(tmp_path / "k.db", durable=False).close()
    conn = sqlite3.connect(tmp_path / "k.db")
    try:
        guarded = {
            t
            for (t,) in conn.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type='trigger' AND name LIKE "
                "'%_no_update' AND tbl_name IN (SELECT tbl_name FROM sqlite_master WHERE "
                "type='trigger' AND name LIKE '%_no_delete')"
            )
        }
    finally:
        conn.close()
    assert guarded & set(_row_images.TRACKED) == _replay.APPEND_ONLY


# (table, column changed, statement): the change imaged by the appended entry without the column
NARROWED: dict[str, tuple[str, str, str]] = {
    "signatures: meaning": (
        "signatures",
        "meaning",
        "UPDATE signatures SET meaning='approved' WHERE id='{key}'",
    ),
    "vas_calibrations: factor": (
        "vas_calibrations",
        "factor",
        "UPDATE vas_calibrations SET factor=0.5 WHERE id='{key}'",
    ),
}


def _image_without(path: Path, table: str, column: str) -> None:
    """The file's last entry (the ``rows.changed`` entry just appended) rewritten to image
    `table` without `column`, its hash recomputed and the head moved: only an entry appended
    after the heads kept outside changes."""
    conn = sqlite3.connect(path)
    try:
        (last,) = conn.execute(
            "SELECT max(seq) FROM audit_log WHERE device_id=(SELECT value FROM settings "
            "WHERE key='device_id')"
        ).fetchone()
    finally:
        conn.close()

    def edit(seq: int, _action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        if seq != last:
            return None
        image = payload["rows_after"][table]
        where = image["columns"].index(column)
        image["columns"].pop(where)
        for values in image["values"]:
            values.pop(where)
        return payload

    rechain(path, edit)


@pytest.mark.parametrize("edit", sorted(NARROWED))
def test_an_append_only_row_imaged_again_without_the_changed_column_is_named(
    site: Path, tmp_path: Path, edit: str
) -> None:
    """The appended entry images the rewritten row without the column it changed: the last
    image (other columns) matches the row, and comparing an image with the earlier one only
    when both have the same columns let the rewrite through."""
    hub, keys, heads = _hub(site, tmp_path)
    table, column, statement = NARROWED[edit]
    key = keys[table]
    _through_the_app(hub, table, statement.replace("{key}", key))
    _image_without(hub, table, column)
    result = storage.verify_database(hub, expect=_expect(heads))
    assert not result.ok, result.message
    assert f"table {table} row {key}: append-only, but audit entry #" in result.message


def test_a_withdrawal_recorded_again_by_an_appended_entry_is_named(
    site: Path, tmp_path: Path
) -> None:
    """An appended, properly chained ``subject.withdrawn`` entry records the hub's withdrawal
    again with another reason: the row and its images unchanged, the audit trail now says two
    things of one withdrawal. `verify` named neither (it compared no withdrawal with the entry
    recording it); each is recorded by exactly one entry."""
    hub, keys, heads = _hub(site, tmp_path)
    key = keys["withdrawals"]
    with storage.open_database(hub) as db:
        subject, by, device, day = db.conn.execute(
            "SELECT subject_id, recorded_by, device_id, withdrawn_on FROM withdrawals WHERE id=?",
            [key],
        ).fetchone()
        with transaction(db):
            audit.append(
                db,
                action="subject.withdrawn",
                entity="withdrawal",
                entity_id=key,
                subject_id=subject,
                actor=by,
                payload={"withdrawn_on": day, "reason": "another reason", "in_bundles": True},
            )
    result = storage.verify_database(hub, expect=_expect(heads))
    assert not result.ok, result.message
    assert f"table withdrawals row {key}: recorded by more than one audit entry" in result.message
    assert f"of device {device} (id " in result.message  # the kiosk's entry, and the appended
    assert result.message.count("audit entry #") == 2
