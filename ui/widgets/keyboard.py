"""OnScreenKeyboard: keys for fingers under staff text fields (username, subject search, mm, PIN).

Qt Virtual Keyboard is not used: it is a separate, GPL/commercial-licensed Qt module that
PySide6 wheels do not ship, needs an input-method plugin set before the application starts, and
shows nothing on the offscreen platform the tests and screenshots use. This widget is plain
buttons: a tap inserts its character into the field it serves (through `QLineEdit.insert`, so
the field's validator still decides), the erase key deletes the character before the cursor.

One keyboard serves one or more fields (`fields`): it types into the one that last had the
focus. A field that takes digits only (its input-method hints say `ImhDigitsOnly`, as
`ui.widgets.fields.line_edit(digits=True)` sets them) gets the 3 × 4 digit pad, any other field
the letter keys (lower case; ⇧ switches to capitals, e.g. for subject codes). The keys never take
the focus, so a hardware keyboard keeps typing into the field as before.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QWidget,
)

from respine_desktop.i18n import t
from ui.widgets.page import button
from ui.widgets.units import mm

DIGIT_ROWS: tuple[str, ...] = ("123", "456", "789", " 0\b")
LETTER_ROWS: tuple[str, ...] = ("1234567890\b", "qwertyuiop", "asdfghjkl-", "\tzxcvbnm._")
ERASE = "\b"
SHIFT = "\t"
# Key height and gap: a fingertip is about 8-10 mm wide.
KEY_MM = 9.0
GAP_MM = 1.0


def digits_only(field: QLineEdit) -> bool:
    """Whether `field` takes digits only (its input-method hints say so)."""
    return bool(field.inputMethodHints() & Qt.InputMethodHint.ImhDigitsOnly)


class OnScreenKeyboard(QStackedWidget):
    """Digit pad or letter keys for `fields`; `digits_only` forces the digit pad."""

    def __init__(
        self,
        *fields: QLineEdit,
        lang: str = "en",
        digits_only: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        if not fields:
            raise ValueError("an on-screen keyboard needs at least one field")
        self.setObjectName("onScreenKeyboard")
        self.setAccessibleName(t(lang, "common.keyboard"))
        self.lang = lang
        self.fields = fields
        self.force_digits = digits_only
        self.target: QLineEdit = fields[0]
        self.upper = False
        self.keys: dict[str, QPushButton] = {}
        self.digit_pad = self._pad(DIGIT_ROWS, "digit")
        self.letter_pad = self._pad(LETTER_ROWS, "letter")
        self.addWidget(self.digit_pad)
        self.addWidget(self.letter_pad)
        for field in fields:
            field.installEventFilter(self)
        self.serve(self.target)

    # -- building ------------------------------------------------------------------------------

    def _pad(self, rows: tuple[str, ...], kind: str) -> QWidget:
        pad = QWidget()
        grid = QGridLayout(pad)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(mm(GAP_MM, pad))
        for r, row in enumerate(rows):
            for c, char in enumerate(row):
                if char == " ":
                    continue
                key = self._key(char, kind)
                grid.addWidget(key, r, c)
        return pad

    def _key(self, char: str, kind: str) -> QPushButton:
        role = "padkey" if kind == "digit" else "textkey"
        if char == ERASE:
            key = button(t(self.lang, "staff.pin.erase_label"), role)
            key.setAccessibleName(t(self.lang, "staff.pin.erase"))
            key.clicked.connect(self._erase)
        elif char == SHIFT:
            key = button("⇧", role)
            key.setAccessibleName(t(self.lang, "common.keyboard_shift"))
            key.setCheckable(True)
            key.toggled.connect(self._shift)
        else:
            key = button(char, role)
            key.setAccessibleName(
                t(self.lang, "staff.pin.digit", digit=char) if char.isdigit() else char
            )
            key.clicked.connect(lambda _=False, k=key: self._type(k.text()))
        # For fingers: the focus stays in the field, where a hardware keyboard types.
        key.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        key.setMinimumHeight(mm(KEY_MM, key))
        self.keys[f"{kind}:{char}"] = key
        return key

    # -- following the focused field -----------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusIn and isinstance(watched, QLineEdit):
            self.serve(watched)
        return False

    def serve(self, field: QLineEdit) -> None:
        """Type into `field` from now on, with the pad it needs."""
        self.target = field
        digits = self.force_digits or digits_only(field)
        shown, hidden = (
            (self.digit_pad, self.letter_pad) if digits else (self.letter_pad, self.digit_pad)
        )
        # Only the pad shown takes room (a stack is otherwise as tall as its tallest page).
        hidden.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        shown.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        self.setCurrentWidget(shown)
        self.updateGeometry()

    def key(self, char: str) -> QPushButton:
        """The key that types `char` on the pad shown now ("\\b": erase; "\\t": shift)."""
        kind = "digit" if self.currentWidget() is self.digit_pad else "letter"
        return self.keys[f"{kind}:{char.lower() if kind == 'letter' else char}"]

    # -- typing --------------------------------------------------------------------------------

    def _type(self, text: str) -> None:
        if self.target.isEnabled() and not self.target.isReadOnly():
            self.target.insert(text)

    def _erase(self) -> None:
        if self.target.isEnabled() and not self.target.isReadOnly():
            self.target.backspace()

    def _shift(self, on: bool) -> None:
        self.upper = on
        for name, key in self.keys.items():
            kind, char = name.split(":", 1)
            if kind == "letter" and char.isalpha():
                key.setText(char.upper() if on else char)


def keyboard_toggle(
    keyboard: OnScreenKeyboard, before: Callable[[bool], None] | None = None
) -> QPushButton:
    """A "Keyboard" button that shows and hides `keyboard` (hidden at first: where the keys
    would crowd a screen, e.g. beside the subject lists). `before(shown)` makes room before the keys
    appear and gives it back once they are gone (the window never grows for them)."""
    toggle = button(f"⌨ {t(keyboard.lang, 'common.keyboard_button')}")
    toggle.setAccessibleName(t(keyboard.lang, "common.keyboard"))
    toggle.setCheckable(True)
    toggle.setFocusPolicy(Qt.FocusPolicy.NoFocus)

    def toggled(shown: bool) -> None:
        # Room is made before the keys appear, and given back after they are gone.
        if shown and before is not None:
            before(shown)
        keyboard.setVisible(shown)
        if not shown and before is not None:
            before(shown)

    toggle.toggled.connect(toggled)
    keyboard.hide()
    return toggle
