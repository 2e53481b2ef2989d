"""HoldButton: a button that acts only when held down (~1.5 s), filling up while it is held."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QPainter, QPaintEvent, QPalette
from PySide6.QtWidgets import QPushButton, QWidget

from ui.widgets.signals import emit
from ui.widgets.units import mm

HOLD_MS = 1500
STEP_MS = 100


class HoldButton(QPushButton):
    """`held()` fires once the button has been held for `hold_ms`; a tap does nothing.

    A bar along its bottom edge shows how far the hold has got. The hold advances one step per
    `timer` timeout (every `step_ms`), so a test fires the timer by hand instead of waiting.
    """

    held = Signal()

    def __init__(
        self,
        text: str,
        role: str = "",
        *,
        name: str = "",
        hold_ms: int = HOLD_MS,
        step_ms: int = STEP_MS,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(text, parent)
        if role:
            self.setProperty("role", role)
        self.setAccessibleName(name or text)
        self.setAutoDefault(False)
        self.setMinimumHeight(mm(9, self))
        self.steps_needed = max(1, hold_ms // step_ms)
        self.steps = 0
        self.timer = QTimer(self)
        self.timer.setInterval(step_ms)
        self.timer.timeout.connect(self._on_step)
        self.pressed.connect(self._on_pressed)
        self.released.connect(self._reset)

    @property
    def progress(self) -> float:
        """How far the current hold has got, 0 to 1."""
        return self.steps / self.steps_needed

    def _on_pressed(self) -> None:
        self.steps = 0
        self.timer.start()
        self.update()

    def _reset(self) -> None:
        self.timer.stop()
        self.steps = 0
        self.update()

    def _on_step(self) -> None:
        if not self.isDown():
            self._reset()
            return
        self.steps += 1
        self.update()
        if self.steps >= self.steps_needed:
            self._reset()
            self.setDown(False)
            emit(self.held)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if self.steps <= 0:
            return
        painter = QPainter(self)
        height = max(3, self.height() // 8)
        width = round(self.width() * self.progress)
        color = self.palette().color(QPalette.ColorRole.Highlight)
        painter.fillRect(0, self.height() - height, width, height, color)
        painter.end()
