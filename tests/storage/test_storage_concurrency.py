"""Two processes writing to one database at once (kiosk and staff console) never fail as locked."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from respine_desktop import clock, storage
from tests.support.storage import ROOT, env, fixed_clock, new_db

WRITER = """
import sys
from datetime import date
from respine_desktop import storage
from respine_desktop.instruments import load_instrument

db = storage.open_database(sys.argv[1])
staff = storage.get_staff(db, "coord")
first, count = int(sys.argv[2]), int(sys.argv[3])
items = load_instrument("odi").items
print("ready", flush=True)
sys.stdin.readline()  # both start writing at the same moment
for n in range(first, first + count):
    code = f"RSP-01-{n:03d}"
    storage.register_subject(db, code, day0=date.fromisoformat(sys.argv[4]), staff=staff)
    s = storage.start_session(db, code, "M0", staff=staff)
    for item in items:
        storage.record_answer(db, s.id, item.id, n % 6, language="en")
    storage.park_session(db, s.id, position=11)
print("done", flush=True)
"""


@pytest.mark.req("DB-08")
def test_two_writers_at_once_do_not_fail(tmp_path: Path) -> None:
    path = tmp_path / "shared.db"
    fixed_clock()
    try:
        new_db(path).close()
    finally:
        clock.set_clock(None)
    day0 = storage_today()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), str(first), "25", day0],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env(),
        )
        for first in (1, 101)
    ]
    for w in writers:
        assert w.stdout is not None and w.stdout.readline().strip() == "ready"
    for w in writers:
        assert w.stdin is not None
        w.stdin.write("go\n")
        w.stdin.flush()
    # A reader verifying at the same time sees a consistent snapshot each time.
    for _ in range(3):
        result = storage.verify_database(path)
        assert result.ok, result.message
    outcomes = [w.communicate(timeout=120) for w in writers]
    for w, (out, err) in zip(writers, outcomes, strict=True):
        assert "locked" not in err
        assert w.returncode == 0, err
        assert out.strip() == "done"
    with storage.open_database(path) as db:
        counts = storage.counts(db)
        assert counts.subjects == 50 and counts.sessions.parked == 50
        assert counts.answers == 50 * 10
    assert storage.verify_database(path).ok


def storage_today() -> str:
    from respine_desktop import schedule

    return schedule.today().isoformat()
