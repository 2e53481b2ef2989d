"""JobPanel: a background job's progress bar, its Cancel button and the status line under it.

Every background job the console starts with a visible result (the data exports, the PDF
reports) runs through one of these: `run(work)` starts a `BackgroundJob`, the bar shows its
progress and the status line says "… n %"; Cancel stops it (the work writes nothing), and the
status line then says so. What the job made is the owner's to say, with `say(text, role)`.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QProgressBar, QVBoxLayout

from respine_desktop.errors import RespineError
from respine_desktop.i18n import error_text, t
from ui.widgets.jobs import USER_ERRORS, BackgroundJob, Work
from ui.widgets.page import button, label, plain_tip, say
from ui.widgets.signals import emit


class JobPanel(QFrame):
    """Progress, Cancel and a status line for one background job at a time.

    `started(job)` before the job is queued; then `succeeded(result)` (also when a Cancel came
    too late to stop the work: its files are written), `failed(message)`, or `cancelled()` when
    a Cancel stopped it; `ended()` in every case, once the panel is idle again. `working` is
    the text key of the status while the job runs (with `{percent}`), `cancelled` the one said
    after a Cancel.
    """

    started = Signal(object)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()
    ended = Signal()

    def __init__(self, lang: str, *, name: str, working: str, cancelled: str) -> None:
        super().__init__()
        self.setObjectName("jobPanel")
        self.lang = lang
        self._working, self._cancelled = working, cancelled
        self.job: BackgroundJob | None = None
        self.cancel_requested = False
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.progress = QProgressBar()
        self.progress.setAccessibleName(name)
        self.progress.setRange(0, 100)
        self.progress.setTextVisible(False)
        self.progress.hide()
        row.addWidget(self.progress, 1)
        self.cancel_button = button(t(lang, "common.cancel"))
        self.cancel_button.clicked.connect(self.cancel)
        self.cancel_button.hide()
        row.addWidget(self.cancel_button)
        column.addLayout(row)
        self.status = label("", "hint")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        column.addWidget(self.status)

    @property
    def busy(self) -> bool:
        return self.job is not None

    def run(
        self, work: Work, *, expected: tuple[type[BaseException], ...] = USER_ERRORS
    ) -> BackgroundJob | None:
        """Start `work(progress)` in the background; the job, or None while one is running."""
        if self.job is not None:
            return None
        job = BackgroundJob(work, expected=expected)
        job.progressed.connect(self._on_progressed)
        job.succeeded.connect(self._on_succeeded)
        job.failed.connect(self._on_failed)
        job.ended.connect(self._on_ended)
        # A lock drops the panel: the job stops at its next step instead of writing its files.
        self.destroyed.connect(job.cancel)
        self.job = job
        self.cancel_requested = False
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.setEnabled(True)
        self.cancel_button.show()
        self.say(t(self.lang, self._working, percent=0), "hint")
        emit(self.started, job)
        job.start()
        return job

    def cancel(self) -> None:
        """Stop the running job: it writes nothing and earlier files stay as they were."""
        if self.job is not None:
            self.cancel_requested = True
            self.job.cancel()
            self.cancel_button.setEnabled(False)

    def say(self, text: str, role: str) -> None:
        """Show `text` on the status line in the style of `role` ("hint", "error")."""
        say(self.status, text, role)

    def _on_progressed(self, fraction: float, message: str) -> None:
        percent = round(fraction * 100)
        self.progress.setValue(percent)
        working = t(self.lang, self._working, percent=percent)
        # The step in progress on the line itself (a finger cannot hover for a tooltip).
        self.status.setText(f"{working}\n{message}" if message else working)
        self.status.setToolTip(plain_tip(message))

    def _on_succeeded(self, result: object) -> None:
        emit(self.succeeded, result)

    def _on_failed(self, message: str) -> None:
        # a refusal with a UI text (`RespineError.keyed`) said in the panel's language
        error = self.job.error if self.job is not None else None
        if isinstance(error, RespineError) and error.key:
            message = error_text(self.lang, error)
        emit(self.failed, message)

    def _on_ended(self) -> None:
        job = self.job
        if job is not None and job.cancelled:
            self.say(t(self.lang, self._cancelled), "hint")
            emit(self.cancelled)
        elif job is not None and job.completed and self.cancel_requested:
            emit(self.succeeded, job.result)  # cancelled too late: the files were written
        self.job = None
        self.progress.hide()
        self.cancel_button.hide()
        emit(self.ended)
