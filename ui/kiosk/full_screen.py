"""Showing the kiosk's window full screen, in a module of its own: the app calls it before its
first paint, and `ui.kiosk.lockdown` (whose QObject subclass costs tens of ms to define) loads
with the kiosk's flow, after the app is ready."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget


def show_full_screen(window: QWidget) -> None:
    """Full screen with or without a window manager: the screen's geometry, then full screen."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    window.setGeometry(screen.geometry())
    window.showFullScreen()
    window.setGeometry(screen.geometry())
