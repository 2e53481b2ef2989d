"""Lockdown: minimised, hidden or deactivated in patient mode, the kiosk comes back and says so."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from tests.support.kiosk import Kiosk
from ui.kiosk.lockdown import show_full_screen


def restored(kiosk: Kiosk) -> list[str]:
    db = kiosk.flow.db
    assert db is not None
    return [str(e.payload["via"]) for e in storage.audit_entries(db, action="kiosk.restored")]


@pytest.mark.req("KIO-04")
def test_minimised_in_patient_mode_the_kiosk_is_restored_and_audited(
    kiosk: Kiosk, qtbot: QtBot
) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    page = kiosk.item()
    kiosk.window.showMinimized()
    qtbot.waitUntil(lambda: bool(restored(kiosk)))
    assert not kiosk.window.isMinimized() and kiosk.window.isVisible()
    assert restored(kiosk) == ["minimised"] and kiosk.item() is page


def test_hidden_in_patient_mode_the_kiosk_is_shown_again(kiosk: Kiosk, qtbot: QtBot) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    kiosk.window.hide()
    qtbot.waitUntil(lambda: bool(restored(kiosk)))
    assert kiosk.window.isVisible() and restored(kiosk) == ["hidden"]


def test_another_window_taking_activation_is_undone(kiosk: Kiosk, qtbot: QtBot) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    other.activateWindow()
    qtbot.waitUntil(lambda: bool(restored(kiosk)))
    assert restored(kiosk) == ["deactivated"]
    qtbot.waitUntil(kiosk.window.isActiveWindow)


def test_staff_mode_is_left_alone(kiosk: Kiosk, qtbot: QtBot) -> None:
    kiosk.unlock()
    kiosk.window.showMinimized()
    qtbot.waitUntil(kiosk.window.isMinimized)
    kiosk.window.showNormal()
    assert restored(kiosk) == []


def test_full_screen_covers_the_screen_and_is_restored_full_screen(
    kiosk: Kiosk, qtbot: QtBot
) -> None:
    window = kiosk.window
    show_full_screen(window)
    screen = window.screen() or QGuiApplication.primaryScreen()
    qtbot.waitUntil(lambda: window.geometry() == screen.geometry())
    assert window.windowState() & Qt.WindowState.WindowFullScreen
    kiosk.flow.lockdown.full_screen = True
    kiosk.unlock()
    kiosk.hand_over()
    window.showMinimized()
    qtbot.waitUntil(lambda: bool(restored(kiosk)))
    qtbot.waitUntil(lambda: window.geometry() == screen.geometry())
    assert window.isFullScreen() and not window.isMinimized()
