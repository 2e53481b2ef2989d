"""ReauthFields: re-entry of credentials (21 CFR 11.200) before a correction or a conflict choice.

The first re-entry in a console page's lifetime asks for the username and the PIN, each later one
the PIN only (`ReauthSession`, one per `ConsolePage`: a lock deletes the page, so a new sign-in
starts a new series). The PIN is checked in the domain (`storage.reauthenticate`), which counts a
wrong PIN toward the account's lockout and audits every attempt; the proof it returns is what the
storage call recording the change receives. Cancelling clears the fields and writes nothing.
"""

from __future__ import annotations

import math
from datetime import datetime

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout

from respine_desktop import clock, storage
from respine_desktop.i18n import t
from respine_desktop.storage import (
    AccountLocked,
    InvalidInput,
    Reauthenticated,
    Staff,
    StorageError,
    StudyDb,
    WrongPin,
)
from ui.console.texts import local_time, refused
from ui.widgets.fields import line_edit
from ui.widgets.keyboard import OnScreenKeyboard, keyboard_toggle
from ui.widgets.page import label
from ui.widgets.signals import emit


class ReauthSession:
    """Whether the username was re-entered once already in this console page's lifetime."""

    def __init__(self) -> None:
        self.username_entered = False


class ReauthFields(QFrame):
    """Username (the first time) and PIN, the on-screen keys, and the line saying a refusal."""

    changed = Signal()

    def __init__(
        self,
        db: StudyDb,
        staff: Staff,
        lang: str,
        session: ReauthSession | None = None,
        *,
        compact: bool = False,
    ) -> None:
        super().__init__()
        self.setObjectName("reauth")
        self.db, self.staff, self.lang = db, staff, lang
        self.session = session if session is not None else ReauthSession()
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        self.hint = label("", "hint")
        row = QHBoxLayout()
        # Compact: the hint beside the fields (where the form shares the screen with a table).
        if compact:
            row.addWidget(self.hint, 2)
        else:
            column.addWidget(self.hint)
        self.username = line_edit(t(lang, "console.reauth.username"))
        self.pin = line_edit(t(lang, "console.reauth.pin"), secret=True, digits=True)
        for field in (self.username, self.pin):
            field.textChanged.connect(lambda *_: emit(self.changed))
            field.setMinimumWidth(200)
            row.addWidget(field, 1)
        self.keyboard = OnScreenKeyboard(self.username, self.pin, lang=lang)
        self.keyboard_button = keyboard_toggle(self.keyboard)
        row.addWidget(self.keyboard_button)
        column.addLayout(row)
        column.addWidget(self.keyboard)
        self.error = label("", "error")
        self.error.setObjectName("reauthError")
        self.error.hide()
        column.addWidget(self.error)
        self.prepare()

    def asks_username(self) -> bool:
        return not self.session.username_entered

    def prepare(self) -> None:
        """Empty fields for a new change (the username only if not re-entered yet)."""
        self.username.clear()
        self.pin.clear()
        self.error.hide()
        first = self.asks_username()
        self.username.setVisible(first)
        self.hint.setText(
            t(self.lang, "console.reauth.hint_first" if first else "console.reauth.hint_pin")
        )
        self.keyboard.serve(self.username if first else self.pin)

    def ready(self) -> bool:
        """Whether what the change needs is typed (the PIN, and the username the first time)."""
        return bool(self.pin.text()) and (
            not self.asks_username() or bool(self.username.text().strip())
        )

    def verify(self) -> Reauthenticated | None:
        """The domain's proof of the re-entry, or None after saying why it was refused."""
        if not self.ready():  # nothing typed is nothing to check (and no failure counted)
            self.error.setText(t(self.lang, "console.reauth.missing"))
            self.error.show()
            return None
        username = self.username.text() if self.asks_username() else None
        try:
            proof = storage.reauthenticate(self.db, self.staff, self.pin.text(), username=username)
        except StorageError as exc:
            self.pin.clear()
            self.error.setText(self.refusal(exc))
            self.error.show()
            return None
        self.session.username_entered = True
        self.error.hide()
        return proof

    def refusal(self, exc: StorageError) -> str:
        """What to tell staff about a refused re-entry, in their language."""
        lang = self.lang
        if isinstance(exc, AccountLocked):
            until = storage.get_staff(self.db, self.staff.username).locked_until
            if until:
                end = datetime.fromisoformat(until.replace("Z", "+00:00"))
                minutes = max(1, math.ceil((end - clock.now()).total_seconds() / 60))
                return t(lang, "console.reauth.locked", minutes=minutes, until=local_time(until))
        if isinstance(exc, WrongPin):
            account = storage.get_staff(self.db, self.staff.username)
            left = storage.login_policy(self.db).max_failures - account.failed_attempts
            return t(lang, "console.reauth.wrong_pin", left=left)
        if isinstance(exc, InvalidInput) and self.asks_username():
            return t(lang, "console.reauth.other_account", username=self.staff.username)
        return refused(lang, exc)
