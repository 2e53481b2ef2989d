"""ReasonPanel: a card that asks staff for the mandatory reason of a change before recording it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLineEdit, QVBoxLayout

from respine_desktop.i18n import error_text, t
from respine_desktop.storage import Staff, StorageError, StudyDb
from ui.widgets.page import button, label
from ui.widgets.signals import emit


class ReasonPanel(QFrame):
    """A title, a hint, the reason, a line for a refusal, then Cancel and Confirm.

    Confirm is enabled once a reason is typed; Enter in the reason confirms, Escape cancels.
    A subclass says what is pending (`_pending`), records it (`_record`: the storage call, which
    keeps the rules and raises `StorageError` to refuse, shown here in the user's language),
    then reports it (`_finish`) and forgets it (`_clear`).
    """

    cancelled = Signal()

    def __init__(
        self, db: StudyDb, staff: Staff, lang: str, *, hint: str, reason: str, confirm: str
    ) -> None:
        super().__init__()
        self.setProperty("role", "card")
        self.db, self.staff, self.lang = db, staff, lang
        column = QVBoxLayout(self)
        self.title = label("", "subtitle")
        column.addWidget(self.title)
        column.addWidget(label(hint, "hint"))
        self.reason = QLineEdit()
        self.reason.setAccessibleName(reason)
        self.reason.setPlaceholderText(reason)
        self.reason.textChanged.connect(lambda *_: self._refresh())
        self.reason.returnPressed.connect(self.confirm)
        column.addWidget(self.reason)
        self.error = label("", "error")
        self.error.hide()
        column.addWidget(self.error)
        row = QHBoxLayout()
        self.cancel_button = button(t(lang, "common.cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        self.confirm_button = button(confirm, "primary")
        self.confirm_button.clicked.connect(self.confirm)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(self.confirm_button)
        column.addLayout(row)
        self.hide()

    def confirm(self) -> None:
        """Record what is pending with the reason typed (storage refuses a blank one)."""
        if not self._pending():
            return
        try:
            self._record(self.reason.text())
        except StorageError as exc:
            self.error.setText(
                t(self.lang, "console.error.refused", message=error_text(self.lang, exc))
            )
            self.error.show()
            return
        self.hide()
        self._finish()

    def cancel(self) -> None:
        self._clear()
        self.hide()
        emit(self.cancelled)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.cancel()
            return
        super().keyPressEvent(event)

    def _open(self, title: str) -> None:
        """Show the panel for a new question, its reason empty and focused."""
        self.title.setText(title)
        self.reason.clear()
        self.error.hide()
        self._refresh()
        self.show()
        self.reason.setFocus()

    def _refresh(self) -> None:
        self.confirm_button.setEnabled(bool(self.reason.text().strip()))

    def _pending(self) -> bool:
        raise NotImplementedError

    def _record(self, reason: str) -> None:
        raise NotImplementedError

    def _finish(self) -> None:
        raise NotImplementedError

    def _clear(self) -> None:
        raise NotImplementedError
