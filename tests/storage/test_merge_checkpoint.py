"""A merge's commit is followed by its WAL checkpoint, made by the merge itself after the write
lock is released (SQLite's automatic checkpoint turned off for the merge's transaction, so that
the lock-held time it reports is the time the lock is held), and the connection's automatic
checkpoint setting is restored."""

from __future__ import annotations

from pathlib import Path

from respine_desktop import storage
from respine_desktop.storage.bundle_merge import merge_bundle
from tests.storage.test_merge_fast_paths import _hub_and_rows, _lines, _Member, _stored_answers


def test_the_merged_pages_are_checkpointed_into_the_file_and_the_setting_restored(
    tmp_path: Path,
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    before = hub.stat().st_size
    with storage.open_database(hub) as db:
        db.conn.execute("PRAGMA wal_autocheckpoint=777")
        result = merge_bundle(
            db,
            lambda t: _Member(rows[t], _lines(rows[t])) if t == "answers" else rows[t],
            bundle={"bundle_id": "test", "device_id": "kiosk"},
        )
        # copied into the database file while the connection is still open (not at its close)
        assert hub.stat().st_size > before
        assert db.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 777
        assert result.lock_held_s > 0
        # the write step holds the lock, then checkpoints (bench/merge.py's bound reads it)
        assert result.write_s > result.lock_held_s
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    assert storage.verify_database(hub).ok
