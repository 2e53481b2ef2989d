"""review13: the merge's new order (issue 12) attacked with real processes.

The command line's merge runs the rows' checks in a forked child while it stages and writes
every row inside the write transaction, and awaits the child's outcome just before the commit.
Here a real ``python main.py import bundle`` is held at that point (its child blocked on a pipe
the test holds, the merging process past its last row, inside the transaction):

- Ctrl-C to its process group, SIGTERM to it alone or to its group: one line, exit 130, the hub's
  tables as they were, no entry of the kiosk, no ``bundle.imported``, no receipt, the hub
  verifies, the child gone, the write lock free;
- the child killed (SIGKILL): the merging process runs the checks itself, inside the same
  transaction: a valid bundle is merged (and verifies), a bundle the checks refuse is refused
  with the line of a merge whose checks ran in line, the hub unchanged;
- the merging process killed there (SIGKILL): nothing committed, the hub verifies, its lock
  free; its child ends once its checks do;
- meanwhile another connection (a kiosk reading the hub) sees none of the bundle's rows, and a
  kiosk process writing waits, then loses none of its writes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import storage
from tests.exports.test_bundle_forged import forge, set_value
from tests.storage.test_merge_concurrency import kiosk_writer
from tests.support.cli import ROOT, env, signed_in
from tests.support.exports import (
    DATA_TABLES,
    TODAY,
    do_visit,
    export,
    hub_and_kiosks,
    table_digest,
)
from tests.support.processes import process_ended
from tests.support.storage import coord

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forks on Linux")

# `python main.py ARGV...` with the merge's row checks held in the child (it says its pid on
# the events pipe, then reads the hold pipe: blocked until the test writes or closes it) and the
# merging process saying when every row is written (inside the write's transaction).
_HELD = textwrap.dedent(
    """
    import os, sys
    from respine_desktop.storage import bundle_merge

    events, hold = int(sys.argv[1]), int(sys.argv[2])
    parent = os.getpid()
    check_rows, write_rows = bundle_merge._check_rows, bundle_merge._write_rows

    def held(*args):
        if os.getpid() != parent:
            os.write(events, f"child {os.getpid()}\\n".encode())
            os.read(hold, 1)
        else:
            os.write(events, b"checked here\\n")
        return check_rows(*args)

    def written(*args, **kwargs):
        write_rows(*args, **kwargs)
        os.write(events, b"written\\n")

    from respine_desktop import meanwhile

    result = meanwhile.Running.result

    def awaited(self):
        os.write(events, b"awaiting\\n")
        return result(self)

    bundle_merge._check_rows = held
    bundle_merge._write_rows = written
    meanwhile.Running.result = awaited
    sys.path.insert(0, os.getcwd())
    import main

    sys.exit(main.main(sys.argv[3:]))
    """
)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """An empty hub and a kiosk's bundle (`k.bundle`: one subject, two visits done); the same
    bundle forged with a VAS answer of 1000 (`bad.bundle`: the validation refuses it)."""
    root = tmp_path_factory.mktemp("review13")
    with hub_and_kiosks(root) as (_hub, a, _b, c):
        day0 = TODAY - timedelta(days=100)
        with storage.open_database(a) as db:
            for n in range(3):
                code = f"RSP-01-0{40 + n}"
                storage.register_subject(db, code, day0=day0, staff=coord(db))
                do_visit(db, c, code, "M0", day0, vas=60.0, odi=3, sf36=3)
                do_visit(db, c, code, "M1", day0 + timedelta(days=30), vas=40.0, odi=2, sf36=2)
        export(a, root / "k.bundle")
    forge(
        root / "k.bundle",
        root / "site.key",
        root / "bad.bundle",
        set_value("answers", "value", 1000.0, item_id="vas_pain"),
    )
    yield root


@pytest.fixture
def hub(site: Path, tmp_path: Path) -> Path:
    shutil.copy(site / "hub.db", tmp_path / "hub.db")
    return tmp_path / "hub.db"


class Held:
    """A real ``import bundle`` whose row checks are held in its child."""

    def __init__(self, hub: Path, bundle: Path, receipt: Path) -> None:
        argv, pin = signed_in(["import", "bundle", "--db", hub, bundle, "--receipt", receipt])
        events_read, events_write = os.pipe()
        self.hold_read, self.hold_write = os.pipe()
        self.process = subprocess.Popen(
            [sys.executable, "-c", _HELD, str(events_write), str(self.hold_read), *argv],
            cwd=ROOT,
            env=env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            pass_fds=(events_write, self.hold_read),
            start_new_session=True,  # its own process group, as a terminal's job
        )
        os.close(events_write)
        os.close(self.hold_read)
        self.events = os.fdopen(events_read, "r")
        assert self.process.stdin is not None
        self.process.stdin.write(pin or "")
        self.process.stdin.flush()
        self.child = 0
        self.more: list[str] = []

    def inside_the_transaction(self) -> None:
        """Returns once the child checks (held) and every row is written, not committed."""
        self.wait_for("written")

    def wait_for(self, event: str) -> list[str]:
        """Returns once the child checks (held) and the merging process said `event`: its
        events so far."""
        seen: list[str] = []
        while not (self.child and event in seen):
            line = self.events.readline()
            assert line, (seen, self.process.communicate(timeout=60))
            seen.append(line.strip())
            if line.startswith("child "):
                self.child = int(line.split()[1])
        return seen

    def end(self) -> tuple[int, str, str]:
        """The command's exit code, stdout and stderr; `more` its events after the write (but
        the awaits of its checks)."""
        stdout, stderr = self.process.communicate(timeout=120)
        os.close(self.hold_write)
        with self.events:
            self.more = [e for e in map(str.strip, self.events) if e != "awaiting"]
        return self.process.returncode, stdout, stderr


def _kiosk_entries(hub: Path) -> tuple[int, int]:
    """Audit entries of any device but the hub's own, and ``bundle.imported`` entries."""
    conn = sqlite3.connect(f"file:{hub}?mode=ro", uri=True)
    try:
        (own,) = conn.execute("SELECT value FROM settings WHERE key='device_id'").fetchone()
        foreign = conn.execute("SELECT count(*) FROM audit_log WHERE device_id<>?", [own])
        imported = conn.execute("SELECT count(*) FROM audit_log WHERE action='bundle.imported'")
        return int(foreign.fetchone()[0]), int(imported.fetchone()[0])
    finally:
        conn.close()


def _lock_free(hub: Path) -> None:
    conn = sqlite3.connect(hub, timeout=0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("ROLLBACK")
    finally:
        conn.close()


def _unchanged(hub: Path, before: str, receipt: Path) -> None:
    assert table_digest(hub, DATA_TABLES) == before
    assert _kiosk_entries(hub) == (0, 0)
    assert not receipt.exists()
    assert storage.verify_database(hub).ok
    _lock_free(hub)


@pytest.mark.parametrize(
    ("sig", "group"), [(signal.SIGINT, True), (signal.SIGTERM, False), (signal.SIGTERM, True)]
)
def test_an_import_interrupted_inside_its_write_while_its_child_checks(
    site: Path, hub: Path, tmp_path: Path, sig: signal.Signals, group: bool
) -> None:
    before = table_digest(hub, DATA_TABLES)
    receipt = tmp_path / "receipt.json"
    held = Held(hub, site / "k.bundle", receipt)
    held.inside_the_transaction()
    # meanwhile a kiosk reading the hub sees none of the bundle's rows (nor waits)
    reader = sqlite3.connect(f"file:{hub}?mode=ro", uri=True, timeout=0)
    try:
        assert reader.execute("SELECT count(*) FROM subjects").fetchone()[0] == 0
        assert reader.execute("SELECT count(*) FROM answers").fetchone()[0] == 0
    finally:
        reader.close()
    if group:
        os.killpg(held.process.pid, sig)
    else:
        held.process.send_signal(sig)
    code, stdout, stderr = held.end()
    assert code == 130, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1 and "interrupted" in lines[0], stderr
    assert "Traceback" not in stderr and stdout == ""
    assert process_ended(held.child, within=60), f"child {held.child} goes on"
    _unchanged(hub, before, receipt)


def _killed_child(hub: Path, bundle: Path, receipt: Path) -> tuple[int, str, str, list[str]]:
    held = Held(hub, bundle, receipt)
    held.inside_the_transaction()
    os.kill(held.child, signal.SIGKILL)
    code, stdout, stderr = held.end()
    assert process_ended(held.child, within=60)
    return code, stdout, stderr, held.more


def test_a_child_killed_while_the_write_awaits_it_has_the_checks_run_here(
    site: Path, hub: Path, tmp_path: Path
) -> None:
    receipt = tmp_path / "receipt.json"
    code, stdout, stderr, events = _killed_child(hub, site / "k.bundle", receipt)
    assert code == 0, stderr
    assert events == ["checked here"]  # inside the same transaction, then committed
    assert "Traceback" not in stderr and "imported bundle" in stderr
    assert "new 3 subjects" in stdout and receipt.exists()
    foreign, imported = _kiosk_entries(hub)
    assert foreign > 0 and imported == 1
    assert storage.verify_database(hub).ok
    _lock_free(hub)


def test_a_refused_bundle_whose_child_is_killed_is_refused_here_alike(
    site: Path, hub: Path, tmp_path: Path
) -> None:
    before = table_digest(hub, DATA_TABLES)
    receipt = tmp_path / "receipt.json"
    code, stdout, stderr, events = _killed_child(hub, site / "bad.bundle", receipt)
    assert code == 2, stderr
    assert events == ["checked here"]
    lines = stderr.splitlines()
    assert len(lines) == 1 and "field value: vas_pain: answer 1000" in lines[0], stderr
    assert "Traceback" not in stderr and stdout == ""
    _unchanged(hub, before, receipt)


def test_a_refused_bundle_is_refused_by_its_child_inside_the_write(
    site: Path, hub: Path, tmp_path: Path
) -> None:
    """The same bundle with its child let go: its refusal reaches the write after every row is
    written (the line and the hub as above)."""
    before = table_digest(hub, DATA_TABLES)
    receipt = tmp_path / "receipt.json"
    held = Held(hub, site / "bad.bundle", receipt)
    held.inside_the_transaction()
    os.write(held.hold_write, b"x")
    code, stdout, stderr = held.end()
    assert code == 2, stderr
    assert held.more == [] and stdout == ""  # checked in the child only
    lines = stderr.splitlines()
    assert len(lines) == 1 and "field value: vas_pain: answer 1000" in lines[0], stderr
    assert process_ended(held.child, within=60)
    _unchanged(hub, before, receipt)


def test_a_kiosk_writing_while_the_import_awaits_its_child_loses_nothing(
    site: Path, hub: Path, tmp_path: Path
) -> None:
    """A kiosk process writes one event after another while the import awaits its held child
    (inside its write transaction, the lock held, or before the lock when the kiosk had it):
    the kiosk waits, then every event is written, none refused; the bundle merged, verified."""
    stop = tmp_path / "stop"
    writer = kiosk_writer(hub, stop)
    try:
        assert writer.stdout is not None
        assert writer.stdout.readline() == "ready\n", writer.communicate(timeout=60)
        held = Held(hub, site / "k.bundle", tmp_path / "receipt.json")
        # the merge awaits its child: inside its transaction ("written" first), or before the
        # lock when its first attempt found the kiosk's transaction (busy: checks first)
        held.wait_for("awaiting")
        os.write(held.hold_write, b"x")  # the child checks, the import commits
        code, _, stderr = held.end()
        assert code == 0, stderr
    finally:
        stop.touch()
        out, err = writer.communicate(timeout=120)
    summary = json.loads(out.splitlines()[-1])
    assert summary["errors"] == [], err
    conn = sqlite3.connect(f"file:{hub}?mode=ro", uri=True)
    try:
        (beats,) = conn.execute(
            "SELECT count(*) FROM audit_log WHERE action='kiosk.heartbeat'"
        ).fetchone()
    finally:
        conn.close()
    assert beats == summary["written"] > 1
    assert _kiosk_entries(hub)[1] == 1
    assert storage.verify_database(hub).ok


def test_an_import_killed_inside_its_write_leaves_the_hub_as_it_was(
    site: Path, hub: Path, tmp_path: Path
) -> None:
    """The merging process killed (SIGKILL: a power cut of the program) while it awaits its
    child inside the write transaction: the rows it wrote were never committed (the hub as it
    was, verified, its lock free); the child, once its checks end, finds no one to tell and
    ends (no process left behind)."""
    before = table_digest(hub, DATA_TABLES)
    receipt = tmp_path / "receipt.json"
    held = Held(hub, site / "k.bundle", receipt)
    held.inside_the_transaction()
    held.process.kill()
    held.process.wait(timeout=60)
    _unchanged(hub, before, receipt)
    os.write(held.hold_write, b"x")  # the child's checks go on, then it has no one to tell
    code, _, _ = held.end()
    assert code == -signal.SIGKILL
    assert process_ended(held.child, within=60), f"child {held.child} goes on"
