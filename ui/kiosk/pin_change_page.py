"""ChangePinPage: "Change your PIN", shown right after a sign-in whose PIN breaks today's policy.

Accounts whose PIN predates the policy (6-12 digits, no sequence, repeat or common PIN:
`storage.pin_policy_problem`) still sign in, then must choose a new PIN before anything else.
The page asks for the current PIN and the new one twice, states the policy, and has the digit pad.
The kiosk flow calls `storage.change_pin` (which checks the policy and the current PIN, counts a
wrong one toward the lockout and audits the change) and tells the page what to show.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from respine_desktop.i18n import t
from ui.widgets.fields import line_edit
from ui.widgets.keyboard import OnScreenKeyboard
from ui.widgets.page import Page, button, label
from ui.widgets.signals import emit


class ChangePinPage(Page):
    """Current PIN, new PIN, new PIN again; `submitted(current, new, again)`, or `signed_out`."""

    submitted = Signal(str, str, str)
    signed_out = Signal()

    def __init__(self, lang: str, username: str) -> None:
        title = t(lang, "staff.change_pin.title")
        super().__init__(title, max_width_mm=230)
        self.lang = lang
        self.add(label(title, "title"))
        self.add(label(t(lang, "staff.change_pin.why", username=username), "subtitle"))
        # The fields and the policy on the left, the digit pad on the right: one screen high.
        row = QWidget()
        columns = QHBoxLayout(row)
        columns.setContentsMargins(0, 0, 0, 0)
        left = QVBoxLayout()
        left.addWidget(label(t(lang, "staff.change_pin.policy"), "hint"))
        self.current = line_edit(t(lang, "staff.change_pin.current"), secret=True, digits=True)
        self.new = line_edit(t(lang, "staff.change_pin.new"), secret=True, digits=True)
        self.again = line_edit(t(lang, "staff.change_pin.again"), secret=True, digits=True)
        self.current.returnPressed.connect(self.new.setFocus)
        self.new.returnPressed.connect(self.again.setFocus)
        self.again.returnPressed.connect(self._on_submit)
        for field in (self.current, self.new, self.again):
            left.addWidget(field)
        self.error = label("", "error")
        self.error.setObjectName("pinChangeError")
        self.error.hide()
        left.addWidget(self.error)
        left.addStretch(1)
        columns.addLayout(left, 3)
        self.keypad = OnScreenKeyboard(
            self.current, self.new, self.again, lang=lang, digits_only=True
        )
        columns.addWidget(self.keypad, 2)
        self.add(row)
        self.sign_out_button = button(t(lang, "staff.change_pin.sign_out"))
        self.sign_out_button.clicked.connect(lambda: emit(self.signed_out))
        self.change_button = button(t(lang, "staff.change_pin.change"), "primary")
        self.change_button.clicked.connect(self._on_submit)
        self.footer.addWidget(self.sign_out_button)
        self.footer.addStretch(1)
        self.footer.addWidget(self.change_button)
        self.column.addStretch(1)

    def focus_first(self) -> None:
        self.current.setFocus()

    def show_error(self, text: str) -> None:
        """Say why the change was refused; the PINs are typed again."""
        self.error.setText(text)
        self.error.show()
        for field in (self.current, self.new, self.again):
            field.clear()
        self.current.setFocus()

    def _on_submit(self) -> None:
        current, new, again = self.current.text(), self.new.text(), self.again.text()
        if not current or not new or not again:
            self.error.setText(t(self.lang, "staff.change_pin.empty"))
            self.error.show()
            return
        if new != again:
            self.error.setText(t(self.lang, "staff.change_pin.differ"))
            self.error.show()
            self.new.clear()
            self.again.clear()
            self.new.setFocus()
            return
        emit(self.submitted, current, new, again)
