"""VasSlider: no marker before a touch; taps at 0/50/100 % and just past the ends give 0/50/100;
a tap outside the capture zone (mm from the line, past its ends) records nothing."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from ui.widgets.units import px_per_mm
from ui.widgets.vas_slider import CAPTURE_MM, END_MM, VasSlider

MARKER = QColor("#c0392b")


def slider(qtbot: QtBot, width: int = 800) -> VasSlider:
    widget = VasSlider("No pain", "Worst imaginable pain")
    widget.markerColor = MARKER
    qtbot.addWidget(widget)
    widget.resize(width, widget.heightForWidth(width))
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def marker_pixels(widget: VasSlider) -> int:
    image = widget.grab().toImage()
    return sum(
        1
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
        if image.pixelColor(x, y) == MARKER
    )


def tap(qtbot: QtBot, widget: VasSlider, point: QPoint) -> float:
    with qtbot.waitSignal(widget.answered) as signal:
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    value = signal.args[0]
    assert value == widget.value()
    return float(value)


@pytest.mark.req("VAS-03")
def test_no_marker_and_no_value_before_a_touch(qtbot: QtBot) -> None:
    widget = slider(qtbot)
    assert widget.value() is None
    assert marker_pixels(widget) == 0
    tap(qtbot, widget, widget.point_for(0.3))
    assert marker_pixels(widget) > 0


# SCORING.md §4: the patient can tap anywhere including the exact ends.
@pytest.mark.parametrize("width", [800, 801, 1279, 1280, 300, 301])
def test_taps_at_0_50_100_percent_and_just_past_the_ends_record_0_50_100(
    qtbot: QtBot, width: int
) -> None:
    widget = slider(qtbot, width)
    y = widget.line_y()
    assert tap(qtbot, widget, widget.point_for(0.5)) == 50.0
    assert tap(qtbot, widget, widget.point_for(0.0)) == 0.0
    assert tap(qtbot, widget, widget.point_for(1.0)) == 100.0
    # Past an end, within the capture zone.
    inside = round(px_per_mm(widget) * (END_MM - 0.5))
    assert tap(qtbot, widget, widget.point_for(0.0) - QPoint(inside, 0)) == 0.0
    assert tap(qtbot, widget, widget.point_for(1.0) + QPoint(inside, 0)) == 100.0
    assert y == widget.point_for(0.0).y()
    # On the end stops, above and below the line.
    assert tap(qtbot, widget, widget.point_for(0.0) + QPoint(-3, -8)) == 0.0
    assert tap(qtbot, widget, widget.point_for(1.0) + QPoint(3, 8)) == 100.0


@pytest.mark.req("VAS-02")
def test_value_is_distance_over_length_with_0_1_precision(qtbot: QtBot) -> None:
    widget = slider(qtbot)
    length = widget.line_length_px()
    start = widget.point_for(0.0)
    for px in (1, 7, length // 3, length - 1):
        value = tap(qtbot, widget, start + QPoint(px, 0))
        assert value == round(px / length * 100, 1)


@pytest.mark.req("VAS-01")
def test_the_line_is_100_mm_when_the_screen_allows_and_reports_its_length(qtbot: QtBot) -> None:
    wide = slider(qtbot, 1200)
    assert abs(wide.line_length_px() / px_per_mm(wide) - 100) < 0.6
    assert abs(wide.rendered_length_mm() - 100) <= 0.5
    narrow = slider(qtbot, 300)
    assert narrow.line_length_px() < 300
    assert narrow.rendered_length_mm() == round(narrow.line_length_px() / px_per_mm(narrow), 1)
    assert narrow.rendered_length_mm() < 80


def test_calibration_scales_the_line(qtbot: QtBot) -> None:
    plain = slider(qtbot, 1500)
    longer = VasSlider("a", "b", calibration=1.1)
    qtbot.addWidget(longer)
    longer.resize(1500, 200)
    assert longer.line_length_px() == pytest.approx(plain.line_length_px() * 1.1, abs=2)
    # Physically still 100 mm: the calibration corrects the screen's reported size.
    assert abs(longer.rendered_length_mm() - 100) <= 0.5


def test_drag_adjusts_and_the_release_records(qtbot: QtBot) -> None:
    widget = slider(qtbot)
    moved: list[float] = []
    widget.moved.connect(moved.append)
    start, end = widget.point_for(0.1), widget.point_for(0.3)
    QTest.mousePress(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, start)
    QTest.mouseMove(widget, widget.point_for(0.2))
    with qtbot.waitSignal(widget.answered) as signal:
        QTest.mouseRelease(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, end)
    assert signal.args == [widget.value_at(end.x())]
    assert moved[0] == widget.value_at(start.x()) and len(moved) == 3


def test_keyboard_places_at_an_end_and_moves_never_starting_in_the_middle(qtbot: QtBot) -> None:
    widget = slider(qtbot)
    widget.setFocus()
    QTest.keyClick(widget, Qt.Key.Key_Right)
    assert widget.value() is None
    QTest.keyClick(widget, Qt.Key.Key_Home)
    assert widget.value() == 0.0
    QTest.keyClick(widget, Qt.Key.Key_Right)
    QTest.keyClick(widget, Qt.Key.Key_PageUp)
    assert widget.value() == 11.0
    QTest.keyClick(widget, Qt.Key.Key_End)
    QTest.keyClick(widget, Qt.Key.Key_Right)
    assert widget.value() == 100.0


@pytest.mark.req("VAS-04")
def test_no_numbers_or_ticks_are_drawn_along_the_line(qtbot: QtBot) -> None:
    """Between its end stops the line is bare: nothing drawn above or below it."""
    widget = VasSlider("", "")  # no anchors: only the scale itself is drawn
    qtbot.addWidget(widget)
    widget.resize(800, widget.heightForWidth(800))
    widget.show()
    qtbot.waitExposed(widget)
    image = widget.grab().toImage()
    y, x0, x1 = widget.line_y(), widget.point_for(0).x(), widget.point_for(1).x()
    thickness = 4
    inked = [
        (x, row)
        for x in range(x0 + 6, x1 - 6)
        for row in range(image.height())
        if abs(row - y) > thickness and image.pixelColor(x, row).lightness() < 128
    ]
    assert inked == []
    assert any(image.pixelColor(x0 + 50, row).lightness() < 128 for row in (y - 1, y, y + 1))
    assert not widget.children() or all(not hasattr(child, "text") for child in widget.children())


@pytest.mark.parametrize("width", [800, 1280])
def test_a_tap_outside_the_capture_zone_records_nothing(qtbot: QtBot, width: int) -> None:
    widget = slider(qtbot, width)
    per_mm = px_per_mm(widget)
    outside = [
        widget.point_for(0.5) + QPoint(0, round(per_mm * (CAPTURE_MM + 1))),  # below
        widget.point_for(0.5) - QPoint(0, round(per_mm * (CAPTURE_MM + 1))),  # above
        widget.point_for(0.0) - QPoint(round(per_mm * (END_MM + 1)), 0),  # before the low end
        widget.point_for(1.0) + QPoint(round(per_mm * (END_MM + 1)), 0),  # past the high end
    ]
    given: list[float] = []
    widget.answered.connect(given.append)
    widget.moved.connect(given.append)
    for point in outside:
        assert 0 <= point.x() < widget.width() and 0 <= point.y() < widget.height()
        assert not widget.in_capture_zone(point.x(), point.y())
        QTest.mouseClick(widget, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, point)
    assert given == [] and widget.value() is None and marker_pixels(widget) == 0
    # The edge of the zone still counts; a drag started there may leave it.
    edge = widget.point_for(0.5) + QPoint(0, round(per_mm * CAPTURE_MM) - 1)
    assert tap(qtbot, widget, edge) == 50.0
