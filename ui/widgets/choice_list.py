"""ChoiceList: large single-choice targets whose selected state shows by shape, not colour alone.

Each option is a full-width button at least 9 mm high with a round indicator at its left: an
empty ring when not chosen, a ring holding a check mark when chosen, and the chosen option's
frame turns dark on a tinted background. Choosing never changes the size of an option or its
text (no bold, the same frame width), so the options never re-wrap or move. Touch or click
chooses; keyboard: Tab reaches the list, Up / Down move between options, Space or Enter
chooses. Arrows never choose by themselves, so moving through the list records no answer.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Property, QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPainterPath, QPaintEvent, QPen
from PySide6.QtWidgets import (
    QAbstractButton,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QStyle,
    QStyleOption,
    QVBoxLayout,
    QWidget,
)

from ui.widgets.signals import emit
from ui.widgets.units import mm

MIN_TARGET_MM = 9.0
GAP_MM = 1.5
PAD_MM = 2.5
# Compact (the fit rule of a crowded page): half the gaps, less padding; targets stay 9 mm.
COMPACT_GAP_MM = 0.75
COMPACT_PAD_MM = 1.2
INDICATOR_MM = 6.0
ARROWS = {Qt.Key.Key_Up: -1, Qt.Key.Key_Left: -1, Qt.Key.Key_Down: 1, Qt.Key.Key_Right: 1}


class ChoiceIndicator(QWidget):
    """The ring at the left of an option; holds a check mark when the option is chosen."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        size = mm(INDICATOR_MM, parent)
        self.setFixedSize(size, size)
        self.checked = False
        self._tick = QColor("#ffffff")
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)

    def _get_tick(self) -> QColor:
        return self._tick

    def _set_tick(self, color: QColor) -> None:
        self._tick = QColor(color)
        self.update()

    # The check mark's colour, from kiosk.qss (`qproperty-tickColor`); the ring uses `color`.
    tickColor = Property(QColor, _get_tick, _set_tick)

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        ink = self.palette().windowText().color()
        side = float(self.width())
        stroke = max(2.0, side / 12)
        ring = QRectF(stroke, stroke, side - 2 * stroke, side - 2 * stroke)
        painter.setPen(QPen(ink, stroke))
        if self.checked:
            painter.setBrush(ink)
        painter.drawEllipse(ring)
        if self.checked:
            tick = QPainterPath(QPointF(side * 0.28, side * 0.52))
            tick.lineTo(QPointF(side * 0.44, side * 0.68))
            tick.lineTo(QPointF(side * 0.73, side * 0.35))
            painter.setPen(
                QPen(
                    self._tick,
                    stroke * 1.4,
                    Qt.PenStyle.SolidLine,
                    Qt.PenCapStyle.RoundCap,
                    Qt.PenJoinStyle.RoundJoin,
                )
            )
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawPath(tick)
        painter.end()


class ChoiceButton(QAbstractButton):
    """One option: indicator + wrapped text, styled from kiosk.qss as `ChoiceButton`.

    `stepped(+1 / -1)` asks the list to move the focus to the next / previous option.
    """

    stepped = Signal(int)

    def __init__(self, code: int, text: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.code = code
        self.setCheckable(True)
        self.setAutoExclusive(False)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        self.setMinimumHeight(mm(MIN_TARGET_MM, self))
        # A string, not a bool: the style sheet matches `[selected="true"]`.
        self.setProperty("selected", "false")
        row = QHBoxLayout(self)
        self._row = row
        self.set_padding(mm(PAD_MM, self))
        self._indicator = ChoiceIndicator(self)
        self._label = QLabel(self)
        self._label.setObjectName("choiceText")
        # an option's text as written in its instrument or translation file, never rich text
        self._label.setTextFormat(Qt.TextFormat.PlainText)
        self._label.setWordWrap(True)
        self._label.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self._label.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        row.addWidget(self._indicator, 0, Qt.AlignmentFlag.AlignVCenter)
        row.addWidget(self._label, 1)
        self.toggled.connect(self._on_toggled)
        self.set_option(code, text)

    def set_padding(self, pad: int) -> None:
        """The space (px) around the indicator and the text."""
        self._row.setContentsMargins(pad, pad, pad, pad)
        self._row.setSpacing(pad)

    def set_option(self, code: int, text: str) -> None:
        """Show another option with this button."""
        self.code = code
        self.setText(text)
        self.setAccessibleName(text)
        self._label.setText(text)

    def _on_toggled(self, checked: bool) -> None:
        self._indicator.checked = checked
        self.setProperty("selected", "true" if checked else "false")
        # Re-polish so `ChoiceButton[selected="true"]` rules of the style sheet apply.
        for widget in (self, self._label, self._indicator):
            widget.style().unpolish(widget)
            widget.style().polish(widget)
        self._indicator.update()
        self.update()

    def sizeHint(self) -> QSize:
        hint = self._row.sizeHint()
        return QSize(hint.width(), max(hint.height(), self.minimumHeight()))

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return max(self._row.totalHeightForWidth(width), self.minimumHeight())

    def paintEvent(self, event: QPaintEvent) -> None:
        # Let the style sheet draw the frame and background of this custom button.
        option = QStyleOption()
        option.initFrom(self)
        painter = QPainter(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_Widget, option, painter, self)
        painter.end()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not event.isAutoRepeat():
            self.click()
            return
        # QAbstractButton would move *and check* with arrows; here arrows only move the focus.
        step = ARROWS.get(Qt.Key(event.key()))
        if step is not None:
            emit(self.stepped, step)
            return
        super().keyPressEvent(event)


class ChoiceList(QWidget):
    """A column of `ChoiceButton`s; `answered(code)` fires when the patient chooses one."""

    answered = Signal(int)

    def __init__(
        self,
        options: Sequence[tuple[int, str]],
        *,
        accessible_name: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("choiceList")
        if accessible_name:
            self.setAccessibleName(accessible_name)
        self._column = QVBoxLayout(self)
        self._column.setContentsMargins(0, 0, 0, 0)
        self._column.setSpacing(mm(GAP_MM, self))
        self.buttons: list[ChoiceButton] = []
        self._spare: list[ChoiceButton] = []
        self.compact = False
        self.set_options(options)

    def set_compact(self, compact: bool) -> None:
        """Smaller gaps and padding (a crowded page); the targets keep their minimum height."""
        if compact == self.compact:
            return
        self.compact = compact
        self._column.setSpacing(mm(COMPACT_GAP_MM if compact else GAP_MM, self))
        for button in self.buttons + self._spare:
            button.set_padding(mm(COMPACT_PAD_MM if compact else PAD_MM, button))

    def set_options(self, options: Sequence[tuple[int, str]]) -> None:
        """Show these options, none chosen; the buttons are reused from item to item."""
        pool = self.buttons + self._spare
        while len(pool) < len(options):
            button = ChoiceButton(0, "", self)
            button.set_padding(mm(COMPACT_PAD_MM if self.compact else PAD_MM, button))
            button.clicked.connect(lambda _=False, b=button: self._on_clicked(b))
            button.stepped.connect(lambda step, b=button: self._on_stepped(b, step))
            self._column.addWidget(button)
            pool.append(button)
        self.buttons, self._spare = pool[: len(options)], pool[len(options) :]
        for button, (code, text) in zip(self.buttons, options, strict=True):
            button.set_option(code, text)
            button.setChecked(False)
            button.show()
        for button in self._spare:
            button.setChecked(False)
            button.hide()

    def value(self) -> int | None:
        """The chosen code, or None."""
        for button in self.buttons:
            if button.isChecked():
                return button.code
        return None

    def set_value(self, code: int | None) -> None:
        """Show the code this patient already chose (going back, resuming); None clears."""
        for button in self.buttons:
            button.setChecked(button.code == code)

    def button_for(self, code: int) -> ChoiceButton:
        for button in self.buttons:
            if button.code == code:
                return button
        raise KeyError(code)

    def _on_clicked(self, chosen: ChoiceButton) -> None:
        for button in self.buttons:
            button.setChecked(button is chosen)
        emit(self.answered, chosen.code)

    def _on_stepped(self, source: ChoiceButton, step: int) -> None:
        index = self.buttons.index(source) + step
        if 0 <= index < len(self.buttons):
            self.buttons[index].setFocus(Qt.FocusReason.TabFocusReason)
