"""The answers staged before the write lock (`_merge_staging`): the rows Python parsed bound
into a TEMP table outside the lock, copied inside.

- An ordinary bundle is staged outside the transaction, copied inside it, and the hub holds
  exactly the kiosk's answers (in the bundle's order) and verifies; an encrypted hub too, its
  files showing none of the answers.
- The text of the lines is not read by SQLite: a line SQLite's JSON reader would refuse makes
  no difference (the rows are staged and copied); a line that says otherwise than the rows
  validated is not what the hub stores (test_merge_staging_attacks.py, test_merge_raw_attacks.py);
  answers whose line texts were not kept are staged, the checks overlapping them, all the same.
- Not staged, the answers are bound from Python (the rows validated stored all the same): a
  connection keeping TEMP tables in files (no answer in an unencrypted temporary file: where
  they live follows SQLite's table of the build's TEMP_STORE and the setting); a value
  the driver cannot bind leaves nothing staged; the staging leaves no transaction open, inside
  one or not.
- The staging table is dropped after a merge and after a refusal (the hub unchanged); a
  bundle whose answers the hub has (imported already) stages nothing.
- Python's garbage collector is off during a merge and as it was after it (refused or not).
"""

from __future__ import annotations

import gc
import json
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.storage import _merge_staging, bundle_merge
from respine_desktop.storage._driver import sqlite3
from respine_desktop.storage.bundle_merge import BUNDLE_COLUMNS, merge_bundle
from tests.storage.test_merge_fast_paths import _hub_and_rows, _lines, _merge, _stored_answers
from tests.support.encryption import encrypted_db, key_env

__all__ = ["key_env"]  # a fixture

_STAGED = "SELECT 1 FROM sqlite_temp_master WHERE name='merge_staged_answers'"


def _ordinary(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the batches of answers bound from Python (the ordinary path)."""
    calls: list[int] = []
    bound = bundle_merge._Merge._insert_answers

    def counted(self: Any, sql: str, batch: list[Any]) -> None:
        calls.append(len(batch))
        bound(self, sql, batch)

    monkeypatch.setattr(bundle_merge._Merge, "_insert_answers", counted)
    return calls


def stages_recorded(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """What each `_merge_staging.stage` call returned (True: the answers were staged)."""
    staged: list[bool] = []
    stage = _merge_staging.stage

    def recorded(*args: Any) -> bool:
        staged.append(stage(*args))
        return staged[-1]

    monkeypatch.setattr(_merge_staging, "stage", recorded)
    return staged


def test_the_answers_are_staged_outside_the_write_lock_and_copied_inside(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    seen: list[tuple[str, bool, object]] = []
    stage, insert = _merge_staging.stage, _merge_staging.insert

    def staged(conn: sqlite3.Connection, *args: Any) -> bool:
        done = stage(conn, *args)
        seen.append(("stage", conn.in_transaction, done))
        return done

    def copied(conn: sqlite3.Connection, columns: Any, known: Any) -> int:
        n = insert(conn, columns, known)
        seen.append(("insert", conn.in_transaction, n))
        return n

    monkeypatch.setattr(_merge_staging, "stage", staged)
    monkeypatch.setattr(_merge_staging, "insert", copied)
    ordinary = _ordinary(monkeypatch)
    _merge(hub, rows, _lines(rows["answers"]))
    assert seen == [("stage", False, True), ("insert", True, len(rows["answers"]))]
    assert ordinary == []
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    assert storage.verify_database(hub).ok


def test_a_temp_store_in_files_is_not_staged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    monkeypatch.setattr(_merge_staging, "_temp_in_memory", lambda conn: False)
    ordinary = _ordinary(monkeypatch)
    _merge(hub, rows, _lines(rows["answers"]))
    assert sum(ordinary) == len(rows["answers"])
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    assert storage.verify_database(hub).ok


@pytest.mark.parametrize(("setting", "in_memory"), [("FILE", False), ("MEMORY", True)])
def test_where_the_temp_tables_of_a_connection_live(setting: str, in_memory: bool) -> None:
    conn = sqlite3.connect(":memory:")
    try:
        conn.execute(f"PRAGMA temp_store={setting}")
        assert _merge_staging._temp_in_memory(conn) is in_memory
    finally:
        conn.close()


def test_the_text_of_the_lines_is_not_read_by_sqlite(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    ordinary = _ordinary(monkeypatch)
    lines = _lines(rows["answers"])
    lines[0] = lines[0].replace("[[", "[[}", 1)  # not JSON for SQLite (the rows are given)
    _merge(hub, rows, lines)
    assert ordinary == []  # staged and copied: the rows, not the text
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    assert storage.verify_database(hub).ok


@pytest.mark.parametrize(
    "value",
    [[1], {"a": 1}, 2**70, "\udc00", "a\ud83dz"],
    ids=["list", "object", "int beyond 64 bits", "lone low surrogate", "lone high surrogate"],
)
def test_a_value_the_driver_cannot_bind_leaves_nothing_staged(tmp_path: Path, value: Any) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    columns = BUNDLE_COLUMNS["answers"]
    changed = [list(r) for r in rows["answers"]]
    changed[-1][columns.index("reason")] = value  # the last row: the others were bound
    with storage.open_database(hub) as db:
        assert _merge_staging.stage(db.conn, columns, changed) is False
        assert db.conn.execute(_STAGED).fetchone() is None
        assert not db.conn.in_transaction
        # the valid rows are staged, every one
        assert _merge_staging.stage(db.conn, columns, rows["answers"]) is True
        n = db.conn.execute("SELECT count(*) FROM temp.merge_staged_answers").fetchone()[0]
        assert n == len(rows["answers"])
        _merge_staging.drop(db.conn)


def test_drop_ends_a_staging_left_open_by_an_interruption(tmp_path: Path) -> None:
    """An interruption just after the staging's SAVEPOINT (before its ``try``) leaves it open:
    `drop`, which the merge calls whatever happens, ends it; without one, it changes nothing."""
    hub, rows = _hub_and_rows(tmp_path)
    with storage.open_database(hub) as db:
        conn = db.conn
        conn.execute(f"CREATE TABLE {_merge_staging._TABLE} AS SELECT 1 AS x")
        conn.execute(f"SAVEPOINT {_merge_staging._SAVEPOINT}")
        conn.execute(f"INSERT INTO {_merge_staging._TABLE} VALUES (2)")
        assert conn.in_transaction
        _merge_staging.drop(conn)
        assert not conn.in_transaction
        assert conn.execute(_STAGED).fetchone() is None
        _merge_staging.drop(conn)  # nothing open, nothing staged: nothing done
        conn.execute("BEGIN")  # inside a transaction of the caller's, which it leaves open
        _merge_staging.drop(conn)
        assert conn.in_transaction
        conn.execute("ROLLBACK")
    _merge(hub, rows, _lines(rows["answers"]))  # the next merge works
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")


def test_the_staging_leaves_no_transaction_open_and_takes_no_lock_of_the_hub(
    tmp_path: Path,
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    columns = BUNDLE_COLUMNS["answers"]
    with storage.open_database(hub) as db, storage.open_database(hub) as other:
        other.conn.execute("PRAGMA busy_timeout=0")
        assert _merge_staging.stage(db.conn, columns, rows["answers"]) is True
        assert not db.conn.in_transaction
        other.conn.execute("BEGIN IMMEDIATE")  # the write lock is free
        other.conn.execute("ROLLBACK")
        # inside an open transaction too (a savepoint of it), which it leaves open
        db.conn.execute("BEGIN")
        assert _merge_staging.stage(db.conn, columns, rows["answers"]) is True
        assert db.conn.in_transaction
        other.conn.execute("BEGIN IMMEDIATE")  # still free: only the TEMP database was written
        other.conn.execute("ROLLBACK")
        db.conn.execute("ROLLBACK")
        _merge_staging.drop(db.conn)


def test_the_staged_rows_are_dropped_after_a_merge_and_after_a_refusal(tmp_path: Path) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    value = BUNDLE_COLUMNS["answers"].index("value")
    vas = next(n for n, r in enumerate(rows["answers"]) if r[value] not in (None, 100.0))
    changed = [list(r) for r in rows["answers"]]
    changed[vas][value] = round(changed[vas][value] + 0.1, 1)  # its digest no longer matches
    forged = {**rows, "answers": [tuple(r) for r in changed]}
    lines = _lines(forged["answers"])

    def source(table: str) -> Any:
        if table == "answers":
            member = _Member(forged[table])
            member.lines = lines
            return member
        return forged[table]

    with storage.open_database(hub) as db:
        with pytest.raises(storage.MergeRefused, match="do not match their digest"):
            merge_bundle(db, source, bundle={"bundle_id": "forged", "device_id": "kiosk"})
        assert db.conn.execute(_STAGED).fetchone() is None
        assert db.conn.execute("SELECT count(*) FROM answers").fetchone()[0] == 0
        forged = rows
        lines = _lines(rows["answers"])
        merge_bundle(db, source, bundle={"bundle_id": "test", "device_id": "kiosk"})
        assert db.conn.execute(_STAGED).fetchone() is None
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")


class _Member(list[Any]):
    lines: list[str]


@pytest.mark.parametrize("enabled", [True, False])
def test_the_garbage_collector_is_off_during_a_merge_and_as_it_was_after(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, enabled: bool
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    during: list[bool] = []
    stage = _merge_staging.stage

    def staged(*args: Any) -> bool:
        during.append(gc.isenabled())
        return stage(*args)

    monkeypatch.setattr(_merge_staging, "stage", staged)
    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        _merge(hub, rows, _lines(rows["answers"]))
        assert gc.isenabled() is enabled
        with pytest.raises(storage.MergeRefused):  # a refusal restores it too
            _merge(hub, {**rows, "sites": [("??", "x")]}, _lines(rows["answers"]))
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert during == [False]
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")


def test_a_bundle_imported_already_stages_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    _merge(hub, rows, _lines(rows["answers"]))
    calls: list[object] = []
    monkeypatch.setattr(_merge_staging, "stage", lambda *args: calls.append(args))
    _merge(hub, rows, _lines(rows["answers"]))  # every answer known: none to stage
    assert calls == []
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")


def test_an_encrypted_hub_stages_in_memory_and_its_files_show_no_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, key_env: Path
) -> None:
    _, rows = _hub_and_rows(tmp_path)
    hub = tmp_path / "secret-hub.db"
    encrypted_db(hub).close()
    staged = stages_recorded(monkeypatch)
    _merge(hub, rows, _lines(rows["answers"]))
    assert staged == [True]
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    item = BUNDLE_COLUMNS["answers"].index("item_id")
    secrets = {str(r[item]).encode() for r in rows["answers"]} | {b"SQLite format 3"}
    for path in tmp_path.glob("secret-hub.db*"):
        data = path.read_bytes()
        assert not [s for s in secrets if s in data], path


def test_answers_without_their_line_texts_are_staged_while_the_checks_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The staging binds the rows, not the lines' text: a member whose line texts are not
    kept (a line that parses only as bytes) is staged all the same, the checks overlapping it
    where they can (`meanwhile.start` asked to decide, fork=None), as with the texts."""
    from respine_desktop import meanwhile

    hub, rows = _hub_and_rows(tmp_path)
    asked: list[bool | None] = []
    real = meanwhile.start

    def start(fn: Any, *, fork: bool | None = None) -> Any:
        asked.append(fork)
        return real(fn, fork=fork)

    monkeypatch.setattr(meanwhile, "start", start)
    ordinary = _ordinary(monkeypatch)
    with storage.open_database(hub) as db:
        merge_bundle(db, lambda t: rows[t], bundle={"bundle_id": "test", "device_id": "kiosk"})
    assert asked == [None]
    assert ordinary == []  # staged and copied
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    assert storage.verify_database(hub).ok


class _Built:
    """A connection as seen by `_temp_in_memory`: its temp_store setting and SQLite's build."""

    def __init__(self, setting: int, built: str | None) -> None:
        self.setting, self.built = setting, built

    def execute(self, sql: str) -> Any:
        conn = sqlite3.connect(":memory:")  # a real cursor over these rows
        if sql == "PRAGMA temp_store":
            return conn.execute("SELECT ?", [self.setting])
        assert sql == "PRAGMA compile_options"
        built = ["THREADSAFE=1", *([self.built] if self.built else [])]
        return conn.execute("SELECT value FROM json_each(?)", [json.dumps(built)])


@pytest.mark.parametrize(
    ("built", "setting", "in_memory"),
    [
        # SQLite's table (pragma temp_store): what the build and the setting decide together
        ("TEMP_STORE=0", 0, False),
        ("TEMP_STORE=0", 1, False),
        ("TEMP_STORE=0", 2, False),  # files always: the setting is ignored
        ("TEMP_STORE=1", 0, False),
        ("TEMP_STORE=1", 1, False),
        ("TEMP_STORE=1", 2, True),
        (None, 2, True),  # (the default build: TEMP_STORE=1, not listed)
        (None, 0, False),
        ("TEMP_STORE=2", 0, True),
        ("TEMP_STORE=2", 1, False),
        ("TEMP_STORE=2", 2, True),
        ("TEMP_STORE=3", 0, True),
        ("TEMP_STORE=3", 1, True),  # memory always
        ("TEMP_STORE=3", 2, True),
    ],
)
def test_where_the_temp_tables_live_for_each_build(
    built: str | None, setting: int, in_memory: bool
) -> None:
    assert _merge_staging._temp_in_memory(_Built(setting, built)) is in_memory  # type: ignore[arg-type]
