"""`encrypt` killed at any step before its final rename leaves the plaintext original intact."""

from __future__ import annotations

import hashlib
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from respine_desktop import storage
from tests.support.encryption import PASSPHRASE, correct, fill, forget_unlocked, key_env
from tests.support.storage import ROOT, env, new_db

__all__ = ["key_env"]  # the fixture, imported

# A child that encrypts a database with a clock that kills the process (SIGKILL) at its Nth
# reading: 1 while the encrypted copy records its audit entry, 2 while the recovery sheet is
# written, 3 while the key is wrapped (the step just before the copy replaces the original).
KILLED_CHILD = """
import os, signal, sys
from pathlib import Path
from respine_desktop import clock, storage
calls = 0
def killing_clock():
    global calls
    calls += 1
    if calls == int(sys.argv[3]):
        os.kill(os.getpid(), signal.SIGKILL)
    from datetime import UTC, datetime
    return datetime.now(UTC)
clock.set_clock(killing_clock)
storage.encrypt_database(Path(sys.argv[1]), sys.argv[2], recovery_sheet=Path(sys.argv[1] + ".txt"))
"""


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.parametrize("kill_at", [1, 2, 3])
def test_a_killed_encrypt_leaves_the_original_intact(
    tmp_path: Path, key_env: Path, kill_at: int
) -> None:
    path = tmp_path / "site.db"
    with new_db(path) as db:
        correct(db, fill(db))
        before = storage.counts(db)
    digest = _digest(path)
    child = subprocess.run(
        [sys.executable, "-c", KILLED_CHILD, str(path), PASSPHRASE, str(kill_at)],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert _digest(path) == digest
    assert not storage.is_encrypted(path)
    assert storage.verify_database(path).ok
    with storage.open_database(path, readonly=True) as db:
        assert storage.counts(db) == before
    # What the killed run left (its encrypted copy, maybe a key file) stands in no one's way.
    storage.encrypt_database(path, PASSPHRASE, recovery_sheet=tmp_path / "sheet.txt")
    forget_unlocked()
    storage.unlock(path, PASSPHRASE)
    assert storage.verify_database(path).ok
    left = {p.name for p in tmp_path.iterdir()} - {"sheet.txt", "site.db", "site.db.key"}
    assert left == ({"site.db.txt"} if kill_at == 3 else set())  # the killed run's own sheet
