"""Fixtures for the Qt tests: show a widget and wait on a condition (never a sleep)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from tests.support.kiosk import Kiosk, make_database, make_kiosk

ShowActive = Callable[[QWidget], None]
StartKiosk = Callable[[Path], Kiosk]


@pytest.fixture(autouse=True)
def _application_style_sheet(qapp: QApplication) -> Iterator[None]:
    """Give every test the application's style sheet as it found it.

    A test that applies the kiosk's sheet (large text, the console on a tablet) would otherwise
    leave it to whichever test the worker runs next: its `qproperty-` rules then override what that
    test set before showing a widget (a VAS marker's colour), and the result depends on the order.
    """
    sheet = qapp.styleSheet()
    yield
    if qapp.styleSheet() != sheet:
        qapp.setStyleSheet(sheet)


@pytest.fixture
def show_active(qtbot: QtBot) -> ShowActive:
    """Show a widget and wait until it is the active window, so that keyboard focus works.

    (`qtbot.waitActive` returns at once on the offscreen platform; the condition is explicit.)
    """

    def show(widget: QWidget) -> None:
        widget.show()
        widget.activateWindow()
        qtbot.waitUntil(widget.isActiveWindow)

    return show


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    """A real database file with its admin (PIN 860427) and one subject due for baseline."""
    return make_database(tmp_path / "kiosk.db")


@pytest.fixture
def kiosk(qtbot: QtBot, db_path: Path, tmp_path: Path, show_active: ShowActive) -> Iterator[Kiosk]:
    """The kiosk window on `db_path`, its idle timer fired by hand, released after the test."""
    flow, timer = make_kiosk(db_path, tmp_path / "settings.json")
    qtbot.addWidget(flow.window)
    show_active(flow.window)
    yield Kiosk(flow, timer, db_path)
    flow.release()


@pytest.fixture
def start_kiosk(qtbot: QtBot, tmp_path: Path, show_active: ShowActive) -> Iterator[StartKiosk]:
    """Start a kiosk window on a database file later in a test (e.g. after a crash)."""
    flows = []

    def start(db_path: Path) -> Kiosk:
        flow, timer = make_kiosk(db_path, tmp_path / "settings.json")
        qtbot.addWidget(flow.window)
        show_active(flow.window)
        flows.append(flow)
        return Kiosk(flow, timer, db_path)

    yield start
    for flow in flows:
        flow.release()
