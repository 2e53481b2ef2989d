"""SubjectCharts: the subject's VAS, ODI, PCS and MCS over visits, drawn off the UI thread.

The picture is the reports package's own (`reports.charts.draw_patient_charts`: baseline line,
MCID band, missed visits as gaps), the same as in the patient PDF. matplotlib is imported by
the worker the first time a chart is drawn, never at start-up.
"""

from __future__ import annotations

from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPaintEvent
from PySide6.QtWidgets import QSizePolicy, QWidget

from respine_desktop.i18n import t
from respine_desktop.reports import PatientSummary
from ui.widgets.jobs import BackgroundJob, Progress
from ui.widgets.signals import emit

SCREEN_DPI = 110


def render_png(summary: PatientSummary, _progress: Progress) -> bytes:
    """The four charts as PNG bytes (runs in a worker thread; imports matplotlib)."""
    from respine_desktop.reports import charts

    fig = charts.new_figure(charts.PATIENT_SIZE)
    charts.draw_patient_charts(fig, summary)
    return charts.png(fig, SCREEN_DPI)


class SubjectCharts(QWidget):
    """Shows "drawing…", then the charts scaled to the widget's width (aspect kept)."""

    drawn = Signal()
    failed = Signal(str)

    def __init__(self, lang: str) -> None:
        super().__init__()
        self.lang = lang
        self.setObjectName("subjectCharts")
        self.setAccessibleName(t(lang, "console.subject.charts"))
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.image: QImage | None = None
        self.job: BackgroundJob | None = None
        self.note = t(lang, "console.charts.drawing")

    def draw(self, summary: PatientSummary) -> BackgroundJob:
        """Draw the charts of `summary` in the background (replacing any drawing under way)."""
        if self.job is not None:
            self.job.cancel()
        self.note = t(self.lang, "console.charts.drawing")
        job = BackgroundJob(lambda progress: render_png(summary, progress))
        job.succeeded.connect(self._on_drawn)
        job.failed.connect(self._on_failed)
        job.ended.connect(self._on_ended)
        self.destroyed.connect(job.cancel)
        self.job = job
        job.start()
        self.update()
        return job

    def _on_drawn(self, data: object) -> None:
        assert isinstance(data, bytes)
        image = QImage()
        image.loadFromData(data, "PNG")
        self.image = image
        self.setAccessibleDescription(t(self.lang, "console.charts.description"))
        self.update()
        emit(self.drawn)

    def _on_failed(self, message: str) -> None:
        self.image = None
        self.note = t(self.lang, "console.charts.failed", message=message)
        self.update()
        emit(self.failed, message)

    def _on_ended(self) -> None:
        if self.sender() is self.job:
            self.job = None
            self.update()

    def sizeHint(self) -> QSize:
        return QSize(800, 510)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        if self.image is None or self.job is not None:
            painter.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, self.note)
            return
        size = self.image.size().scaled(self.size(), Qt.AspectRatioMode.KeepAspectRatio)
        x = (self.width() - size.width()) // 2
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        painter.drawImage(QRect(x, 0, size.width(), size.height()), self.image)
