"""ExportView: the data manager's exports (CSV, CDISC ODM, REDCap, site bundle) off the UI thread.

The export runs in the shared `JobPanel` (progress, Cancel, status line): a `BackgroundJob` that
opens its own database connection (read-only, except for the site bundle, which creates the site
key the first time); the console stays usable. `respine_desktop.exports` does everything: it streams
subject by subject and replaces an output only once it is complete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QButtonGroup,
    QFileDialog,
    QHBoxLayout,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from respine_desktop import exports, storage
from respine_desktop.i18n import t
from respine_desktop.storage import StudyDb
from ui.console.pdf import default_folder
from ui.widgets.job_panel import JobPanel
from ui.widgets.jobs import BackgroundJob, Progress
from ui.widgets.page import button, label
from ui.widgets.signals import emit


@dataclass(frozen=True)
class ExportKind:
    """One export format: where it writes (a folder or one file) and how it is made."""

    key: str
    folder: bool
    suffix: str
    writes_database: bool
    run: Callable[[StudyDb, Path, Progress], object]


def _csv(db: StudyDb, out: Path, progress: Progress) -> object:
    return exports.export_csv(db, out, progress=progress)


def _odm(db: StudyDb, out: Path, progress: Progress) -> object:
    return exports.export_odm(db, out, progress=progress)


def _odm_history(db: StudyDb, out: Path, progress: Progress) -> object:
    return exports.export_odm(db, out, history=True, progress=progress)


def _redcap(db: StudyDb, out: Path, progress: Progress) -> object:
    return exports.export_redcap(db, out, progress=progress)


def _bundle(db: StudyDb, out: Path, progress: Progress) -> object:
    return exports.export_bundle(db, out, progress=progress)


KINDS: tuple[ExportKind, ...] = (
    ExportKind("csv", True, "", False, _csv),
    ExportKind("odm", False, ".xml", False, _odm),
    ExportKind("odm_history", False, ".xml", False, _odm_history),
    ExportKind("redcap", True, "", False, _redcap),
    ExportKind("bundle", False, ".bundle", True, _bundle),
)


def export_work(db_path: Path, kind: ExportKind, out: Path) -> Callable[[Progress], object]:
    """The work that writes export `kind` to `out` (in a worker thread)."""

    def work(progress: Progress) -> object:
        with storage.open_database(db_path, readonly=not kind.writes_database) as db:
            return kind.run(db, out, progress)

    return work


def result_text(lang: str, result: object) -> str:
    """What an export wrote, in a sentence."""
    if isinstance(result, exports.CsvExport):
        return t(lang, "console.export.done_csv", path=str(result.directory), n=result.subjects)
    if isinstance(result, exports.OdmExport):
        return t(lang, "console.export.done_odm", path=str(result.path), n=result.subjects)
    if isinstance(result, exports.RedcapExport):
        return t(lang, "console.export.done_redcap", path=str(result.directory), n=result.records)
    if isinstance(result, exports.BundleInfo) and not result.transition:
        path, key = str(result.path), result.key_id
        return t(lang, "console.export.done_bundle_sealed", path=path, fingerprint=key)
    if isinstance(result, exports.BundleInfo):
        return t(lang, "console.export.done_bundle", path=str(result.path), site_key=result.key_id)
    return str(result)


class ExportView(QWidget):
    """Choose a format, choose where, export in the job panel, then open the folder."""

    started = Signal(object)  # the BackgroundJob, before it is queued
    exported = Signal(object)
    failed = Signal(str)

    def __init__(self, db: StudyDb, lang: str) -> None:
        super().__init__()
        self.db, self.lang = db, lang
        self.out: Path | None = None
        column = QVBoxLayout(self)
        column.addWidget(label(t(lang, "console.export.title"), "subtitle"))
        column.addWidget(label(t(lang, "console.export.hint"), "hint"))
        self.kinds = QButtonGroup(self)
        self.buttons: dict[str, QRadioButton] = {}
        for n, kind in enumerate(KINDS):
            choice = QRadioButton(t(lang, f"console.export.kind_{kind.key}"))
            choice.setAccessibleName(choice.text())
            self.kinds.addButton(choice, n)
            self.buttons[kind.key] = choice
            column.addWidget(choice)
        self.buttons["csv"].setChecked(True)
        row = QHBoxLayout()
        self.export_button = button(t(lang, "console.export.start"), "primary")
        self.export_button.clicked.connect(lambda: self.start())
        self.open_button = button(t(lang, "console.export.open_folder"))
        self.open_button.clicked.connect(self.open_folder)
        row.addWidget(self.export_button)
        row.addWidget(self.open_button)
        row.addStretch(1)
        column.addLayout(row)
        self.jobs = JobPanel(
            lang,
            name=t(lang, "console.export.title"),
            working="console.export.working",
            cancelled="console.pdf.cancelled",
        )
        self.jobs.started.connect(self._on_started)
        self.jobs.succeeded.connect(self._on_succeeded)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.cancelled.connect(self._on_cancelled)
        self.jobs.ended.connect(self._refresh)
        column.addWidget(self.jobs)
        self.progress, self.status = self.jobs.progress, self.jobs.status
        self.cancel_button = self.jobs.cancel_button
        column.addStretch(1)
        self._refresh()

    @property
    def job(self) -> BackgroundJob | None:
        """The export under way, while it runs."""
        return self.jobs.job

    def kind(self) -> ExportKind:
        return KINDS[max(0, self.kinds.checkedId())]

    def choose(self, key: str) -> None:
        self.buttons[key].setChecked(True)

    def choose_path(self, kind: ExportKind) -> Path | None:
        """Ask where to write: a folder for CSV and REDCap, a file otherwise."""
        stamp = date.today().isoformat()
        start = default_folder() / f"RESPINE_{kind.key}_{stamp}{kind.suffix}"
        title = t(self.lang, f"console.export.kind_{kind.key}")
        if kind.folder:
            chosen = QFileDialog.getExistingDirectory(self, title, str(default_folder()))
            return Path(chosen) / start.name if chosen else None
        chosen, _ = QFileDialog.getSaveFileName(self, title, str(start))
        return Path(chosen) if chosen else None

    def start(self, out: Path | None = None) -> BackgroundJob | None:
        """Export the chosen format to `out` (asked for when None); the job, or None."""
        if self.jobs.busy:
            return None
        kind = self.kind()
        if out is None:
            out = self.choose_path(kind)
            if out is None:
                return None
        self.out = out
        return self.jobs.run(export_work(self.db.path, kind, out))

    def cancel(self) -> None:
        """Stop the running export: it writes nothing and earlier files stay as they were."""
        self.jobs.cancel()

    def open_folder(self) -> None:
        if self.out is not None:
            folder = self.out if self.out.is_dir() else self.out.parent
            QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    def _on_started(self, job: object) -> None:
        self._refresh()
        emit(self.started, job)

    def _on_succeeded(self, result: object) -> None:
        self.jobs.say(result_text(self.lang, result), "hint")
        emit(self.exported, result)

    def _on_failed(self, message: str) -> None:
        self.out = None
        self.jobs.say(t(self.lang, "console.export.failed", message=message), "error")
        emit(self.failed, message)

    def _on_cancelled(self) -> None:
        self.out = None

    def _refresh(self) -> None:
        busy = self.jobs.busy
        self.export_button.setEnabled(not busy)
        for choice in self.buttons.values():
            choice.setEnabled(not busy)
        self.open_button.setEnabled(not busy and self.out is not None)
