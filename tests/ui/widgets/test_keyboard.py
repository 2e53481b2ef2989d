"""OnScreenKeyboard: taps type into the focused field (its validator still decides), digit
fields get the digit pad, the keys never take the focus, a hardware keyboard still types."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from tests.ui.conftest import ShowActive
from ui.widgets.fields import line_edit
from ui.widgets.keyboard import DIGIT_ROWS, LETTER_ROWS, OnScreenKeyboard


def press(keyboard: OnScreenKeyboard, text: str) -> None:
    for char in text:
        QTest.mouseClick(keyboard.key(char), Qt.MouseButton.LeftButton)


@pytest.fixture
def form(qtbot: QtBot, show_active: ShowActive) -> tuple[QWidget, OnScreenKeyboard]:
    window = QWidget()
    box = QVBoxLayout(window)
    name = line_edit("Username")
    number = line_edit("Measured length (mm)", digits=True)
    keyboard = OnScreenKeyboard(name, number)
    for widget in (name, number, keyboard):
        box.addWidget(widget)
    qtbot.addWidget(window)
    window.resize(800, 500)
    show_active(window)
    name.setFocus()
    return window, keyboard


def test_letters_go_to_the_text_field_and_digits_to_the_number_field(
    form: tuple[QWidget, OnScreenKeyboard],
) -> None:
    _, keyboard = form
    name, number = keyboard.fields
    assert keyboard.currentWidget() is keyboard.letter_pad
    press(keyboard, "coord-2")
    assert name.text() == "coord-2" and name.hasFocus()
    press(keyboard, "\b\b")
    assert name.text() == "coord"
    number.setFocus()
    assert keyboard.currentWidget() is keyboard.digit_pad and keyboard.target is number
    press(keyboard, "95")
    assert number.text() == "95" and name.text() == "coord"
    QTest.keyClicks(number, "1x")  # a hardware keyboard: the validator keeps digits only
    assert number.text() == "951"


def test_shift_types_capitals_for_subject_codes(form: tuple[QWidget, OnScreenKeyboard]) -> None:
    _, keyboard = form
    name = keyboard.fields[0]
    QTest.mouseClick(keyboard.key("\t"), Qt.MouseButton.LeftButton)
    press(keyboard, "rsp")
    assert keyboard.key("r").text() == "R"
    QTest.mouseClick(keyboard.key("\t"), Qt.MouseButton.LeftButton)
    press(keyboard, "-01")
    assert name.text() == "RSP-01" and keyboard.key("r").text() == "r"


def test_the_keys_never_take_the_focus_and_a_disabled_field_takes_nothing(
    form: tuple[QWidget, OnScreenKeyboard],
) -> None:
    _, keyboard = form
    name = keyboard.fields[0]
    assert all(k.focusPolicy() == Qt.FocusPolicy.NoFocus for k in keyboard.keys.values())
    assert len(keyboard.keys) == sum(len(r.replace(" ", "")) for r in DIGIT_ROWS + LETTER_ROWS)
    name.setReadOnly(True)
    press(keyboard, "ab\b")
    assert name.text() == ""


def test_a_digits_only_keyboard_and_no_field(qtbot: QtBot) -> None:
    field = line_edit("Name")
    keyboard = OnScreenKeyboard(field, digits_only=True)
    qtbot.addWidget(keyboard)
    qtbot.addWidget(field)
    assert keyboard.currentWidget() is keyboard.digit_pad
    with pytest.raises(ValueError, match="at least one field"):
        OnScreenKeyboard()
