"""MissedPanel: record that a subject's visit will not take place, with its mandatory reason."""

from __future__ import annotations

from PySide6.QtCore import Signal

from respine_desktop import storage
from respine_desktop.i18n import t
from respine_desktop.storage import Staff, StudyDb
from ui.widgets.reason_panel import ReasonPanel
from ui.widgets.signals import emit


class MissedPanel(ReasonPanel):
    """Shown under the worklist by `ask(subject, visit)`; storage checks the reason and state."""

    marked = Signal(str, str)

    def __init__(self, db: StudyDb, staff: Staff, lang: str) -> None:
        super().__init__(
            db,
            staff,
            lang,
            hint=t(lang, "console.missed.hint"),
            reason=t(lang, "console.missed.reason"),
            confirm=t(lang, "console.missed.confirm"),
        )
        self.subject_code = ""
        self.visit_code = ""

    def ask(self, subject_code: str, visit_code: str, visit_label: str) -> None:
        """Ask for the reason `visit_code` of `subject_code` is missed."""
        self.subject_code, self.visit_code = subject_code, visit_code
        self._open(t(self.lang, "console.missed.title", subject=subject_code, visit=visit_label))

    def _pending(self) -> bool:
        return bool(self.subject_code)

    def _record(self, reason: str) -> None:
        storage.mark_missed(
            self.db, self.subject_code, self.visit_code, staff=self.staff, reason=reason
        )

    def _finish(self) -> None:
        subject, visit = self.subject_code, self.visit_code
        self._clear()
        emit(self.marked, subject, visit)

    def _clear(self) -> None:
        self.subject_code = self.visit_code = ""
