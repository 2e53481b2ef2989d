"""IdleWatcher: counts injected ticks, warns for the last seconds, expires once; activity resets."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QPointF, Qt, QTimer
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from ui.kiosk.idle import IdleWatcher
from ui.widgets.signals import emit


class ManualTimer(QTimer):
    """A timer that never runs by itself: the test fires `timeout` by hand."""

    def start(self, *args: object) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False


def tick(timer: QTimer, n: int) -> None:
    for _ in range(n):
        emit(timer.timeout)


def test_warns_for_the_last_seconds_then_expires_once(qtbot: QtBot) -> None:
    timer = ManualTimer()
    watcher = IdleWatcher(10, warning_s=3, timer=timer)
    warned: list[int] = []
    expired: list[bool] = []
    watcher.counting_down.connect(warned.append)
    watcher.expired.connect(lambda: expired.append(True))
    watcher.start()
    tick(timer, 6)
    assert warned == [] and not expired
    tick(timer, 3)
    assert warned == [3, 2, 1]
    tick(timer, 5)
    assert expired == [True] and not watcher.active and not timer.running


def test_activity_resets_and_wakes_a_countdown(qtbot: QtBot) -> None:
    timer = ManualTimer()
    watcher = IdleWatcher(10, warning_s=3, timer=timer)
    widget = QWidget()
    qtbot.addWidget(widget)
    QApplication.instance().installEventFilter(watcher)
    try:
        watcher.start()
        tick(timer, 8)
        with qtbot.waitSignal(watcher.woke):
            press = QMouseEvent(
                QEvent.Type.MouseButtonPress,
                QPointF(1, 1),
                QPointF(1, 1),
                Qt.MouseButton.LeftButton,
                Qt.MouseButton.LeftButton,
                Qt.KeyboardModifier.NoModifier,
            )
            QApplication.sendEvent(widget, press)
        assert watcher.seconds_left == 10
        tick(timer, 9)
        assert watcher.active
    finally:
        QApplication.instance().removeEventFilter(watcher)
