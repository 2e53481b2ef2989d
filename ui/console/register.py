"""RegisterView: register a pseudonymous subject (study id, site, day 0); storage validates it."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import QComboBox, QDateEdit, QHBoxLayout, QVBoxLayout, QWidget

from respine_desktop import storage
from respine_desktop.i18n import t
from respine_desktop.storage import Staff, StorageError, StudyDb
from ui.console.layout import FormGrid
from ui.console.texts import refused
from ui.widgets.fields import line_edit
from ui.widgets.page import button, label, say
from ui.widgets.signals import emit


class RegisterView(QWidget):
    """The form. No name, birth date or contact field exists: the study id is the only one."""

    registered = Signal(str)

    def __init__(self, db: StudyDb, staff: Staff, lang: str) -> None:
        super().__init__()
        self.db, self.staff, self.lang = db, staff, lang
        outer = QHBoxLayout(self)
        box = QWidget()
        box.setMaximumWidth(760)
        outer.addWidget(box, 1)
        outer.addStretch(0)
        column = QVBoxLayout(box)
        column.addWidget(label(t(lang, "console.register.intro"), "hint"))
        form = FormGrid()
        self.code = line_edit(t(lang, "console.register.code"))
        self.code.setPlaceholderText(t(lang, "console.register.code_hint"))
        self.code.returnPressed.connect(self.submit)
        form.add_row(t(lang, "console.register.code"), self.code)
        self.site = QComboBox()
        self.site.setAccessibleName(t(lang, "console.register.site"))
        for code in storage.list_sites(db):
            self.site.addItem(code, code)
        self.site.setCurrentIndex(max(0, self.site.findData(db.site_code)))
        form.add_row(t(lang, "console.register.site"), self.site)
        self.day0 = QDateEdit()
        self.day0.setAccessibleName(t(lang, "console.register.day0"))
        self.day0.setCalendarPopup(True)
        self.day0.setDisplayFormat("yyyy-MM-dd")
        self.day0.setDate(QDate.currentDate())
        form.add_row(t(lang, "console.register.day0"), self.day0)
        column.addLayout(form)
        column.addWidget(label(t(lang, "console.register.day0_hint"), "hint"))
        self.message = label("", "hint")
        self.message.hide()
        column.addWidget(self.message)
        row = QHBoxLayout()
        row.addStretch(1)
        self.register_button = button(t(lang, "console.register.submit"), "primary")
        self.register_button.clicked.connect(self.submit)
        row.addWidget(self.register_button)
        column.addLayout(row)
        column.addStretch(1)

    def set_day0(self, day: date) -> None:
        self.day0.setDate(QDate(day.year, day.month, day.day))

    def submit(self) -> None:
        """Register the subject as typed; the message says what storage answered."""
        code = self.code.text().strip().upper()
        day0 = self.day0.date().toPython()
        assert isinstance(day0, date)
        try:
            subject = storage.register_subject(
                self.db, code, day0=day0, staff=self.staff, site_code=self.site.currentData()
            )
        except StorageError as exc:
            say(self.message, refused(self.lang, exc), "error")
            return
        self.code.clear()
        say(
            self.message,
            t(
                self.lang,
                "console.register.done",
                subject=subject.code,
                site=subject.site_code,
                day0=subject.day0.isoformat(),
            ),
            "hint",
        )
        emit(self.registered, subject.code)
