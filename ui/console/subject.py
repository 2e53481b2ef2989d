"""SubjectView: one subject's scores, charts, corrections, audit history and e-signatures, and
their PDF.

Everything shown comes from `reports.patient_summary` (the numbers of the patient PDF) and
`storage.audit_entries`; after a correction the view reads them again, so the recomputed scores
appear at once.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QTabWidget, QVBoxLayout, QWidget

from respine_desktop import reports, storage
from respine_desktop.i18n import t
from respine_desktop.reports import PatientSummary, ReportFile
from respine_desktop.storage import Staff, StorageError, StudyDb
from ui.console.charts import SubjectCharts
from ui.console.correction import CorrectionPanel
from ui.console.history import AuditTable, CorrectionList
from ui.console.layout import TAB_MARGIN, scrolling
from ui.console.pdf import PdfPanel, PdfWork
from ui.console.reauth import ReauthSession
from ui.console.scores import ScoreTable, responder_text, score_legend
from ui.console.signing import SigningPanel
from ui.console.texts import refused
from ui.console.withdrawal import WithdrawalPanel
from ui.widgets.jobs import Progress
from ui.widgets.page import button, label
from ui.widgets.tap_details import details_line


def patient_pdf_work(db_path: Path, subject_code: str, out: Path) -> PdfWork:
    """The work that writes `subject_code`'s summary PDF to `out` (in a worker thread)."""

    def work(_progress: Progress) -> ReportFile:
        with storage.open_database(db_path, readonly=True) as db:
            return reports.write_patient_pdf(db, subject_code, out)

    return work


class SubjectView(QWidget):
    """Header (subject, PDF, sign), then tabs: scores, charts, corrections, audit history,
    signatures."""

    closed = Signal()

    def __init__(
        self,
        db: StudyDb,
        staff: Staff,
        lang: str,
        subject_code: str,
        reauth: ReauthSession | None = None,
    ) -> None:
        super().__init__()
        self.db, self.staff, self.lang = db, staff, lang
        self.reauth = reauth
        self.subject_code = subject_code
        self.summary: PatientSummary | None = None
        self._charts_stale = True
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(self._header())
        self.primary = label("", "subtitle")
        column.addWidget(self.primary)
        self.withdrawal_note = label("", "hint")
        column.addWidget(self.withdrawal_note)
        self.withdrawal = WithdrawalPanel(db, staff, lang)
        self.withdrawal.withdrawn.connect(self._on_withdrawn)
        column.addWidget(self.withdrawal)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("subjectTabs")
        self.scores = ScoreTable(lang)
        self.legend = label("", "hint")
        self.tabs.addTab(self._scores_tab(), t(lang, "console.subject.scores"))
        self.charts = SubjectCharts(lang)
        self.tabs.addTab(self.charts, t(lang, "console.subject.charts"))
        self.tabs.addTab(self._corrections_tab(), t(lang, "console.subject.corrections"))
        self.audit = AuditTable(lang)
        audit_tab = QWidget()
        audit_column = QVBoxLayout(audit_tab)
        audit_column.setContentsMargins(0, 0, 0, 0)
        audit_column.addWidget(self.audit, 1)
        audit_column.addWidget(details_line(self.audit))
        self.tabs.addTab(audit_tab, t(lang, "console.subject.audit"))
        self.tabs.currentChanged.connect(lambda *_: self._draw_charts_if_shown())
        column.addWidget(self.tabs, 1)
        self.error = label("", "error")
        self.error.hide()
        column.addWidget(self.error)
        self.signing = SigningPanel(db, staff, lang, subject_code, reauth)
        self.signing.signed.connect(self._on_signed)
        self.signatures_tab = scrolling(self._padded(self.signing))
        self.tabs.addTab(self.signatures_tab, t(lang, "console.subject.signatures"))
        # The "Sign…" action beside the withdrawal (investigators and administrators only).
        self.action_row.insertWidget(1, self.signing.open_button)
        self.signing.open_button.clicked.connect(
            lambda: self.tabs.setCurrentWidget(self.signatures_tab)
        )
        self.reload()

    @staticmethod
    def _padded(widget: QWidget) -> QWidget:
        tab = QWidget()
        column = QVBoxLayout(tab)
        column.setContentsMargins(TAB_MARGIN, TAB_MARGIN, TAB_MARGIN, TAB_MARGIN)
        column.addWidget(widget)
        return tab

    def _header(self) -> QVBoxLayout:
        # Two rows: the subject, then the PDF buttons (one row is wider than a portrait tablet).
        rows = QVBoxLayout()
        row = QHBoxLayout()
        rows.addLayout(row)
        back = button(t(self.lang, "console.subject.back"))
        back.clicked.connect(self.closed)
        self.back_button = back
        row.addWidget(back)
        self.title = label(self.subject_code, "title", wrap=False)
        row.addWidget(self.title)
        self.details = label("", "hint")
        row.addWidget(self.details, 1)
        self.pdf = PdfPanel(
            self.lang,
            button_text=t(self.lang, "console.pdf.patient"),
            default_name=lambda: f"RESPINE_{self.subject_code}_{date.today().isoformat()}.pdf",
            make=lambda out: patient_pdf_work(self.db.path, self.subject_code, out),
        )
        pdf_row = QHBoxLayout()
        self.withdraw_button = button(t(self.lang, "console.withdrawal.button"))
        self.withdraw_button.clicked.connect(self.ask_withdrawal)
        pdf_row.addWidget(self.withdraw_button)
        self.action_row = pdf_row
        pdf_row.addStretch(1)
        pdf_row.addWidget(self.pdf)
        rows.addLayout(pdf_row)
        return rows

    def _scores_tab(self) -> QWidget:
        tab = QWidget()
        column = QVBoxLayout(tab)
        column.setContentsMargins(0, 0, 0, 4)
        column.addWidget(self.scores, 1)
        column.addWidget(details_line(self.scores))
        column.addWidget(self.legend)
        return tab

    def _corrections_tab(self) -> QWidget:
        tab = QWidget()
        column = QVBoxLayout(tab)
        column.setContentsMargins(TAB_MARGIN, TAB_MARGIN, TAB_MARGIN, TAB_MARGIN)
        self.correction = CorrectionPanel(self.db, self.staff, self.lang, self.reauth)
        self.correction.corrected.connect(self._on_corrected)
        column.addWidget(self.correction)
        column.addWidget(label(t(self.lang, "console.corrections.hint"), "hint"))
        self.corrections = CorrectionList(self.lang)
        self.corrections.setMinimumHeight(160)
        column.addWidget(self.corrections, 1)
        column.addWidget(details_line(self.corrections))
        self.corrected_note = label("", "hint")
        self.corrected_note.hide()
        column.addWidget(self.corrected_note)
        # The open correction form is tall: the tab scrolls rather than the window growing.
        return scrolling(tab)

    def reload(self) -> None:
        """Read the subject's summary and audit history again and show them."""
        try:
            summary = reports.patient_summary(self.db, self.subject_code)
            entries = storage.audit_entries(self.db, subject_code=self.subject_code)
        except StorageError as exc:
            self.error.setText(refused(self.lang, exc))
            self.error.show()
            return
        self.summary = summary
        self.details.setText(
            t(
                self.lang,
                "console.subject.details",
                site=summary.site_code,
                day0=summary.day0.isoformat(),
            )
        )
        self.legend.setText(score_legend(self.lang, summary))
        self.scores.show_summary(summary)
        primary = summary.primary
        self.primary.setText(
            t(
                self.lang,
                "console.subject.primary",
                visit=summary.study.endpoint.visit,
                result=responder_text(self.lang, primary) if primary else "\u2013",
            )
        )
        self.correction.set_summary(summary)
        self.signing.set_summary(summary)
        withdrawn = summary.withdrawn_on is not None
        self.withdraw_button.setEnabled(not withdrawn)
        self.withdrawal_note.setVisible(withdrawn)
        if summary.withdrawn_on is not None:
            self.withdrawal_note.setText(
                t(
                    self.lang,
                    "console.withdrawal.shown",
                    day=summary.withdrawn_on.isoformat(),
                    reason=summary.withdrawal_reason or "",
                )
            )
        self.corrections.show_corrections(summary.corrections)
        names = {s.id: s.username for s in storage.list_staff(self.db)}
        self.audit.show_entries(entries, names)
        self._charts_stale = True
        self._draw_charts_if_shown()

    def show_charts(self) -> None:
        """Bring the charts tab forward (they are drawn the first time they are shown)."""
        self.tabs.setCurrentWidget(self.charts)

    def _draw_charts_if_shown(self) -> None:
        if self.tabs.currentWidget() is self.charts and self._charts_stale:
            assert self.summary is not None
            self._charts_stale = False
            self.charts.draw(self.summary)

    def ask_withdrawal(self) -> None:
        if self.summary is not None:
            self.withdrawal.ask(self.subject_code, self.summary.day0)

    def _on_withdrawn(self, subject: str, day: str) -> None:
        self.reload()
        self.corrected_note.setText(
            t(self.lang, "console.withdrawal.done", subject=subject, day=day)
        )
        self.corrected_note.show()

    def _on_signed(self, target: str) -> None:
        self.reload()  # the states, and the signature entry in the audit history

    def _on_corrected(self, visit: str, item_id: str) -> None:
        self.reload()
        self.corrected_note.setText(t(self.lang, "console.correct.done", visit=visit))
        self.corrected_note.show()
