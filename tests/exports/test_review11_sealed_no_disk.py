"""Review11 (issue 12): a sealed bundle's plaintext is written to no file, over a whole import
and a whole export (not only inside `open_sealed`).

Every file Python opens for writing is recorded (``sys.addaudithook``, the ``open`` event:
`open`, `os.open`, hence `tempfile` too) while a kiosk exports its sealed bundle and while the
hub imports it. The kiosk writes only the bundle (through its temporary name beside it), the
hub nothing at all (SQLite's own files are opened in C, and its temporary store is memory:
`_merge_staging._temp_in_memory`).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.exports.test_device_keys import hub, site
from tests.support.exports import export, merge

__all__ = ["hub", "site"]  # fixtures

_WRITES = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_recording: list[list[str]] = []


def _hook(event: str, args: tuple[Any, ...]) -> None:
    if event != "open" or not _recording:
        return
    path, mode, flags = args
    if isinstance(path, int):  # a descriptor `os.open` opened (recorded then, by its path)
        return
    writes = any(c in mode for c in "wax+") if isinstance(mode, str) else bool(flags & _WRITES)
    if writes:
        _recording[-1].append(os.fsdecode(path))


sys.addaudithook(_hook)  # (cannot be removed: idle unless a test records)


@pytest.fixture
def written() -> Iterator[list[str]]:
    """The paths opened for writing while the test runs."""
    _recording.append([])
    try:
        yield _recording[-1]
    finally:
        _recording.pop()


def test_the_hub_writes_no_file_while_importing_a_sealed_bundle(
    site: Path, hub: Path, written: list[str]
) -> None:
    assert merge(hub, site / "a.bundle").result.inserted["subjects"] == 4
    assert written == []
    with tempfile.TemporaryFile():  # (what the spooled file did past 64 MiB: the hook sees it)
        pass
    assert written


def test_the_kiosk_writes_only_its_sealed_bundle(site: Path, tmp_path: Path) -> None:
    shutil.copy(site / "a.db", tmp_path / "a.db")
    (tmp_path / "out").mkdir()
    _recording.append([])
    try:
        export(tmp_path / "a.db", tmp_path / "out" / "a.bundle")
    finally:
        seen = _recording.pop()
    assert seen, "nothing recorded: the hook does not see the bundle either"
    assert {Path(p).parent for p in seen} == {tmp_path / "out"}, seen
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["a.bundle"]
