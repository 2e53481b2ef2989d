"""ChoiceList: 9 mm targets, one choice at a time, shown by shape, keyboard-operable."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QLabel, QWidget
from pytestqt.qtbot import QtBot

from ui.widgets.choice_list import ChoiceList
from ui.widgets.units import px_per_mm

OPTIONS = [(0, "None"), (1, "Mild"), (2, "A long option text that has to wrap " * 3)]


def choices(qtbot: QtBot, show_active: Callable[[QWidget], None]) -> ChoiceList:
    widget = ChoiceList(OPTIONS, accessible_name="How much?")
    qtbot.addWidget(widget)
    widget.resize(500, 600)
    show_active(widget)
    return widget


@pytest.mark.req("ITEM-03")
def test_targets_are_at_least_9_mm_high_and_named(
    qtbot: QtBot, show_active: Callable[[QWidget], None]
) -> None:
    widget = choices(qtbot, show_active)
    for button, (_, text) in zip(widget.buttons, OPTIONS, strict=True):
        assert button.height() >= 9 * px_per_mm(button) - 0.5
        assert button.accessibleName() == text
    assert widget.accessibleName() == "How much?"


def test_a_tap_chooses_one_option_only_and_reports_its_code(
    qtbot: QtBot, show_active: Callable[[QWidget], None]
) -> None:
    widget = choices(qtbot, show_active)
    assert widget.value() is None
    with qtbot.waitSignal(widget.answered) as signal:
        QTest.mouseClick(widget.buttons[1], Qt.MouseButton.LeftButton)
    assert signal.args == [1] and widget.value() == 1
    with qtbot.waitSignal(widget.answered) as signal:
        QTest.mouseClick(widget.buttons[2], Qt.MouseButton.LeftButton)
    assert signal.args == [2]
    assert [b.isChecked() for b in widget.buttons] == [False, False, True]
    # Tapping the chosen option again keeps it chosen.
    QTest.mouseClick(widget.buttons[2], Qt.MouseButton.LeftButton)
    assert widget.value() == 2


@pytest.mark.req("ITEM-03")
def test_selected_state_is_shown_by_shape_and_weight_not_colour_alone(
    qtbot: QtBot, show_active: Callable[[QWidget], None]
) -> None:
    widget = choices(qtbot, show_active)
    widget.set_value(1)
    chosen, other = widget.buttons[1], widget.buttons[0]
    assert chosen._indicator.checked and not other._indicator.checked
    assert (chosen.property("selected"), other.property("selected")) == ("true", "false")
    # The check mark changes the indicator's drawing: compare the two indicators' pixels.
    assert chosen._indicator.grab().toImage() != other._indicator.grab().toImage()


def test_keyboard_moves_with_arrows_and_chooses_with_space_or_enter(
    qtbot: QtBot, show_active: Callable[[QWidget], None]
) -> None:
    widget = choices(qtbot, show_active)
    widget.buttons[0].setFocus()
    QTest.keyClick(widget.buttons[0], Qt.Key.Key_Down)
    assert widget.buttons[1].hasFocus() and widget.value() is None
    with qtbot.waitSignal(widget.answered) as signal:
        QTest.keyClick(widget.buttons[1], Qt.Key.Key_Space)
    assert signal.args == [1]
    QTest.keyClick(widget.buttons[1], Qt.Key.Key_Down)
    with qtbot.waitSignal(widget.answered) as signal:
        QTest.keyClick(widget.buttons[2], Qt.Key.Key_Return)
    assert signal.args == [2]
    QTest.keyClick(widget.buttons[2], Qt.Key.Key_Up)
    assert widget.buttons[1].hasFocus() and widget.value() == 2


def test_an_option_text_is_shown_as_written_never_as_markup(qtbot: QtBot) -> None:
    # An option comes from an instrument or a site's translation file: "<b>" is three characters.
    text = "<b>Bold</b> <img src='x.png'> & less < more"
    widget = ChoiceList([(0, text)], accessible_name="How much?")
    qtbot.addWidget(widget)
    (shown,) = widget.buttons[0].findChildren(QLabel, "choiceText")
    assert shown.text() == text and shown.textFormat() == Qt.TextFormat.PlainText
