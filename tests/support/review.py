"""The console's "Conflicts" tab on a hub, for the conflicts and mismatches tests: a copy of a
hub file made once per module, opened per test, and the console shown on the tab."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pytestqt.qtbot import QtBot

from respine_desktop import storage
from respine_desktop.storage import StudyDb
from tests.support.console import staff_of
from ui.console.page import ConsolePage


@contextmanager
def opened_copy(hub_file: Path, folder: Path) -> Iterator[StudyDb]:
    """A copy of `hub_file` in `folder`, open (each test changes its own)."""
    shutil.copy(hub_file, folder / "hub.db")
    with storage.open_database(folder / "hub.db") as db:
        yield db


def console_on(qtbot: QtBot, db: StudyDb, lang: str = "en", staff: str = "coord") -> ConsolePage:
    """The console of `staff` on `db`, 1280 × 800, showing the "Conflicts" tab."""
    page = ConsolePage(db, staff_of(db, staff), lang)
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    page.tabs.setCurrentWidget(page.review)
    return page
