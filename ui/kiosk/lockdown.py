"""Lockdown: the kiosk window truly full screen, and brought back if minimised in patient mode.

With no window manager `showFullScreen()` alone leaves a small window in a corner, so
`show_full_screen` also sets the screen's geometry, before and after. In patient mode a window
minimised (openbox's Alt+Space → Iconify), hidden, or losing activation to another application
is restored at once (full screen, raised, activated) and reported with `restored(reason)`, which
the flow writes to the audit log. The operating system's own kiosk set-up (`docs/deployment.md`)
is what keeps other programs away; this only notices and undoes what gets through.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication

from respine_desktop import clock
from ui.kiosk.full_screen import show_full_screen
from ui.widgets.signals import emit

REASONS: tuple[str, ...] = ("minimised", "hidden", "deactivated")

if TYPE_CHECKING:
    from ui.kiosk.window import KioskWindow


class Lockdown(QObject):
    """Watches `window` while `guarding()` is true (patient mode); stops once it is closed.

    `restored(reason)`: "minimised", "hidden" or "deactivated", after the window was restored.
    """

    restored = Signal(str)

    def __init__(
        self, window: KioskWindow, guarding: Callable[[], bool], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.window = window
        self.guarding = guarding
        self.full_screen = bool(window.windowState() & Qt.WindowState.WindowFullScreen)
        self._pending = ""
        self._audited: dict[str, datetime] = {}
        self._closed = False
        window.installEventFilter(self)
        window.closed.connect(self._on_closed)

    def _on_closed(self) -> None:
        self._closed = True

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is not self.window or self._closed or not self.guarding():
            return False
        kind = event.type()
        if kind == QEvent.Type.WindowStateChange and self.window.isMinimized():
            self._later("minimised")
        elif kind == QEvent.Type.Hide:
            self._later("hidden")
        elif kind == QEvent.Type.WindowDeactivate:
            self._later("deactivated")
        return False

    def _later(self, reason: str) -> None:
        # Not inside the event that reported it: the state change is finished first. Of the
        # events one escape sends (deactivated, hidden, minimised), the most telling is kept.
        if not self._pending:
            QTimer.singleShot(0, self._restore)
        if REASONS.index(reason) < REASONS.index(self._pending or REASONS[-1]):
            self._pending = reason
        self._pending = self._pending or reason

    def _restore(self) -> None:
        reason, self._pending = self._pending, ""
        if self._closed or not self.guarding():
            return
        window = self.window
        active = QApplication.activeWindow()
        if reason == "deactivated" and active is not None and window.isAncestorOf(active):
            return  # a popup of the kiosk's own took it: nothing escaped
        if self.full_screen:
            window.setWindowState(window.windowState() & ~Qt.WindowState.WindowMinimized)
            show_full_screen(window)
        else:
            window.showNormal()
        window.raise_()
        window.activateWindow()
        # A platform may report one minimise twice (its own state arriving after the restore):
        # the window is restored each time, the escape audited once per reason and 2 seconds.
        now = clock.now()
        last = self._audited.get(reason)
        if last is None or now - last > timedelta(seconds=2):
            self._audited[reason] = now
            emit(self.restored, reason)
