"""The staff's screens: lock, PIN sign-in (with keypad), first-run set-up, home, settings.

Pages show and report; the kiosk flow (`ui.kiosk.flow`) calls storage and tells a page what to
show (errors too).
"""

from __future__ import annotations

from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QPushButton,
    QVBoxLayout,
)

from respine_desktop.i18n import t
from ui.kiosk.lock_page import LockPage as LockPage  # re-exported: it was defined here first
from ui.kiosk.settings_page import SettingsPage as SettingsPage  # re-exported, as LockPage
from ui.widgets.fields import line_edit
from ui.widgets.keyboard import OnScreenKeyboard, keyboard_toggle
from ui.widgets.page import Page, button, label
from ui.widgets.signals import emit


class PinPage(Page):
    """Username and PIN, with an on-screen keypad for the PIN. Cancel goes back where it came."""

    submitted = Signal(str, str)
    cancelled = Signal()

    def __init__(self, lang: str, *, leaving_patient: bool, username: str = "") -> None:
        title = t(lang, "staff.pin.leave_title" if leaving_patient else "staff.pin.title")
        super().__init__(title, max_width_mm=150)
        self.lang = lang
        self.leaving_patient = leaving_patient
        self.add(label(title, "title"))
        self.username = line_edit(t(lang, "staff.pin.username"))
        self.username.setText(username)
        self.pin = line_edit(t(lang, "staff.pin.pin"), secret=True, digits=True)
        self.username.returnPressed.connect(self.pin.setFocus)
        self.pin.returnPressed.connect(self._on_submit)
        self.add(self.username)
        self.add(self.pin)
        self.error = label("", "error")
        self.error.hide()
        self.add(self.error)
        # One keyboard for both fields: letters for the username, the digit pad for the PIN.
        self.keypad = OnScreenKeyboard(self.username, self.pin, lang=lang)
        self.add(self.keypad)
        self.cancel_button = button(t(lang, "common.cancel"))
        self.cancel_button.clicked.connect(self.cancelled)
        self.sign_in_button = button(t(lang, "staff.pin.sign_in"), "primary")
        self.sign_in_button.clicked.connect(self._on_submit)
        self.footer.addWidget(self.cancel_button)
        self.footer.addStretch(1)
        self.footer.addWidget(self.sign_in_button)
        self.column.addStretch(1)

    def focus_first(self) -> None:
        (self.pin if self.username.text() else self.username).setFocus()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()
        self.pin.clear()
        self.pin.setFocus()

    def wait(self, seconds: int) -> None:
        """A wait before the next try: the keypad and Sign in disabled, the seconds shown."""
        waiting = seconds > 0
        for widget in (self.keypad, self.pin, self.sign_in_button):
            widget.setEnabled(not waiting)
        if waiting:
            self.error.setText(t(self.lang, "staff.pin.wait", seconds=seconds))
            self.error.show()
        else:
            self.error.hide()
            self.pin.setFocus()

    def _on_submit(self) -> None:
        if not self.sign_in_button.isEnabled():
            return
        if not self.username.text().strip() or not self.pin.text():
            self.show_error(t(self.lang, "staff.pin.empty"))
            return
        emit(self.submitted, self.username.text().strip(), self.pin.text())


class SetupPage(Page):
    """First run: no database yet. Creates it with the administrator's username and PIN."""

    submitted = Signal(str, str, str)

    def __init__(self, lang: str, db_path: str) -> None:
        super().__init__(t(lang, "staff.setup.title"), max_width_mm=140, scroll=True)
        self.lang = lang
        self.add(label(t(lang, "staff.setup.title"), "title"))
        self.add(label(t(lang, "staff.setup.intro"), "subtitle"))
        self.add(label(t(lang, "staff.setup.database", path=db_path), "hint"))
        self.site = line_edit(t(lang, "staff.setup.site"))
        self.site.setText("01")
        self.username = line_edit(t(lang, "staff.setup.username"))
        self.username.setText("admin")
        self.pin = line_edit(t(lang, "staff.setup.pin"), secret=True, digits=True)
        self.pin_again = line_edit(t(lang, "staff.setup.pin_again"), secret=True, digits=True)
        for text_key, field in (
            ("staff.setup.site", self.site),
            ("staff.setup.username", self.username),
            ("staff.setup.pin", self.pin),
            ("staff.setup.pin_again", self.pin_again),
        ):
            self.add(label(t(lang, text_key), "hint"))
            self.add(field)
        self.pin_again.returnPressed.connect(self._on_submit)
        fields = (self.site, self.username, self.pin, self.pin_again)
        self.keyboard = OnScreenKeyboard(*fields, lang=lang)
        self.add(keyboard_toggle(self.keyboard))
        self.add(self.keyboard)
        self.error = label("", "error")
        self.error.hide()
        self.add(self.error)
        self.create_button = button(t(lang, "staff.setup.create"), "primary")
        self.create_button.clicked.connect(self._on_submit)
        self.footer.addStretch(1)
        self.footer.addWidget(self.create_button)
        self.column.addStretch(1)

    def focus_first(self) -> None:
        self.pin.setFocus()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def _on_submit(self) -> None:
        if self.pin.text() != self.pin_again.text():
            self.show_error(t(self.lang, "staff.setup.mismatch"))
            return
        emit(
            self.submitted, self.site.text().strip(), self.username.text().strip(), self.pin.text()
        )


class StaffHomePage(Page):
    """After a staff sign-in: start a visit, the investigator console, settings, about, lock, quit.

    `console_requested` is the investigator console's way in (a separate screen added to the
    window's page stack later; see `ui.kiosk.window`). When a patient's questionnaires are open
    (staff left patient mode with their PIN), the page offers to return to the patient or to
    park them.
    """

    start_visit_requested = Signal()
    console_requested = Signal()
    settings_requested = Signal()
    about_requested = Signal()
    lock_requested = Signal()
    quit_requested = Signal()
    return_requested = Signal()
    park_requested = Signal()

    def __init__(
        self, lang: str, username: str, role: str, open_session: str = "", notice: str = ""
    ) -> None:
        super().__init__(t(lang, "staff.home.title", username=username), max_width_mm=190)
        self.add(label(t(lang, "staff.home.title", username=username), "title"))
        self.add(label(t(lang, "staff.home.role", role=t(lang, f"staff.role.{role}")), "hint"))
        self.notice = label(notice, "error")
        self.add(self.notice)  # (in the page before it is shown: never a window of its own)
        self.notice.setVisible(bool(notice))
        self.buttons: dict[str, QPushButton] = {}
        if open_session:
            self.add(label(open_session, "subtitle"))
            self._add("return", t(lang, "staff.home.return_to_patient"), self.return_requested)
            self._add("park", t(lang, "staff.home.park"), self.park_requested, role="")
        else:
            self._add("start", t(lang, "staff.home.start_visit"), self.start_visit_requested)
        self._add("console", t(lang, "staff.home.console"), self.console_requested, role="")
        self._add("settings", t(lang, "staff.home.settings"), self.settings_requested, role="")
        self._add("about", t(lang, "staff.home.about"), self.about_requested, role="")
        self.column.addStretch(1)
        lock = button(t(lang, "staff.home.lock"))
        lock.clicked.connect(self.lock_requested)
        quit_ = button(t(lang, "staff.home.quit"), "quiet")
        quit_.clicked.connect(self._ask_quit)
        self.buttons["lock"], self.buttons["quit"] = lock, quit_
        self.quit_panel = self._quit_panel(lang)
        self.footer.addWidget(quit_)
        self.footer.addStretch(1)
        self.footer.addWidget(lock)

    def _quit_panel(self, lang: str) -> QFrame:
        """ "Quit the application?": Cancel (the safe choice) is the primary-looking button."""
        panel = QFrame()
        panel.setProperty("role", "banner")
        box = QVBoxLayout(panel)
        box.addWidget(label(t(lang, "staff.home.quit_confirm"), "subtitle"))
        self.quit_yes = button(t(lang, "staff.home.quit_yes"))
        self.quit_no = button(t(lang, "staff.home.quit_no"), "primary")
        self.quit_yes.clicked.connect(self.quit_requested)
        self.quit_no.clicked.connect(lambda: panel.setVisible(False))
        row = QHBoxLayout()
        row.addWidget(self.quit_yes)
        row.addStretch(1)
        row.addWidget(self.quit_no)
        box.addLayout(row)
        panel.hide()
        self.add(panel)
        return panel

    def _ask_quit(self) -> None:
        self.quit_panel.show()
        self.quit_no.setFocus()

    def _add(self, key: str, text: str, signal: SignalInstance, role: str = "primary") -> None:
        widget = button(text, role)
        widget.clicked.connect(signal)
        self.add(widget)
        self.buttons[key] = widget


class ConsoleMissingPage(Page):
    """Said when no investigator console is installed; `back_requested` returns home."""

    back_requested = Signal()

    def __init__(self, lang: str) -> None:
        super().__init__(t(lang, "staff.home.console"))
        self.add(label(t(lang, "staff.home.console"), "title"))
        self.add(label(t(lang, "staff.home.console_missing"), "subtitle"))
        self.column.addStretch(1)
        back = button(t(lang, "common.back"))
        back.clicked.connect(self.back_requested)
        self.footer.addWidget(back)
        self.footer.addStretch(1)
