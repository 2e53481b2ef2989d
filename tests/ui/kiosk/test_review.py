"""The review list: items read differently (their stem shown), touch scrolling, the scroll kept
after Change."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from tests.support.kiosk import Kiosk, tap
from tests.ui.widgets.test_touch_scroll import drag
from ui.kiosk.item_page import ItemPage
from ui.kiosk.patient_pages import ReviewPage


def to_review(kiosk: Kiosk) -> ReviewPage:
    kiosk.unlock()
    kiosk.hand_over()
    while isinstance(kiosk.page(), ItemPage):
        page = kiosk.item()
        if page.step.item.optional:
            tap(page.skip_button)
            tap(page.skip_yes)
        else:
            kiosk.answer()
        kiosk.next()
    return kiosk.on(ReviewPage)


@pytest.mark.req("REV-01")
def test_sf36_13_and_17_read_differently_in_review(kiosk: Kiosk) -> None:
    review = to_review(kiosk)
    names = [b.accessibleName() for b in review.change_buttons]
    # Review rows are numbered in the visit: VAS, 10 ODI sections, then SF-36 1..36.
    sf36_13, sf36_17 = names[11 + 13 - 1], names[11 + 17 - 1]
    assert "Cut down the amount of time" in sf36_13 and "Cut down the amount of time" in sf36_17
    assert sf36_13 != sf36_17
    assert "physical health" in sf36_13 and "emotional problems" in sf36_17
    stems = [s.text() for s in review.stem_labels]
    assert any("physical health" in s for s in stems)
    assert any("emotional problems" in s for s in stems)
    # Each stem heads its group, right above the group's first row.
    column = review.column
    physical = next(s for s in review.stem_labels if "physical health" in s.text())
    emotional = next(s for s in review.stem_labels if "emotional problems" in s.text())
    assert column.indexOf(physical) < column.indexOf(emotional)
    assert all(s.isVisibleTo(review) for s in review.stem_labels)
    assert [
        lbl.text()
        for lbl in review.findChildren(type(physical))
        if lbl.property("role") == "instrument"
    ] == [
        "Your back pain today",
        "Your back pain and daily activities",
        "Your health",
    ]


def test_a_finger_drag_scrolls_the_review_list(kiosk: Kiosk, qtbot: QtBot) -> None:
    review = to_review(kiosk)
    assert review.scroll_area is not None
    viewport = review.scroll_area.viewport()
    bar = review.scroll_area.verticalScrollBar()
    assert bar.maximum() > 0 and bar.value() == 0
    x = viewport.width() // 3
    start, end = QPoint(x, viewport.height() - 20), QPoint(x, 20)
    drag(qtbot, viewport, start, end, lambda: bar.value() > 100)
    # The drag chose nothing: still on the review, every answer as it was.
    assert kiosk.page() is review


def test_the_review_keeps_its_scroll_position_after_change(kiosk: Kiosk, qtbot: QtBot) -> None:
    review = to_review(kiosk)
    assert review.scroll_area is not None
    bar = review.scroll_area.verticalScrollBar()
    bar.setValue(bar.maximum() // 2)
    kept = bar.value()
    assert kept > 0
    shown = review.scroll_area.viewport()
    change = next(
        b for b in review.change_buttons if shown.rect().contains(b.mapTo(shown, b.rect().center()))
    )
    tap(change)
    page = kiosk.item()
    kiosk.answer(choice=0)
    assert page.next_button.text() == "Back to my answers"
    kiosk.next()
    again = kiosk.on(ReviewPage)
    assert again is not review and again.scroll_area is not None
    qtbot.waitUntil(lambda: again.scroll_value() == kept)


def test_no_patient_screen_keeps_anything_in_a_tooltip(kiosk: Kiosk) -> None:
    def tooltips() -> list[str]:
        page = kiosk.page()
        return [w.toolTip() for w in page.findChildren(QWidget) if w.toolTip()]

    kiosk.unlock()
    kiosk.hand_over()
    found = []
    while isinstance(kiosk.page(), ItemPage):
        found += tooltips()
        page = kiosk.item()
        if page.step.item.optional:
            tap(page.skip_button)
            found += tooltips()
            tap(page.skip_yes)
        else:
            kiosk.answer()
        kiosk.next()
    found += tooltips()
    assert found == []
