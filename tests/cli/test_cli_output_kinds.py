"""Every output path a command writes (issue 12), given a name that is not a place for a new
file: a device node, a named pipe, a link to a device, a folder named like the output file, a
name in a missing folder. Each is refused in one line, exit 2, through a real process, and
nothing is written or changed (the output folder with every file's bytes and modes, the database's
data tables and audit log, which may gain the sign-in only).

As root a folder of mode 0555 is writable all the same (root is not asked the permission), so
the refusal of an unwritable folder cannot be reached there: its message comes from the
operating system's own refusal (EACCES, EROFS) on the first write, as the disk-full tests show
for ENOSPC (`test_cli_output_edges`)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.cli.test_cli_hostile_paths import refused
from tests.cli.test_cli_output_edges import OUTPUTS, State, db, key_env, out, run, study

__all__ = ["db", "key_env", "out", "study"]  # the fixtures, imported

# The outputs that are folders (their files are written inside): a folder there is expected.
FOLDERS = {"export csv", "export redcap", "export stats"}


def _device(out: Path) -> Path:
    """A character device node like /dev/null (1, 3), made in the output folder: a rename over
    it would replace this node only, never the machine's."""
    node = out / "node"
    try:
        os.mknod(node, stat.S_IFCHR | 0o666, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("device nodes can be made by root only")
    return node


def _fifo(out: Path) -> Path:
    os.mkfifo(out / "pipe")
    return out / "pipe"


def _link_to_device(out: Path) -> Path:
    (out / "full").symlink_to("/dev/full")
    return out / "full"


def _folder(out: Path) -> Path:
    (out / "study.out").mkdir()
    (out / "study.out" / "kept.txt").write_text("kept\n", encoding="utf-8")
    return out / "study.out"


def _missing_folder(out: Path) -> Path:
    return out / "missing" / "study.out"


# What the line says of each (the wording differs between a file and a folder output, and
# `backup` and the recovery sheet refuse any existing name).
NOT_A_FILE = (
    "is a character device, not a file",
    "exists and is not a directory",
    "exists already",
)
KINDS = {
    "device": (_device, NOT_A_FILE),
    "named pipe": (_fifo, ("is a named pipe, not a file", *NOT_A_FILE[1:])),
    "link to a device": (_link_to_device, NOT_A_FILE),
    "folder": (_folder, ("is a folder", "is a directory", "Is a directory", "exists already")),
    "missing folder": (_missing_folder, ("missing: no such directory",)),
}


class Nodes(State):
    """`State`, its listing reading the bytes of regular files only: a device or a pipe is
    listed by its kind and its link, never read (/dev/full never ends, a pipe waits)."""

    def __init__(self, db: Path, folder: Path) -> None:
        self.nodes = _nodes(folder)
        super().__init__(db, folder / "kept")

    def unchanged(self) -> None:
        assert _nodes(self.folder.parent) == self.nodes
        super().unchanged()


def _nodes(folder: Path) -> dict[str, object]:
    found: dict[str, object] = {}
    for path in sorted(folder.rglob("*")):
        mode = path.lstat().st_mode
        if stat.S_ISREG(mode):
            found[str(path)] = (mode, path.read_bytes())
        elif stat.S_ISLNK(mode):
            found[str(path)] = (mode, os.readlink(path))
        else:
            found[str(path)] = (mode, None)
    return found


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        (command, kind)
        for command in sorted(OUTPUTS)
        for kind in sorted(KINDS)
        if not (kind == "folder" and command in FOLDERS)  # (a folder is what it writes into)
    ],
)
def test_an_output_that_is_not_a_place_for_a_file_is_refused(
    db: Path, out: Path, command: str, kind: str
) -> None:
    make, expected = KINDS[kind]
    target = make(out)
    (out / "kept").mkdir()
    before = Nodes(db, out)
    result = run(OUTPUTS[command], db=db, out=out, target=target)
    refused(result, f"{target.parent if kind == 'missing folder' else target}")  # the one at fault
    assert any(words in result.stderr for words in expected), result.stderr
    before.unchanged()
