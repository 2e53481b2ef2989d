"""An upgrade (or a backup) killed while it made its copy leaves a ``.partial`` that the next run
recognises: removed with one line saying what it was, never taken for a backup; a ``.partial``
another process is still making is left to it."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from respine_desktop import storage
from tests.cli.test_cli_db import main
from tests.support.encryption import encrypted_db, key_env
from tests.support.processes import held_child
from tests.support.storage import ROOT, env, new_db, old_schema_db

__all__ = ["key_env"]  # the fixture, imported

OLD = ("0001_initial", "0002_worklist")

# A child that opens (upgrades) the database argv[1], or backs it up to argv[3] with `backup`,
# and kills itself (SIGKILL) at a step of the backup: "copy" once the ``.partial`` is made,
# before a page is copied; "verify" once the copy is complete, before it is verified; "rename"
# once it is verified (and an encrypted database's key file is written), before its rename.
KILLED_CHILD = """
import os, signal, sys
from pathlib import Path
from respine_desktop import storage
from respine_desktop.storage import _backup, _encryption
def kill(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)
step = sys.argv[2]
if step == "copy":
    _backup.encryption = type("Killing", (), {"apply_key": staticmethod(kill)})
elif step == "verify":
    _backup.verify_database = kill
else:
    _backup.files = type("Killing", (), {"replace": staticmethod(kill)})
if len(sys.argv) > 3:
    storage.unlock(Path(sys.argv[1]), "tablet passphrase for tests")
    with storage.open_database(Path(sys.argv[1]), readonly=True) as db:
        storage.backup_database(db, Path(sys.argv[3]))
else:
    storage.open_database(Path(sys.argv[1]))
"""

# A child that holds the ``.partial`` argv[1] as a backup making it does, until killed (it
# waits on its standard input, which the test never writes to).
HOLDING_CHILD = """
import sys
from pathlib import Path
from respine_desktop.storage import _partial
_partial.claim(Path(sys.argv[1]))
print("holding", flush=True)
sys.stdin.read()
"""


def _killed(*args: str) -> None:
    child = subprocess.run(
        [sys.executable, "-c", KILLED_CHILD, *args],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr


@pytest.mark.req("DB-09")
@pytest.mark.parametrize("step", ["copy", "verify"])
def test_the_next_upgrade_removes_what_a_killed_one_left(
    tmp_path: Path, step: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = old_schema_db(tmp_path / "kiosk.db", before="0003_session_choices")
    _killed(str(path), step)
    (partial,) = tmp_path.glob("kiosk.db.before-0002_worklist-*.bak.partial")
    assert not list(tmp_path.glob("*.bak"))  # the leftover is not a backup by its name
    assert storage.inspect_database(path) == OLD  # nothing migrated
    with caplog.at_level(logging.WARNING), storage.open_database(path) as db:
        assert len(db.info.migrations) > len(OLD)
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith(f"{partial}: removed: the unfinished copy of an upgrade backup")
    assert not list(tmp_path.glob("*.partial*"))
    (backup,) = tmp_path.glob("kiosk.db.before-0002_worklist-*.bak")
    assert storage.inspect_database(backup) == OLD and storage.verify_database(backup).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kiosk.db", backup.name]


def test_the_cli_says_in_one_line_what_it_removed(tmp_path: Path) -> None:
    path = old_schema_db(tmp_path / "kiosk.db", before="0003_session_choices")
    _killed(str(path), "verify")
    (partial,) = tmp_path.glob("*.partial")
    result = main("init", "--plaintext", "--db", str(path), "--site", "01")
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        f"{partial}: removed: the unfinished copy of an upgrade backup that was interrupted "
        "(not a backup; the upgrade makes a new one now)"
    ]
    assert not partial.exists() and len(list(tmp_path.glob("*.bak"))) == 1


@contextmanager
def _holding(partial: Path) -> Iterator[None]:
    """A child process holding `partial` for the block, killed (SIGKILL) after it."""
    with held_child(HOLDING_CHILD, str(partial)) as (_, line):
        assert line == "holding"
        yield


def test_a_partial_another_process_is_making_is_left_to_it(tmp_path: Path) -> None:
    path = old_schema_db(tmp_path / "kiosk.db", before="0003_session_choices")
    other = tmp_path / "kiosk.db.before-0002_worklist-20260302T093000Z.bak.partial"
    with _holding(other):
        with storage.open_database(path):
            pass
        assert other.exists()  # not removed under the other upgrade's feet
        (backup,) = tmp_path.glob("*.bak")
        assert storage.inspect_database(backup) == OLD


def test_a_backup_to_a_name_another_process_is_writing_is_refused(tmp_path: Path) -> None:
    out = tmp_path / "copy.db"
    with _holding(tmp_path / "copy.db.partial"):
        refused = pytest.raises(storage.WriteFailed, match="another backup to this name is")
        with new_db(tmp_path / "site.db") as db, refused:
            storage.backup_database(db, out)
        assert (tmp_path / "copy.db.partial").exists() and not out.exists()
    with storage.open_database(tmp_path / "site.db", readonly=True) as db:  # its maker gone
        assert storage.backup_database(db, out).ok
    assert not (tmp_path / "copy.db.partial").exists()


@pytest.mark.parametrize("step", ["verify", "rename"])
def test_a_killed_encrypted_backup_leaves_nothing_in_the_next_ones_way(
    tmp_path: Path, key_env: Path, step: str, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "site.db"
    encrypted_db(path).close()
    out = tmp_path / "copy.db"
    _killed(str(path), step, str(out))
    assert (tmp_path / "copy.db.partial").exists() and not out.exists()
    assert (tmp_path / "copy.db.key").exists() == (step == "rename")  # written before the rename
    storage.unlock(path, "tablet passphrase for tests")
    with caplog.at_level(logging.WARNING), storage.open_database(path, readonly=True) as db:
        assert storage.backup_database(db, out).ok
    assert [r.getMessage() for r in caplog.records] == [
        f"{out}.partial: removed: the unfinished copy of a backup that was interrupted (not a "
        "backup; this one makes a new copy)"
    ]
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("copy")) == [
        "copy.db",
        "copy.db.key",
    ]
