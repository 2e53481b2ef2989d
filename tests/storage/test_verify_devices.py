"""`verify` replays the other devices' chains: real kiosks and a real hub merging signed bundles.

A row a kiosk wrote, edited in the hub together with the hub's own chain (the ``bundle.imported``
image rewritten, every later hash recomputed, the head in ``devices`` moved), passes the hub's
own replay; the kiosk's chain, copied into the hub, names it (table, row, device). What a merge
and the hub may legitimately do to such rows (forward steps, flagged conflicts, a correction, a
session resumed on the hub, conflict choices) verifies.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import exports, storage
from respine_desktop.storage import _row_images as row_images
from respine_desktop.storage._audit import dumps, entry_hash
from respine_desktop.storage._replay import Replay
from tests.storage.test_verify_replay import verify_cli
from tests.support.exports import (
    NOW,
    TODAY,
    Clock,
    conflicted_hub,
    controlled_clock,
    coord,
    do_visit,
    export,
    hub_and_kiosks,
    inv,
    merge,
    mismatched_hub,
    one_code_on_two_kiosks,
    without_members,
)
from tests.support.storage import ADMIN_PIN

LATE = "RSP-01-050"  # done on kiosk a, then corrected and marked on the hub
PARKED = "RSP-01-051"  # parked on kiosk a, resumed and submitted on the hub
GONE = "RSP-01-052"  # withdrawn on kiosk a


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """hub.db, a.db, b.db: the conflicted subject of `conflicted_hub` resolved on the hub; kiosk
    a's LATE (M0 submitted, M1 missed) and PARKED (M0 parked); on the hub a correction of LATE's
    M0 and PARKED resumed and submitted; then the hub's bundle merged into kiosk b, which
    disables its (renamed) copy of the hub's "inv" account and merges back into the hub."""
    root = tmp_path_factory.mktemp("site")
    with hub_and_kiosks(root) as (hub, a, b, c):
        _, second = conflicted_hub(hub, a, b, c)
        day0 = TODAY - timedelta(days=45)
        with storage.open_database(a) as db:
            storage.register_subject(db, LATE, day0=day0, staff=coord(db), year_of_birth=1970)
            late = do_visit(db, c, LATE, "M0", day0, vas=61.5, odi=2, sf36=2)
            c.day(TODAY)
            storage.mark_missed(db, LATE, "M1", staff=coord(db), reason="travel")
            storage.register_subject(db, PARKED, day0=TODAY, staff=coord(db))
            parked = do_visit(db, c, PARKED, "M0", TODAY, vas=20, odi=1, sf36=1, submit=False)
            storage.register_subject(db, GONE, day0=day0, staff=coord(db))
            storage.withdraw_subject(db, GONE, staff=coord(db), on=TODAY, reason="moved away")
        export(a, root / "a.3")
        merge(hub, root / "a.3")
        c.day(TODAY, minutes=30)
        with storage.open_database(hub) as db:
            admin = storage.authenticate(db, "admin", ADMIN_PIN)
            storage.resolve_conflict(
                db, "RSP-01-030", "M1", second, staff=admin, reason="B is complete"
            )
            storage.correct_answer(db, late, "odi_01", 4, staff=inv(db), reason="wrong box")
            storage.resume_session(db, parked, staff=coord(db))
            storage.submit_session(db, parked, staff=coord(db))
        export(hub, root / "hub.3")
        merge(b, root / "hub.3")
        # kiosk b disables its imported copy of the hub's "inv" (renamed there), then merges back
        hub_inv = one(hub, "SELECT id FROM staff WHERE username='inv'")
        with storage.open_database(b) as db:
            renamed = one(b, f"SELECT username FROM staff WHERE id='{hub_inv}'")
            storage.disable_staff(db, storage.authenticate(db, "admin", ADMIN_PIN), renamed)
        export(b, root / "b.3")
        merge(hub, root / "b.3")
    yield root


def device_of(path: Path) -> str:
    with storage.open_database(path) as db:
        return db.device_id


def copy_site(site: Path, tmp_path: Path) -> Path:
    for name in ("hub.db", "a.db", "b.db"):
        shutil.copy(site / name, tmp_path / name)
    return tmp_path


def one(path: Path, sql: str) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def rewrite(path: Path, table: str, key: str, column: str, value: object) -> None:
    """Edit a row behind the app's back AND its last image in the file's own chain, every later
    hash recomputed and the head moved: the file's own chain and replay stay consistent."""
    key_column = row_images.TRACKED[table]

    def edit_image(columns: list[str], values: list[list[Any]]) -> list[list[Any]]:
        where = columns.index(column)
        for row in values:
            if str(row[0]) == key:
                row[where] = value
        return values

    _forge(
        path,
        table,
        key,
        f"UPDATE {table} SET {column}=? WHERE {key_column}=?",
        [value, key],
        edit_image,
        last_only=True,
    )


def delete(path: Path, table: str, key: str) -> None:
    """Delete a row behind the app's back AND drop it from every image of the file's own chain
    (every later hash recomputed, the head moved): the file's own replay no longer expects it."""
    _forge(
        path,
        table,
        key,
        f"DELETE FROM {table} WHERE {row_images.TRACKED[table]}=?",
        [key],
        lambda _, values: [row for row in values if str(row[0]) != key],
        last_only=False,
    )


def _forge(
    path: Path,
    table: str,
    key: str,
    sql: str,
    params: list[object],
    edit_image: Callable[[list[str], list[list[Any]]], list[list[Any]]],
    *,
    last_only: bool,
) -> None:
    conn = sqlite3.connect(path)
    try:
        triggers = conn.execute(
            "SELECT name, sql FROM sqlite_master WHERE type='trigger' AND tbl_name IN "
            "('audit_log', ?) AND name LIKE '%_no_%'",
            [table],
        ).fetchall()
        for name, _ in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        assert conn.execute(sql, params).rowcount == 1
        own = conn.execute("SELECT value FROM settings WHERE key='device_id'").fetchone()[0]
        targets = []
        for seq, text in conn.execute(
            "SELECT seq, payload FROM audit_log WHERE device_id=? ORDER BY seq", [own]
        ):
            image = (json.loads(text).get(row_images.PAYLOAD_KEY) or {}).get(table)
            if image and any(str(v[0]) == key for v in image["values"]):
                targets.append(seq)
        assert targets, f"{table} {key} is imaged nowhere in the own chain"
        if last_only:
            targets = targets[-1:]

        def edit(seq: int, action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
            if seq not in targets:
                return None
            image = payload[row_images.PAYLOAD_KEY][table]
            image["values"] = edit_image(image["columns"], image["values"])
            return payload

        _rechain(conn, edit)
        for _, trigger in triggers:
            conn.execute(trigger)
        conn.commit()
    finally:
        conn.close()


PayloadEdit = Callable[[int, str, dict[str, Any]], dict[str, Any] | None]


def _around_the_trigger(path: Path, change: Callable[[sqlite3.Connection], None]) -> None:
    """`change` made with the trigger refusing audit updates dropped, then put back."""
    conn = sqlite3.connect(path)
    try:
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name='audit_log_no_update'"
        ).fetchone()
        conn.execute("DROP TRIGGER audit_log_no_update")
        change(conn)
        conn.execute(sql)
        conn.commit()
    finally:
        conn.close()


def rechain(path: Path, edit: PayloadEdit) -> None:
    """Rewrite entries of the file's own chain: `edit(seq, action, payload)` returns the new
    payload (None: unchanged); every later hash is recomputed and the head moved, so the chain
    stays consistent (what someone rewriting the file, triggers dropped, can do)."""
    _around_the_trigger(path, lambda conn: _rechain(conn, edit))


TextEdit = Callable[[int, str, str], str | None]


def rechain_text(path: Path, edit: TextEdit) -> None:
    """As `rechain`, `edit(seq, action, payload text)` returning the new text (None: unchanged),
    for a payload no `dumps` of ours would write."""
    _around_the_trigger(path, lambda conn: _rechain_text(conn, edit))


def _rechain(conn: sqlite3.Connection, edit: PayloadEdit) -> None:
    def edit_text(seq: int, action: str, text: str) -> str | None:
        payload = edit(seq, action, json.loads(text))
        return None if payload is None else dumps(payload)

    _rechain_text(conn, edit_text)


def _rechain_text(conn: sqlite3.Connection, edit: TextEdit) -> None:
    own = conn.execute("SELECT value FROM settings WHERE key='device_id'").fetchone()[0]
    entries = conn.execute(
        "SELECT id, seq, at, actor, action, subject_id, entity, entity_id, payload, "
        "prev_hash FROM audit_log WHERE device_id=? ORDER BY seq",
        [own],
    ).fetchall()
    prev: str | None = None
    for entry_id, seq, at, actor, action, subject, entity, entity_id, text, old_prev in entries:
        edited = edit(seq, action, text)
        if edited is None and prev is None:
            continue  # nothing changed yet
        if edited is not None:
            text = edited
        prev = old_prev if prev is None else prev
        digest = entry_hash(
            prev, entry_id, own, seq, at, actor, action, subject, entity, entity_id, text
        )
        conn.execute(
            "UPDATE audit_log SET payload=?, prev_hash=?, hash=? WHERE id=?",
            [text, prev, digest, entry_id],
        )
        prev = digest
    assert prev is not None, "no entry was edited"
    conn.execute("UPDATE devices SET audit_head=? WHERE id=?", [prev, own])


@pytest.mark.req("AUD-04")
def test_a_site_verifies_with_every_chain_replayed(site: Path) -> None:
    """Conflicts flagged and resolved, a correction and a resumed session on the hub, kiosk b
    holding everything after the hub's bundle: every file verifies with the others' chains."""
    for name in ("hub.db", "a.db", "b.db"):
        result = storage.verify_database(site / name)
        assert result.ok, f"{name}: {result.message}"
        assert "not covered" not in result.message
        if name != "a.db":  # kiosk a never received another device's chain
            assert "other device(s) agree with their chains" in result.message


@pytest.mark.req("AUD-04")
def test_flagged_mismatches_verify(tmp_path: Path) -> None:
    """A visit complete on one kiosk and missed on the other, two days 0 for one code: the hub
    keeps its copy and flags the difference; both kiosks' chains then agree with it."""
    with hub_and_kiosks(tmp_path) as (hub, a, b, c):
        mismatched_hub(hub, a, b, c)
    result = storage.verify_database(hub)
    assert result.ok, result.message
    assert "2 other device(s)" in result.message


def _late_session(path: Path) -> str:
    return one(
        path,
        f"SELECT s.id FROM sessions s JOIN subjects j ON j.id=s.subject_id "
        f"WHERE j.code='{LATE}' AND s.visit_code='M0'",
    )


# table -> (the row's key in the site, the column edited, its new value)
EDITS = {
    "visits: a missed visit turned complete": (
        "visits",
        lambda p: one(
            p,
            f"SELECT v.id FROM visits v JOIN subjects j ON j.id=v.subject_id "
            f"WHERE j.code='{LATE}' AND v.visit_code='M1'",
        ),
        "state",
        "complete",
    ),
    "subjects: day 0": (
        "subjects",
        lambda p: one(p, f"SELECT id FROM subjects WHERE code='{LATE}'"),
        "day0",
        "2025-01-01",
    ),
    "subjects: code": (
        "subjects",
        lambda p: one(p, f"SELECT id FROM subjects WHERE code='{LATE}'"),
        "code",
        "RSP-01-099",
    ),
    "sessions: submitter": (
        "sessions",
        _late_session,
        "submitted_by",
        "someone-else",
    ),
    "sessions: a submitted session reopened": (
        "sessions",
        _late_session,
        "state",
        "parked",
    ),
    "sessions: device": (
        "sessions",
        _late_session,
        "device_id",
        "another-kiosk",
    ),
    "scores: computation time": (
        "scores",
        lambda p: one(
            p,
            f"SELECT id FROM scores WHERE session_id='{_late_session(p)}' AND instrument_id='vas'",
        ),
        "computed_at",
        "2020-01-01T00:00:00+00:00",
    ),
    "staff: role": (
        "staff",
        lambda p: one(p.parent / "a.db", "SELECT id FROM staff WHERE username='coord'"),
        "role",
        "admin",
    ),
    "withdrawals: reason": (
        "withdrawals",
        lambda p: one(
            p,
            f"SELECT w.id FROM withdrawals w JOIN subjects j ON j.id=w.subject_id "
            f"WHERE j.code='{GONE}'",
        ),
        "reason",
        "withdrew consent",
    ),
    "devices: label": (
        "devices",
        lambda p: one(p, "SELECT id FROM devices WHERE label='kiosk a'"),
        "label",
        "kiosk z",
    ),
}


@pytest.mark.req("AUD-04")
@pytest.mark.parametrize("edit", sorted(EDITS))
def test_a_rewrite_with_the_hubs_own_chain_is_named_by_the_kiosks(
    site: Path, tmp_path: Path, edit: str
) -> None:
    root = copy_site(site, tmp_path)
    hub, kiosk = root / "hub.db", device_of(root / "a.db")
    hub_device = device_of(hub)
    table, find, column, value = EDITS[edit]
    key = find(hub)
    rewrite(hub, table, key, column, value)
    result = storage.verify_database(hub)
    assert not result.ok
    assert f"table {table} row {key}: column {column} is " in result.message
    assert f"device {kiosk}" in result.message  # the kiosk's chain, not the hub's, names it
    assert hub_device not in result.message


def test_staff_role_edit_names_the_column(site: Path, tmp_path: Path) -> None:
    root = copy_site(site, tmp_path)
    hub = root / "hub.db"
    table, find, column, value = EDITS["staff: role"]
    rewrite(hub, table, find(hub), column, value)
    message = storage.verify_database(hub).message
    assert "column role is 'admin'" in message and "recorded 'coordinator'" in message


@pytest.mark.req("AUD-04")
def test_a_deleted_kiosk_row_dropped_from_the_hubs_images_is_named(
    site: Path, tmp_path: Path
) -> None:
    """A missed visit kiosk a recorded, deleted in the hub and dropped from every image of the
    hub's own chain (rehashed, head moved): kiosk a's chain still records it, and names it."""
    root = copy_site(site, tmp_path)
    hub, kiosk = root / "hub.db", device_of(root / "a.db")
    table, find, _, _ = EDITS["visits: a missed visit turned complete"]
    key = find(hub)
    delete(hub, table, key)
    result = storage.verify_database(hub)
    assert not result.ok
    assert f"table visits row {key}: missing" in result.message
    assert f"device {kiosk}" in result.message


@pytest.mark.req("AUD-04")
def test_a_kiosk_names_a_rewrite_of_another_kiosks_row(site: Path, tmp_path: Path) -> None:
    """Kiosk b holds kiosk a's rows through the hub's bundle: a rewrite in b (row and b's own
    import image) is named by a's chain."""
    root = copy_site(site, tmp_path)
    b, a_device = root / "b.db", device_of(root / "a.db")
    table, find, column, value = EDITS["visits: a missed visit turned complete"]
    key = find(b)
    rewrite(b, table, key, column, value)
    result = storage.verify_database(b)
    assert not result.ok
    assert f"table visits row {key}: column state is 'complete'" in result.message
    assert "audit entry #" in result.message and f"device {a_device} recorded 'missed'" in (
        result.message
    )


@pytest.mark.req("AUD-04")
def test_the_cli_exits_1_naming_table_row_and_device(site: Path, tmp_path: Path) -> None:
    root = copy_site(site, tmp_path)
    hub, kiosk = root / "hub.db", device_of(root / "a.db")
    table, find, column, value = EDITS["subjects: day 0"]
    key = find(hub)
    rewrite(hub, table, key, column, value)
    done = verify_cli(hub)
    assert done.returncode == 1
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1
    assert f"table subjects row {key}: column day0 is '2025-01-01'" in lines[0]
    assert f"device {kiosk}" in lines[0]


def test_the_rewrite_alone_passes_the_hubs_own_replay(site: Path, tmp_path: Path) -> None:
    """The attack is consistent with the hub's own chain: the replay of that chain alone (what
    `verify` did before the other devices' chains were replayed) finds nothing."""
    root = copy_site(site, tmp_path)
    hub = root / "hub.db"
    table, find, column, value = EDITS["subjects: day 0"]
    rewrite(hub, table, find(hub), column, value)
    own = device_of(hub)
    conn = sqlite3.connect(hub)
    conn.row_factory = sqlite3.Row
    try:
        replay = Replay(conn, own)
        for row in conn.execute(
            "SELECT seq, action, entity_id, payload FROM audit_log WHERE device_id=? ORDER BY seq",
            [own],
        ):
            replay.feed(row[0], row[1], row[2], row[3])
        assert replay.compare().strict
    finally:
        conn.close()
    assert not storage.verify_database(hub).ok


def test_an_unflagged_day0_difference_of_a_subject_matched_by_code_is_named(
    tmp_path: Path,
) -> None:
    """The same code registered on both kiosks with two days 0: the hub keeps kiosk a's subject
    and flags b's day 0 (accepted above). The hub's subject edited with its image is named by
    kiosk a's chain."""
    with hub_and_kiosks(tmp_path) as (hub, a, b, c):
        mismatched_hub(hub, a, b, c)
    key = one(hub, "SELECT id FROM subjects WHERE code='RSP-01-041'")
    rewrite(hub, "subjects", key, "day0", "2025-02-02")
    result = storage.verify_database(hub)
    assert not result.ok
    assert f"table subjects row {key}: column day0 is '2025-02-02'" in result.message


@pytest.mark.req("AUD-04")
def test_a_visit_the_merge_gave_another_id_is_named_under_both_ids(tmp_path: Path) -> None:
    """One code registered on both kiosks: the hub keeps kiosk a's subject and attaches kiosk
    b's M1 to it under a new id. That visit turned missed in the hub (with its image) is named
    by b's chain, under the hub's id and b's."""
    with hub_and_kiosks(tmp_path) as (hub, a, b, c):
        one_code_on_two_kiosks(hub, a, b, c)
    assert storage.verify_database(hub).ok
    b_visit = one(b, "SELECT id FROM visits WHERE visit_code='M1'")
    hub_visit = one(hub, "SELECT id FROM visits WHERE visit_code='M1'")
    assert b_visit != hub_visit
    rewrite(hub, "visits", hub_visit, "state", "missed")
    result = storage.verify_database(hub)
    assert not result.ok
    assert (
        f"table visits row {hub_visit} (row {b_visit} of device {device_of(b)}): "
        "column state is 'missed'"
    ) in result.message
    assert "recorded 'complete'" in result.message


# -- optional members: a row missing because its bundle did not carry it, or deleted -----------


def _gone(path: Path) -> str:
    return one(
        path,
        "SELECT w.id FROM withdrawals w JOIN subjects j ON j.id=w.subject_id "
        f"WHERE j.code='{GONE}'",
    )


def _no_withdrawals_imported(seq: int, action: str, payload: dict[str, Any]) -> Any:
    """A `rechain` edit: the file's import entries no longer say any withdrawal came (the
    counts an import records, as an import of bundles without the member would have)."""
    if action != "bundle.imported":
        return None
    for counts in ("tables", "inserted", "updated"):
        (payload.get(counts) or {}).pop("withdrawals", None)
    return payload


@pytest.mark.req("AUD-04")
@pytest.mark.parametrize("records", ["images", "images and import counts"])
def test_a_withdrawal_deleted_with_the_hubs_chain_is_named(
    site: Path, tmp_path: Path, records: str
) -> None:
    """Kiosk a's withdrawal, deleted in the hub and dropped from every image of the hub's own
    chain (and, the thorough way, from the counts of the hub's imports): kiosk a's entry says
    its bundles carry withdrawals, so the row cannot be one its bundle left out."""
    root = copy_site(site, tmp_path)
    hub, kiosk = root / "hub.db", device_of(root / "a.db")
    key = _gone(hub)
    delete(hub, "withdrawals", key)
    if records != "images":
        rechain(hub, _no_withdrawals_imported)
    result = storage.verify_database(hub)
    assert not result.ok
    assert f"table withdrawals row {key}: missing" in result.message
    assert f"device {kiosk}" in result.message
    done = verify_cli(hub)
    assert done.returncode == 1 and f"table withdrawals row {key}: missing" in done.stderr


@pytest.mark.req("AUD-04")
@pytest.mark.parametrize("changed", ["day", "nothing else"])
def test_another_withdrawal_put_in_place_of_a_kiosks_is_named_unless_the_same(
    site: Path, tmp_path: Path, changed: str
) -> None:
    """Kiosk a's withdrawal given another id in the hub, with the hub's own chain (its image
    rewritten, hashes recomputed): the subject still has "a" withdrawal here, which the rule
    took for the hub's own kept over the kiosk's. Now that one must say the same (day, reason)
    or its difference be flagged as the merge flags it; another day, unflagged, is named. The
    same day and reason pass that rule, but the row under another id is recorded by no
    ``subject.withdrawn`` entry (every withdrawal is: check 9), which names it."""
    root = copy_site(site, tmp_path)
    hub, kiosk = root / "hub.db", device_of(root / "a.db")
    key = _gone(hub)
    other = "01a24112-0000-7000-8000-00000000beef"
    rewrite(hub, "withdrawals", key, "id", other)
    if changed == "day":
        day0 = one(hub, f"SELECT day0 FROM subjects WHERE code='{GONE}'")
        rewrite(hub, "withdrawals", other, "withdrawn_on", day0)
    result = storage.verify_database(hub)
    if changed != "day":
        assert not result.ok
        assert result.message == f"table withdrawals row {other}: no audit entry records it"
        return
    said = f"table withdrawals row {key}: missing, and its subject's withdrawal here ({other}: "
    assert not result.ok and said in result.message, result.message
    assert "no bundle.mismatch flags it (audit entry #" in result.message
    assert f"device {kiosk}" in result.message
    done = verify_cli(hub)
    assert done.returncode == 1 and done.stdout == ""
    (line,) = done.stderr.strip().splitlines()
    assert said in line


def _without_reason(seq: int, action: str, payload: dict[str, Any]) -> Any:
    """A `rechain` edit: withdrawal images without their ``reason`` column."""
    image = (payload.get(row_images.PAYLOAD_KEY) or {}).get("withdrawals")
    if image is None:
        return None
    where = image["columns"].index("reason")
    del image["columns"][where]
    for values in image["values"]:
        del values[where]
    return payload


@pytest.mark.req("AUD-04")
def test_a_kiosks_withdrawal_image_forged_without_a_column_is_named_not_a_traceback(
    site: Path, tmp_path: Path
) -> None:
    """As above (the hub's withdrawal given another id), and kiosk a's chain held by the hub
    rewritten consistently, its withdrawal images without the reason: one line, exit 1."""
    root = copy_site(site, tmp_path)
    hub, kiosk = root / "hub.db", device_of(root / "a.db")
    key = _gone(hub)
    rewrite(hub, "withdrawals", key, "id", "01a24112-0000-7000-8000-00000000beef")

    def as_the_kiosk(conn: sqlite3.Connection) -> None:  # `_rechain` on the kiosk's chain
        (own,) = conn.execute("SELECT value FROM settings WHERE key='device_id'").fetchone()
        conn.execute("UPDATE settings SET value=? WHERE key='device_id'", [kiosk])
        _rechain(conn, _without_reason)
        conn.execute("UPDATE settings SET value=? WHERE key='device_id'", [own])

    _around_the_trigger(hub, as_the_kiosk)
    done = verify_cli(hub)
    assert done.returncode == 1 and done.stdout == "", done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert f"table withdrawals row {key}: missing, and its subject's withdrawal here" in line
    assert f"device {kiosk}" in line


def _ragged(seq: int, action: str, payload: dict[str, Any]) -> Any:
    """A `rechain` edit: subject images with a column name left out but not its values (a
    payload no version of ours writes)."""
    image = (payload.get(row_images.PAYLOAD_KEY) or {}).get("subjects")
    if image is None:
        return None
    del image["columns"][0]
    return payload


@pytest.mark.req("AUD-04")
@pytest.mark.parametrize("chain", ["the hub's own", "kiosk a's"])
def test_a_chained_image_none_of_ours_writes_is_named_not_a_traceback(
    site: Path, tmp_path: Path, chain: str
) -> None:
    """A chain rewritten consistently (hashes and head recomputed) with row images that cannot
    be read: verify names the entry in one line, exit 1 (no traceback), on either chain."""
    root = copy_site(site, tmp_path)
    hub, kiosk = root / "hub.db", device_of(root / "a.db")
    owner = kiosk if chain == "kiosk a's" else device_of(hub)

    def as_the_kiosk(conn: sqlite3.Connection) -> None:  # `_rechain` on the kiosk's chain
        (own,) = conn.execute("SELECT value FROM settings WHERE key='device_id'").fetchone()
        conn.execute("UPDATE settings SET value=? WHERE key='device_id'", [kiosk])
        _rechain(conn, _ragged)
        conn.execute("UPDATE settings SET value=? WHERE key='device_id'", [own])

    if chain == "kiosk a's":
        _around_the_trigger(hub, as_the_kiosk)
    else:
        rechain(hub, _ragged)
    done = verify_cli(hub)
    assert done.returncode == 1 and done.stdout == "", done.stderr
    (line,) = done.stderr.strip().splitlines()
    assert "Traceback" not in done.stderr
    assert "table audit_log: audit entry #" in line and f"of device {owner}: its image" in line
    assert "cannot be read (ValueError: " in line, line


@pytest.mark.req("AUD-04")
def test_a_session_choice_deleted_with_the_kiosks_chain_is_named(
    site: Path, tmp_path: Path
) -> None:
    """The hub's conflict choice, deleted in kiosk b (which received it in the hub's bundle)
    and dropped from b's import images: the hub's chain, held by b, names it."""
    root = copy_site(site, tmp_path)
    b, hub = root / "b.db", device_of(root / "hub.db")
    key = one(b, "SELECT id FROM session_choices")
    delete(b, "session_choices", key)
    result = storage.verify_database(b)
    assert not result.ok
    assert f"table session_choices row {key}: missing" in result.message
    assert f"device {hub}" in result.message
    done = verify_cli(b)
    assert done.returncode == 1 and f"table session_choices row {key}: missing" in done.stderr


def as_an_older_version_wrote_it(seq: int, action: str, payload: dict[str, Any]) -> Any:
    """A `rechain` edit: a withdrawal entry as versions before `IN_BUNDLES` wrote it."""
    if action != "subject.withdrawn":
        return None
    del payload["in_bundles"]
    return payload


def _withdrawn_by_an_older_version(root: Path, hub: Path, a: Path, c: Clock) -> None:
    """Kiosk a withdraws GONE with a version before `IN_BUNDLES`, whose bundle lacked the
    withdrawals member, and the hub merges that bundle (``a.1`` as exported, ``a.old`` as
    merged)."""
    day0 = TODAY - timedelta(days=45)
    with storage.open_database(a) as db:
        storage.register_subject(db, GONE, day0=day0, staff=coord(db))
        do_visit(db, c, GONE, "M0", day0, vas=30, odi=1, sf36=1)
        c.day(TODAY)
        storage.withdraw_subject(db, GONE, staff=coord(db), on=TODAY, reason="moved away")
    rechain(a, as_an_older_version_wrote_it)
    with storage.open_database(hub, readonly=True) as db:
        site_key = storage.get_site_key(db)
    assert site_key is not None
    export(a, root / "a.1")
    merge(hub, without_members(root / "a.1", root / "a.old", site_key, ("withdrawals",)))


@pytest.fixture(scope="module")
def older(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Kiosk a withdrew GONE with a version before `IN_BUNDLES`, whose bundle lacked the
    withdrawals member: the hub holds a's entry, not the row. Saved as hub.0; then a (upgraded)
    exports again, with the member, and the hub merges it (hub.db)."""
    root = tmp_path_factory.mktemp("older")
    with hub_and_kiosks(root) as (hub, a, _, c):
        _withdrawn_by_an_older_version(root, hub, a, c)
        shutil.copy(hub, root / "hub.0")
        c.day(TODAY, minutes=10)
        export(a, root / "a.2")
        merge(hub, root / "a.2")
    yield root


@pytest.mark.req("AUD-04")
def test_an_older_bundle_without_withdrawals_passes_as_not_carried(older: Path) -> None:
    """Nothing in either chain says a's first bundle carried withdrawals: the row is counted,
    not failed; once a's next bundle brought it, it is compared like any other."""
    with storage.open_database(older / "hub.0", readonly=True) as db:
        assert storage.list_withdrawals(db) == []
    first = storage.verify_database(older / "hub.0")
    assert first.ok, first.message
    assert "rows of optional members not carried by their bundles: withdrawals 1" in first.message
    assert storage.verify_database(older / "a.db").ok
    then = storage.verify_database(older / "hub.db")
    assert then.ok, then.message
    assert "not carried" not in then.message


@pytest.mark.req("AUD-04")
def test_an_older_bundle_without_withdrawals_and_the_hubs_own_withdrawal_pass(
    tmp_path: Path,
) -> None:
    """Kiosk a withdrew GONE with a version whose bundle lacked the withdrawals member; the hub,
    which so never saw a's withdrawal (nothing for the merge to compare or flag), withdrew GONE
    itself on another day, for another reason. An honest file: a's row is not carried, not a
    withdrawal put in its place (the merge flags the difference once a's bundle carries it)."""
    root = tmp_path
    with hub_and_kiosks(root) as (hub, a, _, c):
        _withdrawn_by_an_older_version(root, hub, a, c)
        c.day(TODAY, minutes=10)
        with storage.open_database(hub) as db:
            storage.withdraw_subject(
                db, GONE, staff=coord(db), on=TODAY - timedelta(days=1), reason="lost"
            )
        result = storage.verify_database(hub)
        assert result.ok, result.message
        assert "not carried by their bundles: withdrawals 1" in result.message
        # a's next bundle carries it: the merge compares the two, keeps the hub's, flags it
        c.day(TODAY, minutes=20)
        export(a, root / "a.2")
        merge(hub, root / "a.2")
    assert one(hub, "SELECT count(*) FROM audit_log WHERE action='bundle.mismatch'") == "1"
    then = storage.verify_database(hub)
    assert then.ok, then.message
    assert "not carried" not in then.message


@pytest.mark.req("AUD-04")
def test_a_bundle_stripped_of_a_withdrawal_the_hub_has_another_of_is_refused(
    tmp_path: Path,
) -> None:
    """Kiosk a (this version: its entry says ``in_bundles``) and the hub each withdrew GONE,
    another day, another reason. a's bundle re-signed without its withdrawals member is refused
    (the merge had taken the hub's withdrawal for a's and left a hub verify rejects), the hub
    unchanged; the bundle as a wrote it is merged, the difference flagged; kiosk b, given the
    hub's bundle (a's entry without a's row, the hub's flag), merges it: each file verifies."""
    root = tmp_path
    with hub_and_kiosks(root) as (hub, a, b, c):
        day0 = TODAY - timedelta(days=45)
        with storage.open_database(a) as db:
            storage.register_subject(db, GONE, day0=day0, staff=coord(db))
            do_visit(db, c, GONE, "M0", day0, vas=30, odi=1, sf36=1)
        c.day(TODAY)
        export(a, root / "a.1")
        merge(hub, root / "a.1")
        with storage.open_database(hub) as db:
            on = TODAY - timedelta(days=1)
            storage.withdraw_subject(db, GONE, staff=coord(db), on=on, reason="lost")
        with storage.open_database(a) as db:
            storage.withdraw_subject(db, GONE, staff=coord(db), on=TODAY, reason="moved away")
        with storage.open_database(hub, readonly=True) as db:
            site_key = storage.get_site_key(db)
        assert site_key is not None
        c.day(TODAY, minutes=10)
        export(a, root / "a.2")
        stripped = without_members(root / "a.2", root / "a.s", site_key, ("withdrawals",))
        before = (root / "hub.db").read_bytes()
        with pytest.raises(exports.BundleError, match="withdrawal here differs from it"):
            merge(hub, stripped)
        assert (root / "hub.db").read_bytes() == before
        assert storage.verify_database(hub).ok
        merge(hub, root / "a.2")
        assert one(hub, "SELECT count(*) FROM audit_log WHERE action='bundle.mismatch'") == "1"
        c.day(TODAY, minutes=20)
        export(hub, root / "hub.1")
        merge(b, root / "hub.1")
    for path in (hub, a, b):
        result = storage.verify_database(path)
        assert result.ok, f"{path.name}: {result.message}"


@pytest.mark.req("AUD-04")
def test_the_hubs_record_of_a_bundle_with_withdrawals_names_a_deleted_one(
    older: Path, tmp_path: Path
) -> None:
    """a's entry predates `IN_BUNDLES`, but the hub's import of a's second bundle recorded
    withdrawal rows, carrying a's chain past that entry: a deletion rewriting the images only
    is named."""
    hub = tmp_path / "hub.db"
    shutil.copy(older / "hub.db", hub)
    key = _gone(hub)
    delete(hub, "withdrawals", key)
    result = storage.verify_database(hub)
    assert not result.ok
    assert f"table withdrawals row {key}: missing" in result.message
    assert f"device {device_of(older / 'a.db')}" in result.message


@pytest.mark.req("AUD-04")
def test_a_kiosks_own_import_says_its_bundles_carry_withdrawals(
    older: Path, tmp_path: Path
) -> None:
    """a's entry predates `IN_BUNDLES`; a then imports the hub's bundle (its own chain's
    ``bundle.imported`` entry names the withdrawals member) and exports again. The thorough
    deletion (images and the hub's import counts rewritten) is named by a's chain."""
    for name in ("hub.db", "a.db", "site.key"):
        shutil.copy(older / name, tmp_path / name)
    hub, a = tmp_path / "hub.db", tmp_path / "a.db"
    with controlled_clock(NOW + timedelta(days=1)):
        export(hub, tmp_path / "hub.1")
        merge(a, tmp_path / "hub.1")
        export(a, tmp_path / "a.3")
        merge(hub, tmp_path / "a.3")
    assert storage.verify_database(hub).ok
    key = _gone(hub)
    delete(hub, "withdrawals", key)
    rechain(hub, _no_withdrawals_imported)
    result = storage.verify_database(hub)
    assert not result.ok
    assert f"table withdrawals row {key}: missing" in result.message
    assert f"device {device_of(a)}" in result.message
