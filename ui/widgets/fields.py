"""Text fields for fingers and screen readers: `line_edit` (named, secret or digits-only)."""

from __future__ import annotations

from PySide6.QtCore import QRegularExpression, Qt
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import QLineEdit

PIN_PATTERN = r"\d{0,12}"  # staff PINs: 6 to 12 digits (storage.PIN_MIN, PIN_MAX)


def line_edit(name: str, *, secret: bool = False, digits: bool = False) -> QLineEdit:
    """A text field with an accessible name; `secret` hides it, `digits` allows 0-9 only."""
    field = QLineEdit()
    field.setAccessibleName(name)
    field.setPlaceholderText(name)
    if secret:
        field.setEchoMode(QLineEdit.EchoMode.Password)
    if digits:
        field.setValidator(QRegularExpressionValidator(QRegularExpression(PIN_PATTERN), field))
        field.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
    return field
