"""A kiosk process writing to the hub while a bundle is imported into it: neither fails.

The import prepares without the write lock (`_merge_prepare`), then holds it for one short
transaction (all or nothing); a writer arriving meanwhile waits (busy timeout) and then writes,
and no write is lost. The writer is a real child process writing through the storage API, one
transaction per event, as the kiosk does. Also: the hub's chain heads moving between the
preparation and the write (the preparation is redone), and a write lock held by another process
past the merge's patience (one line, nothing written)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import demo, exports, meanwhile, storage
from respine_desktop.storage import bundle_merge
from tests.support.exports import (
    DATA_TABLES,
    controlled_clock,
    demo_db,
    env,
    export,
    install,
    merge,
    table_digest,
)
from tests.support.storage import ADMIN_PIN

WRITER = """
import json, sys
from pathlib import Path
from respine_desktop import storage
hub, stop = Path(sys.argv[1]), Path(sys.argv[2])
written, errors = 0, []
with storage.open_database(hub) as db:
    while not stop.exists():
        try:
            storage.log_event(db, "kiosk.heartbeat", entity="kiosk", payload={"n": written})
            written += 1
        except storage.StorageError as exc:
            errors.append(str(exc))
        if written == 1:
            print("ready", flush=True)  # the parent waits on this line
print(json.dumps({"written": written, "errors": errors}))
"""


def kiosk_writer(hub: Path, stop: Path) -> subprocess.Popen[str]:
    """A kiosk process writing one event after another into `hub` (`WRITER`) until `stop`
    exists; it says "ready" on its stdout once its first event is committed."""
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(hub), str(stop)],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.req("BUN-05")
def test_a_kiosk_writing_during_an_import_never_sees_a_locked_database(tmp_path: Path) -> None:
    demo_db(tmp_path / "kiosk.db", subjects=12)
    with controlled_clock():
        with storage.create_database(tmp_path / "hub.db", admin_pin=ADMIN_PIN) as hub:
            exports.write_key_file(hub, tmp_path / "site.key")
        install(tmp_path / "kiosk.db", tmp_path / "site.key")
        export(tmp_path / "kiosk.db", tmp_path / "kiosk.bundle")
    stop = tmp_path / "stop"
    writer = kiosk_writer(tmp_path / "hub.db", stop)
    try:
        assert writer.stdout is not None
        # Blocks until the writer has committed its first event (or ends: then "" and its error).
        first = writer.stdout.readline()
        assert first == "ready\n", writer.stderr.read() if writer.stderr else first
        with storage.open_database(tmp_path / "hub.db") as db:
            before = int(
                db.conn.execute(
                    "SELECT count(*) FROM audit_log WHERE action='kiosk.heartbeat'"
                ).fetchone()[0]
            )
        summary = merge(tmp_path / "hub.db", tmp_path / "kiosk.bundle")
        with storage.open_database(tmp_path / "hub.db") as db:
            during = int(
                db.conn.execute(
                    "SELECT count(*) FROM audit_log WHERE action='kiosk.heartbeat'"
                ).fetchone()[0]
            )
    finally:
        stop.write_text("stop")
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    report = json.loads(out)
    assert report["errors"] == []
    assert during > before  # the kiosk went on writing around the import
    with storage.open_database(tmp_path / "hub.db") as db:
        kept = db.conn.execute(
            "SELECT count(*) FROM audit_log WHERE action='kiosk.heartbeat'"
        ).fetchone()[0]
    assert kept == report["written"]  # every write the kiosk made is there: none lost
    assert summary.result.inserted["subjects"] == 12
    assert storage.verify_database(tmp_path / "hub.db").ok


def _kiosk_and_hub(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A kiosk's two bundles, the first (3 subjects) a prefix of the second (5), and an empty
    hub holding the site key."""
    demo_db(tmp_path / "kiosk.db", subjects=3)
    with controlled_clock():
        with storage.create_database(tmp_path / "hub.db", admin_pin=ADMIN_PIN) as hub:
            exports.write_key_file(hub, tmp_path / "site.key")
        install(tmp_path / "kiosk.db", tmp_path / "site.key")
        export(tmp_path / "kiosk.db", tmp_path / "first.bundle")
        with storage.open_database(tmp_path / "kiosk.db") as db:
            demo.generate(db, subjects=2, first=4, seed=2)
        export(tmp_path / "kiosk.db", tmp_path / "second.bundle")
    return tmp_path / "hub.db", tmp_path / "first.bundle", tmp_path / "second.bundle"


def test_heads_moved_between_preparation_and_write_redo_the_preparation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, first, second = _kiosk_and_hub(tmp_path)
    write = bundle_merge._write
    calls: list[int] = []

    def another_import_first(*args: Any, **kwargs: Any) -> bundle_merge.MergeResult:
        # Between the preparation of `second` and its write, another connection imports
        # `first` (the same kiosk's earlier bundle): the kiosk's chain head on the hub moves.
        calls.append(1)
        if len(calls) == 1:
            merge(hub, first)
        return write(*args, **kwargs)

    monkeypatch.setattr(bundle_merge, "_write", another_import_first)
    summary = merge(hub, second)
    # `second`'s write, `first`'s (through the same function), then `second`'s again
    assert len(calls) == 3 and summary.result.redone == 1
    assert summary.result.inserted["subjects"] == 2  # the 3 of `first` were there already
    assert summary.result.unchanged["subjects"] == 3
    with storage.open_database(hub) as db:
        assert storage.counts(db).subjects == 5
    assert storage.verify_database(hub).ok


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="a child is forked on Linux only")
@pytest.mark.parametrize("refused", [False, True], ids=["passing", "refused by the redo"])
def test_heads_moved_then_the_checks_child_killed_the_redone_checks_run_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, refused: bool
) -> None:
    """The heads move between the preparation and the write (the preparation is redone, its
    deferred checks with it), and the checks' child is killed before its outcome is read: the
    checks run again here, on the redone preparation, with the outcome a merge without a child
    gives (a bundle merged; or, when the redo's checks refuse, that refusal, nothing written)."""
    hub, first, second = _kiosk_and_hub(tmp_path)
    children: list[Any] = []
    ran_here: list[int] = []
    real_start, real_here = meanwhile.start, meanwhile.Running._run_here

    def forked(fn: Any, *, fork: bool | None = None) -> Any:
        running = real_start(fn, fork=True if fork is None else fork)
        children.append(running)
        return running

    def here(self: Any) -> None:
        ran_here.append(1)
        real_here(self)

    # `second`'s child blocks before its checks (a pipe nobody writes to) until it is killed,
    # so that its outcome is surely lost; run here (or in `first`'s child), they run as they are
    parent, (never, _) = os.getpid(), os.pipe()
    check_rows = bundle_merge._check_rows

    def blocked_in_the_child(*args: Any) -> None:
        if os.getpid() != parent and not children:  # (the first child: none started before)
            os.read(never, 1)
        check_rows(*args)

    monkeypatch.setattr(bundle_merge, "_check_rows", blocked_in_the_child)
    write = bundle_merge._write
    calls: list[int] = []

    def another_import_then_child_killed(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            merge(hub, first)  # the kiosk's head moves on the hub
            child = children[0]
            assert child.forked
            os.kill(child._pid, signal.SIGKILL)  # dies with no outcome sent
        return write(*args, **kwargs)

    if refused:
        # the redo's own deferred checks refuse (as a check of the hub moved meanwhile may)
        real_check = bundle_merge.check_against_hub

        def redo_refuses(db: Any, prepared: Any, devices: Any, *, defer: bool = False) -> None:
            real_check(db, prepared, devices, defer=defer)
            if not defer:  # the redo (the first preparation defers)
                prepared.deferred.append(_refuse)

        monkeypatch.setattr(bundle_merge, "check_against_hub", redo_refuses)
    monkeypatch.setattr(meanwhile, "start", forked)
    monkeypatch.setattr(meanwhile.Running, "_run_here", here)
    monkeypatch.setattr(bundle_merge, "_write", another_import_then_child_killed)
    if refused:
        with pytest.raises(exports.BundleError, match="refused: redo refused"):
            merge(hub, second)
        assert ran_here == [1]  # the checks ran again here: the redo's refusal among them
        with storage.open_database(hub) as db:
            assert storage.counts(db).subjects == 3  # `first` alone: nothing of `second`
    else:
        summary = merge(hub, second)
        assert summary.result.redone == 1
        assert ran_here == [1]  # the child's checks ran again here (its outcome lost)
        assert summary.result.inserted["subjects"] == 2
        with storage.open_database(hub) as db:
            assert storage.counts(db).subjects == 5
    assert len(calls) == 3  # `second`'s write, `first`'s, `second`'s again
    assert storage.verify_database(hub).ok


def _refuse() -> None:
    raise bundle_merge.MergeRefused("redo refused")


HOLDER = """
import sys
from pathlib import Path
from respine_desktop import storage
hub, stop = Path(sys.argv[1]), Path(sys.argv[2])
with storage.open_database(hub) as db:
    db.conn.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    while not stop.exists():
        pass
    db.conn.execute("ROLLBACK")
"""


def _lock_holder(hub: Path, stop: Path) -> subprocess.Popen[str]:
    """Another process holding the hub's write lock (returned once it holds it) until `stop`
    exists."""
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(hub), str(stop)],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert holder.stdout is not None and holder.stdout.readline() == "locked\n"
    return holder


def test_a_write_lock_held_past_the_merges_patience_refuses_in_one_line_nothing_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, first, _ = _kiosk_and_hub(tmp_path)
    stop = tmp_path / "stop"
    holder = _lock_holder(hub, stop)
    try:
        before = table_digest(hub, DATA_TABLES)
        monkeypatch.setattr(bundle_merge, "LOCK_WAIT_S", 1.0)  # 1 s, then give up
        with pytest.raises(exports.BundleError) as caught:
            merge(hub, first)
    finally:
        stop.write_text("stop")
        holder.communicate(timeout=60)
    message = str(caught.value)
    assert "\n" not in message
    assert "stayed locked by another program" in message and "nothing was imported" in message
    assert table_digest(hub, DATA_TABLES) == before
    assert merge(hub, first).result.inserted["subjects"] == 3  # once the lock is free: merged


ONE_WRITE = """
import sys
from pathlib import Path
from respine_desktop import storage
with storage.open_database(Path(sys.argv[1])) as db:
    print("opened", flush=True)
    storage.log_event(db, "kiosk.heartbeat", entity="kiosk", payload={"n": 1})
print("written", flush=True)
"""


@pytest.mark.req("BUN-05")
def test_a_kiosk_outwaits_a_write_lock_held_longer_than_sqlites_usual_5_s(tmp_path: Path) -> None:
    """A bundle import's write step held the lock 4.8-5.1 s for a 50 MB bundle on a busy
    machine (bench/merge.py --subjects 3500): a kiosk writing meanwhile, with SQLite's usual 5 s
    busy timeout, would have failed as locked. Its write waits (`BUSY_TIMEOUT_MS`) and is kept."""
    hub, _, _ = _kiosk_and_hub(tmp_path)
    stop = tmp_path / "stop"
    holder = _lock_holder(hub, stop)
    writer = None
    try:
        writer = subprocess.Popen(
            [sys.executable, "-c", ONE_WRITE, str(hub)],
            env=env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert writer.stdout is not None and writer.stdout.readline() == "opened\n"
        # still waiting for the lock well past 5 s: neither written nor failed
        with pytest.raises(subprocess.TimeoutExpired):
            writer.wait(timeout=6)
    finally:
        stop.write_text("stop")
        holder.communicate(timeout=60)
        if writer is not None:
            out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    assert out == "written\n" and "locked" not in err
    with storage.open_database(hub) as db:
        assert (
            db.conn.execute(
                "SELECT count(*) FROM audit_log WHERE action='kiosk.heartbeat'"
            ).fetchone()[0]
            == 1
        )
    assert storage.verify_database(hub).ok


def test_scores_grown_between_preparation_and_write_are_checked_again_under_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, first, _ = _kiosk_and_hub(tmp_path)
    checked: list[int] = []
    check = bundle_merge.check_scores

    def spy(db: storage.StudyDb, sessions: list[str]) -> None:
        checked.append(len(sessions))
        check(db, sessions)

    # The stamp read under the lock differs from the preparation's: the hub's answers or
    # scores grew meanwhile, so the preparation's score check no longer holds.
    monkeypatch.setattr(bundle_merge, "check_scores", spy)
    monkeypatch.setattr(bundle_merge, "score_stamp", lambda db: (-1, -1))
    summary = merge(hub, first)
    assert checked and checked[0] == summary.result.rows["sessions"] > 0
    assert storage.verify_database(hub).ok


def test_without_a_change_meanwhile_the_scores_are_not_recomputed_under_the_lock(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, first, _ = _kiosk_and_hub(tmp_path)
    checked: list[int] = []
    monkeypatch.setattr(bundle_merge, "check_scores", lambda db, s: checked.append(len(s)))
    summary = merge(hub, first)
    assert checked == [] and summary.result.inserted["scores"] > 0
    assert storage.verify_database(hub).ok
