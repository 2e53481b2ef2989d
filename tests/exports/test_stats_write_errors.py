"""The statistics writer's refusal to write (pyreadstat's `ReadstatError`, whose C errno is
lost) as one line: a full disk named as such, anything else in the writer's words."""

from __future__ import annotations

import errno
from collections import namedtuple
from pathlib import Path

import pyreadstat
import pytest

from respine_desktop import exports
from respine_desktop.exports import stats


def test_a_refusal_with_room_left_is_the_writers_own_words(tmp_path: Path) -> None:
    with (
        pytest.raises(exports.ExportError, match=r": cannot write the visits_wide files \(no\)$"),
        stats._writer_errors(tmp_path, "visits_wide"),
    ):
        raise pyreadstat.ReadstatError("no")


def test_a_refusal_with_no_room_left_is_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(stats.shutil, "disk_usage", lambda path: usage(64, 60, 4))
    with pytest.raises(OSError) as raised, stats._writer_errors(tmp_path, "answers_long"):
        raise pyreadstat.ReadstatError("Unable to write data")
    assert raised.value.errno == errno.ENOSPC and raised.value.filename == str(tmp_path)
