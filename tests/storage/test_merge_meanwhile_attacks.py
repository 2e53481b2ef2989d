"""The merge's row checks run meanwhile (issue 12, `respine_desktop.meanwhile`), attacked.

Each test runs both ways (`tests/support/merge_modes`: the checks here, before the staging, or
in a forked child while this process stages and writes) and must give the same outcome:

- a bundle the validation refuses, merged while another program holds the hub's write lock:
  the validation's refusal is named (the checks' outcome is awaited first on any error), not
  the lock that could not be had; a person told to "try again" would retry a bundle that can
  never be merged.
- a valid bundle: nothing is committed before the checks passed (forked, they run beside the
  staging and the write, awaited inside the write's transaction, before its commit).
- a bundle the child refuses once this process has written every row: the write rolled back,
  the hub unchanged and its write lock free at once.
- the write lock held by another program when first asked for (at once): a bundle the checks
  refuse is refused without waiting for it, however patient the merge; a valid one awaits its
  checks, then waits for the lock and merges.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import meanwhile, storage
from respine_desktop.storage import bundle_merge
from respine_desktop.storage.bundle_merge import BUNDLE_COLUMNS, merge_bundle
from tests.storage import test_merge_raw_attacks as raw
from tests.storage.test_merge_fast_paths import _hub_and_rows, _lines, _Member
from tests.support.exports import table_digest
from tests.support.merge_modes import merge_mode

__all__ = ["merge_mode"]  # a fixture

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)

COLUMNS = BUNDLE_COLUMNS["answers"]


def _refused_bundle(tmp_path: Path) -> tuple[Path, dict[str, list[Sequence[Any]]], list[str]]:
    """A hub and a bundle's rows whose one VAS answer has the value 1000 (the validation
    refuses it; the merge stages it as any other)."""
    hub, rows = _hub_and_rows(tmp_path)
    answers = rows["answers"]
    target = next(n for n, r in enumerate(answers) if r[COLUMNS.index("vas_line_mm")] is not None)
    rows["answers"], lines = raw._member(raw._cell_lines(answers, target, "value", "1000"))
    return hub, rows, lines


def _merge(
    hub: Path,
    rows: dict[str, list[Sequence[Any]]],
    lines: list[str],
    *,
    busy_ms: int = 5000,
    lock_wait_s: float = 0,
    committed: Callable[[], None] = lambda: None,
) -> None:
    def source(table: str) -> list[Sequence[Any]]:
        return _Member(rows[table], lines) if table == "answers" else rows[table]

    with storage.open_database(hub) as db:
        db.conn.execute(f"PRAGMA busy_timeout={busy_ms}")
        merge_bundle(
            db,
            source,
            bundle={"bundle_id": "test", "device_id": "kiosk"},
            lock_wait_s=lock_wait_s,
            committed=committed,
        )


def test_a_refused_bundle_is_refused_for_itself_while_the_hub_is_locked(tmp_path: Path) -> None:
    hub, rows, lines = _refused_bundle(tmp_path)
    before = table_digest(hub)
    # another connection holds the write lock (through the same SQLite library: a process's
    # locks do not conflict across two copies of it)
    with storage.open_database(hub) as holder:
        holder.conn.execute("BEGIN IMMEDIATE")
        with pytest.raises(storage.MergeRefused) as caught:
            _merge(hub, rows, lines, busy_ms=50)
        holder.conn.execute("ROLLBACK")
    assert "field value" in str(caught.value), caught.value
    assert "locked" not in str(caught.value)
    assert table_digest(hub) == before


def test_nothing_is_committed_before_the_checks_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge_mode: str
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    events: list[str] = []
    result, transaction = meanwhile.Running.result, bundle_merge.transaction

    def checks_awaited(self: meanwhile.Running[Any]) -> Any:
        events.append("checks")
        return result(self)

    def write_lock(db: Any) -> Any:
        events.append("lock")
        return transaction(db)

    monkeypatch.setattr(meanwhile.Running, "result", checks_awaited)
    monkeypatch.setattr(bundle_merge, "transaction", write_lock)
    _merge(hub, rows, _lines(rows["answers"]), committed=lambda: events.append("commit"))
    assert events.count("lock") == 1 and events[-1] == "commit" and events.count("commit") == 1
    # the checks' outcome awaited inside the write's transaction, before its commit
    assert events[-2] == "checks" and events.index("lock") < len(events) - 2
    if merge_mode == "forked":  # the checks ran beside the write: awaited only there
        assert events == ["lock", "checks", "commit"]
    else:  # run here, before anything was staged; their outcome given again before the commit
        assert events == ["checks", "lock", "checks", "commit"]
    assert storage.verify_database(hub).ok


def test_a_refusal_of_the_checks_once_every_row_is_written_rolls_the_write_back(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge_mode: str
) -> None:
    """Forked, the child's refusal reaches the merge once its rows are all written inside the
    write's transaction: it is rolled back, the hub unchanged, its write lock free at once.
    Here, the same refusal comes before anything is staged or written."""
    hub, rows, lines = _refused_bundle(tmp_path)
    before = table_digest(hub)
    events: list[str] = []
    write_rows = bundle_merge._write_rows

    def written(db: Any, *args: Any, **kwargs: Any) -> None:
        write_rows(db, *args, **kwargs)
        events.append("written")
        count = db.conn.execute("SELECT count(*) FROM answers").fetchone()[0]
        assert count == len(rows["answers"])  # every row in, not committed

    monkeypatch.setattr(bundle_merge, "_write_rows", written)
    with pytest.raises(storage.MergeRefused, match="field value") as caught:
        _merge(hub, rows, lines, committed=lambda: events.append("commit"))
    assert events == (["written"] if merge_mode == "forked" else []), caught.value
    assert table_digest(hub) == before
    with storage.open_database(hub) as db:
        db.conn.execute("PRAGMA busy_timeout=0")  # the lock was released with the rollback
        storage.log_event(db, "kiosk.heartbeat", entity="kiosk", payload={})
        assert db.conn.execute("SELECT count(*) FROM answers").fetchone()[0] == 0
    assert storage.verify_database(hub).ok


def _lock_attempts(monkeypatch: pytest.MonkeyPatch, then: Callable[[], None]) -> list[int]:
    """The busy timeout (ms) of each attempt the merge makes at the write lock; `then` is
    called after each attempt that found the lock held."""
    waits: list[int] = []
    transaction = bundle_merge.transaction

    @contextmanager
    def attempt(db: Any) -> Iterator[None]:
        waits.append(int(db.conn.execute("PRAGMA busy_timeout").fetchone()[0]))
        try:
            with transaction(db):
                yield
        except storage.WriteFailed:
            then()
            raise

    monkeypatch.setattr(bundle_merge, "transaction", attempt)
    return waits


def test_a_bundle_the_checks_refuse_is_not_kept_waiting_for_a_held_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, merge_mode: str
) -> None:
    """The lock is asked for at once; held by another program, the checks run meanwhile are
    awaited before any wait for it: their refusal comes at once, however patient the merge."""
    hub, rows, lines = _refused_bundle(tmp_path)
    before = table_digest(hub)
    waits = _lock_attempts(monkeypatch, lambda: None)
    with storage.open_database(hub) as holder:
        holder.conn.execute("BEGIN IMMEDIATE")
        with pytest.raises(storage.MergeRefused, match="field value") as caught:
            _merge(hub, rows, lines, busy_ms=600_000, lock_wait_s=600)
        holder.conn.execute("ROLLBACK")
    assert "locked" not in str(caught.value)
    assert waits == ([0] if merge_mode == "forked" else [])  # never waited for the lock
    assert table_digest(hub) == before


def test_a_valid_bundle_waits_for_a_held_lock_once_its_checks_passed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock held when first asked for (at once): released then, the merge awaits its
    checks and asks again, patiently this time, and merges."""
    hub, rows = _hub_and_rows(tmp_path)
    with storage.open_database(hub) as holder:
        holder.conn.execute("BEGIN IMMEDIATE")

        def release() -> None:
            if holder.conn.in_transaction:
                holder.conn.execute("ROLLBACK")

        waits = _lock_attempts(monkeypatch, release)
        _merge(hub, rows, _lines(rows["answers"]), busy_ms=600_000, lock_wait_s=600)
    assert waits[0] == 0 and len(waits) == 2 and waits[1] > 500_000
    assert storage.verify_database(hub).ok


def test_an_interruption_at_the_commit_reaches_the_caller_once_it_was_told(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A Ctrl-C arriving as the write commits is held back until `committed` has run, then
    raised: a caller that does not ignore it then is interrupted knowing the bundle is in."""
    hub, rows = _hub_and_rows(tmp_path)
    events: list[str] = []
    transaction = bundle_merge.transaction

    @contextmanager
    def interrupted_once_committed(db: Any) -> Iterator[None]:
        with transaction(db):
            yield
        os.kill(os.getpid(), signal.SIGINT)
        events.append("interrupted")

    monkeypatch.setattr(bundle_merge, "transaction", interrupted_once_committed)
    with pytest.raises(KeyboardInterrupt):
        _merge(hub, rows, _lines(rows["answers"]), committed=lambda: events.append("told"))
    assert events == ["interrupted", "told"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    assert storage.verify_database(hub).ok
    with storage.open_database(hub, readonly=True) as db:
        count = db.conn.execute("SELECT count(*) FROM answers").fetchone()[0]
    assert count == len(rows["answers"])  # merged
