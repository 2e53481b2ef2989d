"""`init` killed half-way leaves nothing under the database's name; an empty file is replaced."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from respine_desktop.private_folders import ABANDONED_AFTER_S
from tests.cli.test_cli_db import main
from tests.support.storage import ROOT, env

# A child that creates a database with a clock that kills the process (SIGKILL) at its Nth
# reading: 1 is after the file is opened in WAL mode, 2 inside the creating transaction.
KILLED_CHILD = """
import os, signal, sys
from pathlib import Path
from respine_desktop import clock, storage
calls = 0
def killing_clock():
    global calls
    calls += 1
    if calls == int(sys.argv[2]):
        os.kill(os.getpid(), signal.SIGKILL)
    from datetime import UTC, datetime
    return datetime.now(UTC)
clock.set_clock(killing_clock)
storage.create_database(Path(sys.argv[1]), admin_pin="860427")
"""


@pytest.mark.parametrize("kill_at", [1, 2])
def test_an_init_killed_half_way_leaves_no_database(tmp_path: Path, kill_at: int) -> None:
    path = tmp_path / "site.db"
    child = subprocess.run(
        [sys.executable, "-c", KILLED_CHILD, str(path), str(kill_at)],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert not path.exists() and not Path(f"{path}-wal").exists()
    leftovers = [p.name for p in tmp_path.iterdir()]
    assert leftovers and all(n.startswith(".site.db.") for n in leftovers), leftovers
    then = time.time() - ABANDONED_AFTER_S - 60  # (a younger folder may be another init's)
    for name in leftovers:
        os.utime(tmp_path / name, (then, then))
    result = main("init", "--plaintext", "--db", str(path), "--admin-pin", "482915")
    assert result.returncode == 0, result.stderr
    assert main("verify", "--db", str(path)).returncode == 0
    # the killed init's folder (its half-made database in it) removed by the next
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site.db"]


def test_an_empty_file_left_by_an_interrupted_init_is_replaced(tmp_path: Path) -> None:
    path = tmp_path / "site.db"
    path.touch()
    result = main("init", "--plaintext", "--db", str(path), "--admin-pin", "482915")
    assert result.returncode == 0, result.stderr
    assert "empty file (an interrupted init): replacing it" in result.stderr
    assert main("verify", "--db", str(path)).returncode == 0


def test_a_non_empty_foreign_file_is_still_refused(tmp_path: Path) -> None:
    path = tmp_path / "site.db"
    path.write_bytes(b"x")
    result = main("init", "--plaintext", "--db", str(path), "--admin-pin", "482915")
    assert result.returncode == 2 and path.read_bytes() == b"x"


def test_a_link_put_under_the_new_databases_temporary_name_is_never_written_through(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The new database was built under a temporary name beside `path`, which SQLite opens by
    name, following a link: a link put under that name once it was created (a shared folder)
    had the new database written over the file it points to (here another study's database).
    Now it is built in a new folder only this user may write into."""
    from respine_desktop import storage
    from respine_desktop.storage import _database
    from tests.support.storage import new_db

    victim = tmp_path / "another-study.db"
    new_db(victim).close()
    before = victim.read_bytes()
    path = tmp_path / "site.db"
    real = _database._fill_new_database
    built_in: list[Path] = []

    def linked_first(temp: Path, *args: object, **kwargs: object) -> None:
        built_in.append(temp.parent)
        if temp.parent == path.parent:  # (a name others may write at: the attacker's moment)
            temp.unlink(missing_ok=True)
            temp.symlink_to(victim)
        real(temp, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(_database, "_fill_new_database", linked_first)
    storage.create_database(path, admin_pin="860427").close()
    assert victim.read_bytes() == before
    assert built_in[0] != path.parent
    assert not built_in[0].exists()  # (removed once the database is in place)
    assert storage.verify_database(path).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["another-study.db", "site.db"]
