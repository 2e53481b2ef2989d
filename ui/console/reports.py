"""ReportsView: the study summary PDF (off the UI thread, with progress), optionally split by arm.

The arms file (CSV ``subject_id,arm``, available after unblinding) is read for the report only,
in the worker, and never stored: the application holds no allocation.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QVBoxLayout, QWidget

from respine_desktop import reports, storage
from respine_desktop.i18n import t
from respine_desktop.reports import ReportFile
from respine_desktop.storage import StudyDb
from ui.console.pdf import PdfPanel, PdfWork, default_folder
from ui.widgets.jobs import Progress
from ui.widgets.page import button, label


def study_pdf_work(db_path: Path, out: Path, arms_path: Path | None) -> PdfWork:
    """The work that writes the study summary to `out` (in a worker thread, with progress)."""

    def work(progress: Progress) -> ReportFile:
        arms = reports.read_arms(arms_path) if arms_path is not None else None
        with storage.open_database(db_path, readonly=True) as db:
            return reports.write_study_pdf(db, out, arms=arms, progress=progress)

    return work


class ReportsView(QWidget):
    """The study summary: optional arms file, make the PDF, then open or print it."""

    def __init__(self, db: StudyDb, lang: str) -> None:
        super().__init__()
        self.db, self.lang = db, lang
        self.arms_path: Path | None = None
        column = QVBoxLayout(self)
        column.addWidget(label(t(lang, "console.reports.study_title"), "subtitle"))
        column.addWidget(label(t(lang, "console.reports.study_hint"), "hint"))
        arms_row = QHBoxLayout()
        self.arms_label = label("", "hint")
        arms_row.addWidget(self.arms_label, 1)
        self.arms_button = button(t(lang, "console.reports.arms_choose"))
        self.arms_button.clicked.connect(lambda: self.choose_arms())
        self.arms_clear = button(t(lang, "console.reports.arms_clear"))
        self.arms_clear.clicked.connect(lambda: self.set_arms(None))
        arms_row.addWidget(self.arms_button)
        arms_row.addWidget(self.arms_clear)
        column.addLayout(arms_row)
        self.study_pdf = PdfPanel(
            lang,
            button_text=t(lang, "console.pdf.study"),
            default_name=lambda: f"RESPINE_study_summary_{date.today().isoformat()}.pdf",
            make=lambda out: study_pdf_work(self.db.path, out, self.arms_path),
        )
        column.addWidget(self.study_pdf)
        column.addStretch(1)
        self.set_arms(None)

    def choose_arms(self, path: Path | None = None) -> None:
        """Use the arms file `path` (asked for in a file dialog when None)."""
        if path is None:
            chosen, _ = QFileDialog.getOpenFileName(
                self,
                t(self.lang, "console.reports.arms_choose"),
                str(default_folder()),
                t(self.lang, "console.reports.arms_filter"),
            )
            if not chosen:
                return
            path = Path(chosen)
        self.set_arms(path)

    def set_arms(self, path: Path | None) -> None:
        self.arms_path = path
        self.arms_clear.setEnabled(path is not None)
        if path is None:
            self.arms_label.setText(t(self.lang, "console.reports.arms_none"))
        else:
            self.arms_label.setText(t(self.lang, "console.reports.arms_file", path=str(path)))
