"""`private_folders`: a folder only its user may write into, held while in use; a leftover of a
killed process removed, nothing else (a folder in use, a young one, a link, a file, another
user's name pattern)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from respine_desktop import private_folders
from tests.support.storage import ROOT, env

PREFIX, SUFFIX = ".stats-", ".partial"

# A child that makes a private folder, writes a file in it, says so, then waits to be killed.
HOLDING_CHILD = """
import sys, time
from pathlib import Path
from respine_desktop import private_folders
with private_folders.private(Path(sys.argv[1]), ".stats-", ".partial") as folder:
    (folder / "visits_wide.sav").write_bytes(b"half written")
    print(folder, flush=True)
    time.sleep(600)
"""


def _aged(path: Path, seconds: float = 3600) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def test_a_private_folder_is_its_users_alone_and_removed_after(tmp_path: Path) -> None:
    with private_folders.private(tmp_path, PREFIX, SUFFIX) as folder:
        assert folder.parent == tmp_path and folder.is_dir()
        assert folder.name.startswith(PREFIX) and folder.name.endswith(SUFFIX)
        assert folder.stat().st_mode & 0o777 == 0o700
        (folder / "part").write_bytes(b"x")
        _aged(folder)
        # held while in use: even an old one is not taken for a leftover
        assert private_folders.remove_abandoned(tmp_path, PREFIX, SUFFIX) == 0
        assert folder.is_dir()
    assert not folder.exists()


def test_a_private_folder_is_removed_when_its_block_fails(tmp_path: Path) -> None:
    with (
        pytest.raises(RuntimeError, match="stopped"),
        private_folders.private(tmp_path, PREFIX, SUFFIX) as folder,
    ):
        (folder / "part").write_bytes(b"x")
        raise RuntimeError("stopped")
    assert list(tmp_path.iterdir()) == []


def test_a_killed_processs_folder_is_removed_by_the_next_run(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "-c", HOLDING_CHILD, str(tmp_path)],
        cwd=ROOT,
        env=env(),
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        try:
            assert child.stdout is not None
            folder = Path(child.stdout.readline().strip())
            assert folder.is_dir() and folder.parent == tmp_path
            _aged(folder)
            # the process is alive and holds it: left alone
            assert private_folders.remove_abandoned(tmp_path, PREFIX, SUFFIX) == 0
            assert (folder / "visits_wide.sav").read_bytes() == b"half written"
        finally:
            child.send_signal(signal.SIGKILL)
            child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL
    assert folder.is_dir()  # no `finally` ran in the killed process
    assert private_folders.remove_abandoned(tmp_path, PREFIX, SUFFIX) == 1
    assert list(tmp_path.iterdir()) == []


def test_only_old_unheld_folders_of_the_name_are_removed(tmp_path: Path) -> None:
    leftover = _aged(private_folders.new_folder(tmp_path, PREFIX, SUFFIX))
    young = private_folders.new_folder(tmp_path, PREFIX, SUFFIX)  # maybe not locked yet
    other_name = _aged(private_folders.new_folder(tmp_path, ".respine-backup-"))
    bare = tmp_path / f"{PREFIX}{SUFFIX}"  # the prefix and suffix alone: not one of ours
    bare.mkdir()
    _aged(bare)
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep.sav").write_bytes(b"another study")
    _aged(victim)
    link = tmp_path / f"{PREFIX}link{SUFFIX}"
    link.symlink_to(victim)
    _aged(link)
    a_file = tmp_path / f"{PREFIX}file{SUFFIX}"
    a_file.write_bytes(b"a file, not a folder")
    _aged(a_file)

    assert private_folders.remove_abandoned(tmp_path, PREFIX, SUFFIX) == 1
    assert not leftover.exists()
    assert young.is_dir() and other_name.is_dir() and bare.is_dir()
    assert link.is_symlink() and (victim / "keep.sav").read_bytes() == b"another study"
    assert a_file.read_bytes() == b"a file, not a folder"


def test_a_clock_set_back_leaves_every_folder(tmp_path: Path) -> None:
    ahead = private_folders.new_folder(tmp_path, PREFIX, SUFFIX)
    later = time.time() + 3600  # written when the clock was an hour ahead
    os.utime(ahead, (later, later))
    assert private_folders.remove_abandoned(tmp_path, PREFIX, SUFFIX) == 0
    assert ahead.is_dir()


def test_a_missing_or_unreadable_directory_removes_nothing(tmp_path: Path) -> None:
    assert private_folders.remove_abandoned(tmp_path / "absent", PREFIX, SUFFIX) == 0
    a_file = tmp_path / "not-a-folder"
    a_file.write_bytes(b"x")
    assert private_folders.remove_abandoned(a_file, PREFIX, SUFFIX) == 0
