"""Crash safety: a child writing answers is killed with SIGKILL at random points, many times.

After every kill the reopened database must pass `verify` and hold every answer whose
`record_answer` call had returned (the child prints the answer id only after the call returns).
"""

from __future__ import annotations

import random
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from respine_desktop import clock, storage
from tests.support.storage import ROOT, TODAY, coord, env, fixed_clock, new_db

CHILD = """
import random, sys
from respine_desktop import storage
from respine_desktop.instruments import load_instruments

db = storage.open_database(sys.argv[1])
session_id = sys.argv[2]
rng = random.Random(int(sys.argv[3]))
items = [i for inst in load_instruments().values() for i in inst.items]
print("ready", flush=True)
while True:
    item = rng.choice(items)
    if rng.random() < 0.1:
        value = storage.SKIPPED
    elif item.type == "vas":
        value = round(rng.uniform(0, 100), 1)
    else:
        value = rng.choice(item.codes)
    answer = storage.record_answer(db, session_id, item.id, value, language="en",
                                   position=rng.randrange(47))
    print(answer.id, flush=True)
"""

ROUNDS = 24


@pytest.mark.req("DB-05")
def test_answers_that_were_returned_survive_sigkill(tmp_path: Path) -> None:
    path = tmp_path / "crash.db"
    fixed_clock()
    try:
        with new_db(path) as db:
            storage.register_subject(db, "RSP-01-001", day0=TODAY, staff=coord(db))
            session = storage.start_session(db, "RSP-01-001", "M0", staff=coord(db), on=TODAY)
    finally:
        clock.set_clock(None)
    rng = random.Random(20260302)
    returned: list[str] = []
    for round_ in range(ROUNDS):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, str(path), session.id, str(round_)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=env(),
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        # Let it write a random number of answers, then kill it wherever it is.
        for _ in range(rng.randrange(1, 40)):
            line = child.stdout.readline().strip()
            assert line, child.stderr.read() if child.stderr else ""
            returned.append(line)
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
        if child.stderr is not None:
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL

        result = storage.verify_database(path)
        assert result.ok, f"round {round_}: {result.message}"
    with storage.open_database(path) as db:
        stored = {r[0] for r in db.conn.execute("SELECT id FROM answers")}
        assert set(returned) <= stored
        assert storage.get_session(db, session.id).state == "in_progress"
    assert storage.verify_database(path).ok
