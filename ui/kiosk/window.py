"""KioskWindow: the full-screen window that hosts the kiosk's pages and refuses to be closed.

The window only hosts: a stack of pages (`show_page`), a guard on the native window (Escape,
Alt+F4 and closing are refused and reported with `close_refused`), and the idle watcher's
event filter. Which page comes next is decided by `ui.kiosk.flow.KioskFlow`.

Adding a screen (how the investigator console plugs in)
-------------------------------------------------------
Every screen is a `QWidget` (usually a `ui.widgets.page.Page`) put on the window with
`show_page(page)`. Pages are transient: a lock removes and deletes every page, so no screen can
keep a previous person's data; build a fresh page each time it is shown. A staff screen reads
`flow.db` (the open `StudyDb`) and `flow.staff` (the signed-in `Staff`) of its `KioskFlow`, and
returns with `flow.show_staff_home()`. The console is provided by a factory set on the flow
(`ui.app.install_console`), so the kiosk never imports the console.

This module is imported before the first screen is painted: it imports Qt's widgets only.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMainWindow, QStackedWidget, QWidget

from ui.widgets.signals import emit

if TYPE_CHECKING:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QCloseEvent, QWindow


def _never() -> bool:
    return False


class KioskWindow(QMainWindow):
    """The window: a stack of pages, shown one at a time, that cannot be closed by the patient.

    `close_refused(action, via)` reports a refused Escape ("kiosk.escape_intercepted",
    "escape"), Alt+F4 or close ("kiosk.close_intercepted", "alt+f4" / "window"); `closed()`
    fires once a close was allowed (`may_close()` said so).
    """

    close_refused = Signal(str, str)
    closed = Signal()

    def __init__(self, title: str) -> None:
        super().__init__()
        self.setObjectName("kioskWindow")
        self.setWindowTitle(title)
        self.stack = QStackedWidget()
        self.stack.setObjectName("pages")
        self.setCentralWidget(self.stack)
        # Whether a close is allowed now (set by whoever runs the kiosk: quitting needs a PIN).
        self.may_close: Callable[[], bool] = _never
        self.winId()  # the native window, made now (its QWindow is asked for by `guard`)
        self._filters: list[QObject] = []
        self._guarded: QWindow | None = None

    # -- the page stack ------------------------------------------------------------------------

    def page(self) -> QWidget:
        """The page on screen (there is always one once the window is built)."""
        page = self.stack.currentWidget()
        assert page is not None, "no page on the kiosk window"
        return page

    def show_page(self, page: QWidget, *, keep: tuple[QWidget, ...] = ()) -> QWidget:
        """Put `page` on screen and delete every other page except those in `keep`."""
        self.stack.addWidget(page)
        self.stack.setCurrentWidget(page)
        for n in reversed(range(self.stack.count())):
            other = self.stack.widget(n)
            if other is not None and other is not page and other not in keep:
                self.drop(other)
        focus = getattr(page, "focus_first", None)
        if callable(focus):
            focus()
        return page

    def holds(self, page: QWidget) -> bool:
        """Whether `page` is still on the stack (a lock may have dropped it)."""
        return self.stack.indexOf(page) >= 0

    def bring_back(self, page: QWidget, *, dropping: QWidget) -> None:
        """Show `page` again (kept on the stack) and delete `dropping`."""
        self.stack.setCurrentWidget(page)
        self.drop(dropping)

    def drop(self, page: QWidget, *, detach: bool = False) -> None:
        """Take `page` off the stack and delete it (`detach`: out of the window at once)."""
        self.stack.removeWidget(page)
        page.hide()
        if detach:
            # Out of the window at once, not only when the deferred deletion runs.
            page.setParent(None)
        page.deleteLater()

    def clear_pages(self) -> None:
        """Every page out of the window now (a lock): nothing of the last person stays."""
        for n in reversed(range(self.stack.count())):
            page = self.stack.widget(n)
            if page is not None:
                self.drop(page, detach=True)

    # -- guarding ------------------------------------------------------------------------------

    def guard(self, *watchers: QObject) -> None:
        """Refuse Escape and Alt+F4 from now on, and let `watchers` (the idle watcher) see input.

        The filters watch the native window, not the application: every touch and key reaches
        the QWindow first, while the flood of internal widget events (polish, layout, paint)
        never does, so they cost nothing when nobody touches the screen.
        """
        if self._filters:
            return
        self._filters = [self, *watchers]
        # The QWindow is asked for here, not when the window is built: wrapping the first one
        # builds its class's Python enums (some 2 ms before the kiosk's first screen).
        native = self.windowHandle()
        assert native is not None
        self._guarded = native
        for watcher in self._filters:
            native.installEventFilter(watcher)

    def unguard(self) -> None:
        if self._guarded is not None:
            for watcher in self._filters:
                self._guarded.removeEventFilter(watcher)
        self._filters = []

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Imported here, for start-up speed: the first use of Qt's enum namespaces builds them
        # all (some 25 ms), and no key reaches this filter before the first screen is painted.
        from PySide6.QtCore import QEvent, Qt
        from PySide6.QtGui import QKeyEvent

        if event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent):
            key = event.key()
            if key == Qt.Key.Key_Escape:
                if not event.isAutoRepeat():
                    emit(self.close_refused, "kiosk.escape_intercepted", "escape")
                return True
            if key == Qt.Key.Key_F4 and event.modifiers() & Qt.KeyboardModifier.AltModifier:
                if not event.isAutoRepeat():
                    emit(self.close_refused, "kiosk.close_intercepted", "alt+f4")
                return True
        return False

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.may_close():
            self.unguard()
            emit(self.closed)
            event.accept()
            return
        event.ignore()
        emit(self.close_refused, "kiosk.close_intercepted", "window")
