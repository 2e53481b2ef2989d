"""WithdrawalPanel: record that a subject withdrew from the study, with the day and a reason."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import QDateEdit, QVBoxLayout

from respine_desktop import schedule, storage
from respine_desktop.i18n import t
from respine_desktop.storage import Staff, StudyDb
from ui.widgets.reason_panel import ReasonPanel
from ui.widgets.signals import emit


class WithdrawalPanel(ReasonPanel):
    """Shown by `ask(subject, day0)`: a day (day 0 .. today) above the reason; storage checks
    both and refuses a second withdrawal."""

    withdrawn = Signal(str, str)

    def __init__(self, db: StudyDb, staff: Staff, lang: str) -> None:
        super().__init__(
            db,
            staff,
            lang,
            hint=t(lang, "console.withdrawal.hint"),
            reason=t(lang, "console.withdrawal.reason"),
            confirm=t(lang, "console.withdrawal.confirm"),
        )
        self.subject_code = ""
        self.day = QDateEdit()
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.day.setAccessibleName(t(lang, "console.withdrawal.date"))
        layout = self.layout()
        assert isinstance(layout, QVBoxLayout)
        layout.insertWidget(2, self.day)  # under the title and the hint, above the reason

    def ask(self, subject_code: str, day0: date) -> None:
        """Ask for the day and the reason `subject_code` withdrew (the day defaults to today)."""
        self.subject_code = subject_code
        today = schedule.today()
        self.day.setDateRange(_qdate(day0), _qdate(today))
        self.day.setDate(_qdate(today))
        self._open(t(self.lang, "console.withdrawal.title", subject=subject_code))

    def chosen_day(self) -> date:
        return date.fromisoformat(self.day.date().toString("yyyy-MM-dd"))

    def _pending(self) -> bool:
        return bool(self.subject_code)

    def _record(self, reason: str) -> None:
        storage.withdraw_subject(
            self.db, self.subject_code, staff=self.staff, on=self.chosen_day(), reason=reason
        )

    def _finish(self) -> None:
        subject = self.subject_code
        self._clear()
        emit(self.withdrawn, subject, self.chosen_day().isoformat())

    def _clear(self) -> None:
        self.subject_code = ""


def _qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)
