"""Touch scrolling: a finger drag scrolls a list kinetically, a tap still chooses."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QListWidget, QPushButton, QScrollArea, QScroller, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from tests.support.kiosk import Kiosk, tap
from ui.kiosk.visit_picker import VisitPickerPage
from ui.widgets.touch_scroll import SCROLLS_BY_DESIGN, stop_touch_scroll, touch_scroll


def drag(
    qtbot: QtBot, widget: QWidget, start: QPoint, end: QPoint, moved: Callable[[], bool]
) -> None:
    """A finger drag from `start` to `end` on `widget`: press, moves, and (the finger still
    down) wait until `moved()` says the content followed, then release. The scroller moves
    the content on its animation timer, so the wait is real, not a fixed sleep."""
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    for n in range(1, 13):
        QTest.mouseMove(widget, start + (end - start) * n / 12)
    qtbot.waitUntil(moved)
    QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)


@pytest.mark.req("REV-02")
def test_a_drag_scrolls_a_list(qtbot: QtBot) -> None:
    listing = touch_scroll(QListWidget())
    qtbot.addWidget(listing)
    listing.addItems([f"row {n}" for n in range(200)])
    listing.resize(300, 300)
    listing.show()
    qtbot.waitUntil(lambda: listing.verticalScrollBar().maximum() > 0)
    assert listing.property(SCROLLS_BY_DESIGN)
    bar = listing.verticalScrollBar()
    drag(qtbot, listing.viewport(), QPoint(100, 260), QPoint(100, 30), lambda: bar.value() > 100)
    assert bar.value() > 100


@pytest.mark.req("REV-02")
def test_a_tap_in_a_touch_scrolled_area_still_clicks_and_a_drag_does_not(qtbot: QtBot) -> None:
    area = QScrollArea()
    qtbot.addWidget(area)
    body = QWidget()
    column = QVBoxLayout(body)
    buttons = [QPushButton(f"Change {n}") for n in range(30)]
    for b in buttons:
        column.addWidget(b)
    area.setWidget(body)
    area.setWidgetResizable(True)
    area.resize(300, 300)
    touch_scroll(area)
    area.show()
    qtbot.waitUntil(lambda: area.verticalScrollBar().maximum() > 0)
    with qtbot.waitSignal(buttons[1].clicked):
        tap(buttons[1])
    clicked: list[int] = []
    buttons[2].clicked.connect(lambda: clicked.append(2))
    start = buttons[2].mapTo(area.viewport(), buttons[2].rect().center())
    bar = area.verticalScrollBar()
    drag(qtbot, area.viewport(), start, start - QPoint(0, 200), lambda: bar.value() > 100)
    qtbot.waitUntil(lambda: QScroller.scroller(area.viewport()).state() != QScroller.State.Pressed)
    assert clicked == []
    stop_touch_scroll(area)
    assert not area.property(SCROLLS_BY_DESIGN)


def test_the_picker_lists_scroll_by_touch(kiosk: Kiosk) -> None:
    kiosk.unlock()
    tap(kiosk.page().buttons["start"])  # type: ignore[attr-defined]
    picker = kiosk.on(VisitPickerPage)
    for listing in (picker.subjects, picker.visits):
        assert QScroller.hasScroller(listing.viewport())
        assert listing.property(SCROLLS_BY_DESIGN)
