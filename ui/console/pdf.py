"""PdfPanel: make a PDF report off the UI thread with a progress bar, then open or print it.

The panel asks where to save (a file dialog with a dated default name in the documents folder),
runs the report function in the shared `JobPanel` (progress, Cancel, status line); the window
stays responsive. Once written, Open hands the file to the system viewer and Print to the system
print dialog (or says why printing is unavailable here).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QStandardPaths, Signal
from PySide6.QtWidgets import QFileDialog, QFrame, QHBoxLayout, QVBoxLayout

from respine_desktop.i18n import t
from respine_desktop.reports import ReportFile
from ui.console.printing import open_in_viewer, print_pdf, print_unavailable
from ui.widgets.job_panel import JobPanel
from ui.widgets.jobs import USER_ERRORS, BackgroundJob, Progress
from ui.widgets.page import button, label
from ui.widgets.signals import emit

PdfWork = Callable[[Progress], ReportFile]
"""``work(progress)``: writes the PDF, in a worker thread (so it opens its own database)."""
MakePdf = Callable[[Path], PdfWork]
"""``make(out)``, called in the UI thread when staff ask: the work that writes `out`."""

# The folder the last PDF was saved in: the next dialog starts there (a path, no data).
_last_folder: Path | None = None


def default_folder() -> Path:
    """Where the save dialog starts: the last folder used, else the documents folder."""
    if _last_folder is not None and _last_folder.is_dir():
        return _last_folder
    docs = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(docs) if docs and Path(docs).is_dir() else Path.home()


class PdfPanel(QFrame):
    """A "make the PDF" button, its job panel, and Open / Print for the file written."""

    started = Signal(object)  # the BackgroundJob, before it is queued
    written = Signal(object)  # ReportFile
    failed = Signal(str)

    def __init__(
        self,
        lang: str,
        *,
        button_text: str,
        default_name: Callable[[], str],
        make: MakePdf,
        expected: tuple[type[BaseException], ...] = USER_ERRORS,
    ) -> None:
        super().__init__()
        self.setObjectName("pdfPanel")
        self.lang = lang
        self._default_name = default_name
        self._make = make
        self._expected = expected
        self.report: ReportFile | None = None
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.make_button = button(button_text, "primary")
        self.make_button.clicked.connect(lambda: self.start())
        self.open_button = button(t(lang, "console.pdf.open"))
        self.open_button.clicked.connect(self.open_pdf)
        self.print_button = button(t(lang, "console.pdf.print"))
        self.print_button.clicked.connect(self.print_pdf)
        row.addWidget(self.make_button)
        row.addWidget(self.open_button)
        row.addWidget(self.print_button)
        row.addStretch(1)
        column.addLayout(row)
        self.jobs = JobPanel(
            lang, name=button_text, working="console.pdf.working", cancelled="console.pdf.cancelled"
        )
        self.jobs.started.connect(self._on_started)
        self.jobs.succeeded.connect(self._on_succeeded)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.ended.connect(self._refresh)
        column.addWidget(self.jobs)
        self.progress, self.status = self.jobs.progress, self.jobs.status
        self.print_note = label("", "hint")
        self.print_note.hide()
        column.addWidget(self.print_note)
        self._refresh()

    @property
    def job(self) -> BackgroundJob | None:
        """The job making the PDF, while it runs."""
        return self.jobs.job

    # -- what staff do -------------------------------------------------------------------------

    def choose_path(self) -> Path | None:
        """Ask where to save, starting in `default_folder()` with the default name."""
        start = default_folder() / self._default_name()
        chosen, _ = QFileDialog.getSaveFileName(
            self, self.make_button.text(), str(start), t(self.lang, "console.pdf.filter")
        )
        return Path(chosen) if chosen else None

    def start(self, out: Path | None = None) -> BackgroundJob | None:
        """Make the PDF at `out` (asked for when None) in the background; the job, or None."""
        if self.jobs.busy:
            return None
        if out is None:
            out = self.choose_path()
            if out is None:
                return None
        if out.suffix.lower() != ".pdf":
            out = out.with_name(out.name + ".pdf")
        global _last_folder
        _last_folder = out.parent
        self.report = None
        return self.jobs.run(self._make(out), expected=self._expected)

    def open_pdf(self) -> None:
        if self.report is not None and not open_in_viewer(self.report.path):
            self.jobs.say(
                t(self.lang, "console.pdf.open_failed", path=str(self.report.path)), "error"
            )

    def print_pdf(self) -> None:
        if self.report is None or print_unavailable() is not None:
            return
        spooled = print_pdf(self.report.path, self)
        if spooled is not None:
            text = t(self.lang, spooled.key, **spooled.values)
            self.jobs.say(text, "hint" if spooled.ok else "error")

    # -- the job's events ----------------------------------------------------------------------

    def _on_started(self, job: object) -> None:
        self._refresh()
        emit(self.started, job)

    def _on_succeeded(self, report: object) -> None:
        assert isinstance(report, ReportFile)
        self.report = report
        self.jobs.say(
            t(self.lang, "console.pdf.saved", path=str(report.path), pages=report.pages), "hint"
        )
        emit(self.written, report)

    def _on_failed(self, message: str) -> None:
        self.jobs.say(t(self.lang, "console.pdf.failed", message=message), "error")
        emit(self.failed, message)

    # -- display -------------------------------------------------------------------------------

    def _refresh(self) -> None:
        busy = self.jobs.busy
        self.make_button.setEnabled(not busy)
        have = self.report is not None and not busy
        self.open_button.setEnabled(have)
        why = print_unavailable()
        self.print_button.setEnabled(have and why is None)
        self.print_note.setVisible(have and why is not None)
        if why is not None:
            self.print_note.setText(t(self.lang, why))
            self.print_button.setToolTip(t(self.lang, why))
