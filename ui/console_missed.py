"""MissedPanel: record that a subject's visit will not take place, with its mandatory reason."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLineEdit, QVBoxLayout

from respine_desktop import storage
from respine_desktop.i18n import t
from respine_desktop.storage import Staff, StorageError, StudyDb
from ui.signals import emit
from ui.widgets import button, label


class MissedPanel(QFrame):
    """Shown under the worklist by `ask(subject, visit)`; storage checks the reason and state."""

    marked = Signal(str, str)
    cancelled = Signal()

    def __init__(self, db: StudyDb, staff: Staff, lang: str) -> None:
        super().__init__()
        self.setProperty("role", "card")
        self.db, self.staff, self.lang = db, staff, lang
        self.subject_code = ""
        self.visit_code = ""
        column = QVBoxLayout(self)
        self.title = label("", "subtitle")
        column.addWidget(self.title)
        column.addWidget(label(t(lang, "console.missed.hint"), "hint"))
        self.reason = QLineEdit()
        self.reason.setAccessibleName(t(lang, "console.missed.reason"))
        self.reason.setPlaceholderText(t(lang, "console.missed.reason"))
        self.reason.textChanged.connect(self._refresh)
        self.reason.returnPressed.connect(self.confirm)
        column.addWidget(self.reason)
        self.error = label("", "error")
        self.error.hide()
        column.addWidget(self.error)
        row = QHBoxLayout()
        self.cancel_button = button(t(lang, "common.cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        self.confirm_button = button(t(lang, "console.missed.confirm"), "primary")
        self.confirm_button.clicked.connect(self.confirm)
        row.addWidget(self.cancel_button)
        row.addStretch(1)
        row.addWidget(self.confirm_button)
        column.addLayout(row)
        self.hide()

    def ask(self, subject_code: str, visit_code: str, visit_label: str) -> None:
        """Ask for the reason `visit_code` of `subject_code` is missed."""
        self.subject_code, self.visit_code = subject_code, visit_code
        self.title.setText(
            t(self.lang, "console.missed.title", subject=subject_code, visit=visit_label)
        )
        self.reason.clear()
        self.error.hide()
        self._refresh()
        self.show()
        self.reason.setFocus()

    def confirm(self) -> None:
        """Mark the visit missed with the reason typed (storage refuses a blank one)."""
        if not self.subject_code:
            return
        try:
            storage.mark_missed(
                self.db,
                self.subject_code,
                self.visit_code,
                staff=self.staff,
                reason=self.reason.text(),
            )
        except StorageError as exc:
            self.error.setText(t(self.lang, "console.error.refused", message=str(exc)))
            self.error.show()
            return
        subject, visit = self.subject_code, self.visit_code
        self.subject_code = self.visit_code = ""
        self.hide()
        emit(self.marked, subject, visit)

    def cancel(self) -> None:
        self.subject_code = self.visit_code = ""
        self.hide()
        emit(self.cancelled)

    def _refresh(self) -> None:
        self.confirm_button.setEnabled(bool(self.reason.text().strip()))
