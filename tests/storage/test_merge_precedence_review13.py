"""review13: a refusal found only in the merge's write step (a forward-only rule: a device the
hub holds under another label; a foreign key, refused at the commit) paired with a refusal of
the rows' checks (the validation, an entry's hash, a forged score): the same first refusal
whether the checks run here, before the write, or in a child beside it
(`tests/support/merge_modes`): the checks', not the write's, though forked the write step meets
its refusal first; the hub's tables unchanged. Also: a merge its checks refuse leaves its
connection (a long-lived program's) as it was.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.storage.bundle_merge import BUNDLE_COLUMNS
from tests.storage import test_merge_raw_attacks as raw
from tests.storage.test_merge_fast_paths import _hub_and_rows, _lines, _merge
from tests.storage.test_merge_meanwhile import _forged_score
from tests.support.exports import table_digest
from tests.support.merge_modes import merge_mode

__all__ = ["merge_mode"]  # a fixture

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)

Rows = dict[str, list[Sequence[Any]]]
WRITE_STEP = "bundle devices row"  # "..., field label: an existing record cannot be rewritten"


def _device_held_otherwise(hub: Path, rows: Rows) -> None:
    """The hub holds the bundle's device (no entry of it yet) under another label: the write
    step refuses the device row (`_Merge.devices`)."""
    device = rows["devices"][0]
    conn = sqlite3.connect(hub, isolation_level=None)
    try:
        conn.execute(
            "INSERT INTO devices (id, label, site_code, registered_at, audit_seq, audit_head) "
            "VALUES (?, ?, ?, ?, 0, ?)",
            [device[0], "another label", device[2], device[3], "0" * 64],
        )
    finally:
        conn.close()


def _bad_value(rows: Rows) -> list[str]:
    answers = rows["answers"]
    vas = BUNDLE_COLUMNS["answers"].index("vas_line_mm")
    target = next(n for n, r in enumerate(answers) if r[vas] is not None)
    rows["answers"], lines = raw._member(raw._cell_lines(answers, target, "value", "1000"))
    return lines


def _broken_hash(rows: Rows) -> list[str]:
    """A non-answer entry's payload changed (its hash no longer its own; links intact)."""
    columns = BUNDLE_COLUMNS["audit_log"]
    action, payload = columns.index("action"), columns.index("payload")
    entries = rows["audit_log"]
    n = next(n for n, e in enumerate(entries) if e[action] == "subject.registered")
    changed = json.loads(entries[n][payload])
    changed["forged"] = True
    entries[n] = (*entries[n][:payload], json.dumps(changed), *entries[n][payload + 1 :])
    return _lines(rows["answers"])


def _score(rows: Rows) -> list[str]:
    _forged_score(rows)
    return _lines(rows["answers"])


def _none(rows: Rows) -> list[str]:
    return _lines(rows["answers"])


@pytest.mark.parametrize(
    ("edit", "first"),
    [
        (_none, WRITE_STEP),
        (_bad_value, "field value"),
        (_broken_hash, "hash chain broken"),
        (_score, "differs from the hub's recomputation"),
    ],
)
def test_the_checks_refusal_comes_before_the_write_steps(
    tmp_path: Path, edit: Callable[[Rows], list[str]], first: str
) -> None:
    _refused_first(tmp_path, _device_held_otherwise, edit, first)


def _refused_first(
    tmp_path: Path,
    problem: Callable[[Path, Rows], None],
    edit: Callable[[Rows], list[str]],
    first: str,
) -> None:
    """A bundle with a problem the write step finds (`problem`) and the one `edit` makes for
    the checks: `first` is named, the hub unchanged."""
    hub, rows = _hub_and_rows(tmp_path)
    problem(hub, rows)
    lines = edit(rows)
    before = table_digest(hub)
    with pytest.raises(storage.MergeRefused) as caught:
        _merge(hub, rows, lines)
    assert first in str(caught.value), caught.value
    assert table_digest(hub) == before


def test_a_refused_merge_leaves_its_connection_as_it_was(tmp_path: Path) -> None:
    """Refused by its checks (forked: once every row is written), the merging connection of a
    long-lived program (the console) keeps no staging table, no row noted for an image
    (``temp.audit_touched``), no transaction; its pragmas as they were; its next write works
    and is the only change."""
    from respine_desktop.storage.bundle_merge import merge_bundle
    from tests.storage.test_merge_fast_paths import _Member

    hub, rows = _hub_and_rows(tmp_path)
    lines = _bad_value(rows)
    before = table_digest(hub)

    def source(table: str) -> Sequence[Any]:
        return _Member(rows[table], lines) if table == "answers" else rows[table]

    with storage.open_database(hub) as db:
        pragmas = ("cache_size", "wal_autocheckpoint", "busy_timeout", "defer_foreign_keys")
        set_before = {p: db.conn.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas}
        temp_before = db.conn.execute("SELECT name FROM temp.sqlite_master").fetchall()
        with pytest.raises(storage.MergeRefused, match="field value"):
            merge_bundle(db, source, bundle={"bundle_id": "test", "device_id": "kiosk"})
        assert not db.conn.in_transaction
        assert db.conn.execute("SELECT name FROM temp.sqlite_master").fetchall() == temp_before
        assert db.conn.execute("SELECT count(*) FROM temp.audit_touched").fetchone()[0] == 0
        assert {p: db.conn.execute(f"PRAGMA {p}").fetchone()[0] for p in pragmas} == set_before
        assert table_digest(hub) == before
        storage.log_event(db, "kiosk.heartbeat", entity="kiosk", payload={})
        assert db.conn.execute("SELECT count(*) FROM subjects").fetchone()[0] == 0
    assert storage.verify_database(hub).ok


def _subject_left_out(rows: Rows) -> None:
    """The bundle's first subject left out, its visits and sessions kept: the write step's
    foreign keys refuse them at the commit."""
    rows["subjects"] = rows["subjects"][1:]


@pytest.mark.parametrize(
    ("edit", "first"),
    [
        (_none, "refers to records this database does not have"),
        (_bad_value, "field value"),
        (_broken_hash, "hash chain broken"),
        (_score, "differs from the hub's recomputation"),
    ],
)
def test_the_checks_refusal_comes_before_a_foreign_keys(
    tmp_path: Path, edit: Callable[[Rows], list[str]], first: str
) -> None:
    _refused_first(tmp_path, lambda _hub, rows: _subject_left_out(rows), edit, first)
