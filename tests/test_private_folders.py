"""`private_folders`: a folder only its user may write into, held while in use; a leftover of a
killed process removed, nothing else (a folder in use, a young one, a link, a file, a folder
`private` did not make, one of another owner or mode, one holding a folder, one whose lock
cannot be asked)."""

from __future__ import annotations

import errno
import fcntl
import os
import signal
import time
from pathlib import Path

import pytest

from respine_desktop import private_folders
from respine_desktop.private_folders import ABANDONED_AFTER_S, MARKER
from tests.support.processes import held_child

PREFIX, SUFFIX = ".stats-", ".partial"

# A child that makes a private folder, writes a file in it, says so, then waits to be killed
# (reading its input, which the test never closes first).
HOLDING_CHILD = """
import sys
from pathlib import Path
from respine_desktop import private_folders
with private_folders.private(Path(sys.argv[1]), ".stats-", ".partial") as folder:
    (folder / "visits_wide.sav").write_bytes(b"half written")
    print(folder, flush=True)
    sys.stdin.read()
"""


def _aged(path: Path, seconds: float = ABANDONED_AFTER_S + 60) -> Path:
    then = time.time() - seconds
    os.utime(path, (then, then), follow_symlinks=False)
    return path


def _left(directory: Path) -> Path:
    """A folder as `private` leaves it when its process is killed: marker, half a file, old."""
    folder = private_folders.new_folder(directory, PREFIX, SUFFIX)
    (folder / MARKER).touch()
    (folder / "visits_wide.sav").write_bytes(b"half written")
    return _aged(folder)


def _remove(directory: Path) -> int:
    return private_folders.remove_abandoned(directory, PREFIX, SUFFIX)


def test_a_private_folder_is_its_users_alone_and_removed_after(tmp_path: Path) -> None:
    with private_folders.private(tmp_path, PREFIX, SUFFIX) as folder:
        assert folder.parent == tmp_path and folder.is_dir()
        assert folder.name.startswith(PREFIX) and folder.name.endswith(SUFFIX)
        assert folder.stat().st_mode & 0o777 == 0o700
        (folder / "part").write_bytes(b"x")
        _aged(folder)
        assert _remove(tmp_path) == 0  # held while in use: even an old one is left alone
        assert (folder / "part").read_bytes() == b"x"
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
    with held_child(HOLDING_CHILD, str(tmp_path)) as (child, line):
        folder = Path(line)
        assert folder.is_dir() and folder.parent == tmp_path
        _aged(folder)
        assert _remove(tmp_path) == 0  # the process is alive and holds it
        assert (folder / "visits_wide.sav").read_bytes() == b"half written"
    assert child.returncode == -signal.SIGKILL
    assert folder.is_dir()  # no `finally` ran in the killed process
    assert _remove(tmp_path) == 1
    assert list(tmp_path.iterdir()) == []


def test_only_what_private_leaves_is_removed(tmp_path: Path) -> None:
    leftover = _left(tmp_path)
    young = private_folders.new_folder(tmp_path, PREFIX, SUFFIX)
    (young / MARKER).touch()  # (just made: maybe not held yet)
    unmarked = _aged(private_folders.new_folder(tmp_path, PREFIX, SUFFIX))  # not `private`'s
    wide_open = _left(tmp_path)
    wide_open.chmod(0o755)
    holding = _left(tmp_path)
    (holding / "inner").mkdir()
    _aged(holding)
    # a folder of the user's renamed to look like one (by anyone who may write in the folder):
    # no marker in it, which nobody else could have put there
    renamed = tmp_path / f"{PREFIX}archives{SUFFIX}"
    renamed.mkdir(mode=0o700)
    (renamed / "thesis.sav").write_bytes(b"the user's own")
    _aged(renamed)
    victim = tmp_path / "victim"
    victim.mkdir(mode=0o700)
    (victim / MARKER).touch()
    (victim / "keep.sav").write_bytes(b"another study")
    link = tmp_path / f"{PREFIX}abcd1234{SUFFIX}"
    link.symlink_to(victim)
    a_file = tmp_path / f"{PREFIX}efgh5678{SUFFIX}"
    a_file.write_bytes(b"a file, not a folder")
    for path in (victim, link, a_file):
        _aged(path)

    assert _remove(tmp_path) == 1
    assert not leftover.exists()
    for kept in (young, unmarked, wide_open, holding, renamed):
        assert kept.is_dir(), kept
    assert link.is_symlink() and (victim / "keep.sav").read_bytes() == b"another study"
    assert a_file.read_bytes() == b"a file, not a folder"


def test_another_users_folder_is_left(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    leftover = _left(tmp_path)
    owner = os.geteuid()
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    assert _remove(tmp_path) == 0
    assert (leftover / "visits_wide.sav").read_bytes() == b"half written"


def test_a_clock_set_back_leaves_every_folder(tmp_path: Path) -> None:
    ahead = _left(tmp_path)
    later = time.time() + 3600  # written when the clock was an hour ahead
    os.utime(ahead, (later, later))
    assert _remove(tmp_path) == 0
    assert ahead.is_dir()


def test_without_locks_a_folder_is_used_unheld_and_never_taken_for_a_leftover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system that refuses ``flock`` (ENOLCK: an NFS mount without a lock manager):
    the export still works; no folder can be told abandoned, so none is removed."""
    leftover = _left(tmp_path)

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, os.strerror(errno.ENOLCK))

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with private_folders.private(tmp_path, PREFIX, SUFFIX) as folder:
        (folder / "part").write_bytes(b"x")
    assert not folder.exists()
    assert _remove(tmp_path) == 0
    assert leftover.is_dir()


def test_a_missing_or_unreadable_directory_removes_nothing(tmp_path: Path) -> None:
    assert _remove(tmp_path / "absent") == 0
    a_file = tmp_path / "not-a-folder"
    a_file.write_bytes(b"x")
    assert _remove(a_file) == 0


def test_a_folder_swapped_in_under_a_private_folders_name_is_left(tmp_path: Path) -> None:
    """Someone who may write in the parent folder renames the private folder aside and another
    of the user's folders to its name while it is in use: that folder is not emptied."""
    victim = tmp_path / "study-archive"
    victim.mkdir()
    (victim / "precious.sav").write_bytes(b"the user's own")
    aside = tmp_path / "aside"
    with private_folders.private(tmp_path, PREFIX, SUFFIX) as folder:
        (folder / "part").write_bytes(b"half written")
        (folder / "inner").mkdir()  # (a folder a library made in it: emptied too)
        (folder / "inner" / "x").write_bytes(b"x")
        folder.rename(aside)
        victim.rename(folder)
    assert (folder / "precious.sav").read_bytes() == b"the user's own"
    assert list(aside.iterdir()) == []  # the private folder itself, emptied where it went


def test_a_folder_swapped_in_as_a_leftover_is_removed_is_left(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    leftover = _left(tmp_path)
    victim = tmp_path / "study-archive"
    victim.mkdir()
    (victim / "precious.sav").write_bytes(b"the user's own")
    aside = tmp_path / "aside"
    emptied = private_folders._emptied

    def swapped_first(fd: int) -> bool:  # the swap, just after the checks and the lock
        leftover.rename(aside)
        victim.rename(leftover)
        return emptied(fd)

    monkeypatch.setattr(private_folders, "_emptied", swapped_first)
    assert _remove(tmp_path) == 0
    assert (leftover / "precious.sav").read_bytes() == b"the user's own"
    assert list(aside.iterdir()) == []  # the leftover itself, emptied through its descriptor


def test_a_private_folder_that_cannot_be_held_is_not_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full_disk(fd: int) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(private_folders, "_hold", full_disk)
    with (
        pytest.raises(OSError, match="No space left"),
        private_folders.private(tmp_path, PREFIX, SUFFIX),
    ):
        pass  # (not reached)
    assert list(tmp_path.iterdir()) == []
