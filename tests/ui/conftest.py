"""Fixtures for the Qt tests: show a widget and wait on a condition (never a sleep)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

ShowActive = Callable[[QWidget], None]


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
