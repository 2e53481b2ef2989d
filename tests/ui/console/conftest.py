"""Fixtures of the console tests: the console database, and no background job left running."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from respine_desktop.storage import StudyDb
from tests.support.console import make_console_db
from ui.widgets.jobs import running_jobs


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StudyDb]:
    """The console database of `tests.support.console` (one subject per visit status), open."""
    with storage.open_database(make_console_db(tmp_path / "console.db")) as opened:
        yield opened


@pytest.fixture(autouse=True)
def no_job_left(qtbot: QtBot) -> Iterator[None]:
    """Every background job (charts, PDFs, exports) has ended before the next test starts."""
    yield
    qtbot.waitUntil(lambda: not running_jobs(), timeout=60_000)
