"""VasSlider: an electronic visual analogue scale drawn as a 100 mm line with no default mark.

Rules (ISPOR / eCOA good practice, SCORING.md §4): no marker until the patient touches the line;
a touch in the capture zone places the marker, exactly on either end included; dragging adjusts
it; no numbers and no ticks are shown (the two end stops only show where the line ends).

The capture zone, in mm of the (calibrated) screen: up to `CAPTURE_MM` above or below the line,
from `END_MM` before its low end to `END_MM` past its high end (a touch past an end but within
`END_MM` gives 0 or 100). A touch outside it records nothing: no marker, no value, no signal (a
palm resting on the screen, a tap meant for the text). Once a touch has started in the zone,
dragging anywhere moves the mark along the line (clamped to the ends). The line
is 100 mm long when the widget is wide enough, from the screen's physical DPI times a per-device
calibration factor; `rendered_length_mm` says how long it really was, to be stored with the answer.

The value is the distance of the mark from the low end over the line length × 100, rounded to 0.1.
The line spans a whole, even number of logical pixels starting on a whole pixel, so its two ends
and its middle fall exactly on pixels: taps there give 0, 50 and 100 exactly.

Keyboard: Home / End place the mark at an end, Left / Right move it by 1, Page Up / Page Down by
10. No key places a mark in the middle, so the scale never suggests an answer.
"""

from __future__ import annotations

from PySide6.QtCore import Property, QPoint, QPointF, QRect, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
    QResizeEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from ui.widgets.signals import emit
from ui.widgets.units import px_per_mm

LINE_MM = 100.0
# Room kept on each side of the line for the end stops and half a marker.
SIDE_MARGIN_MM = 7.0
# Height of the touch band around the line, and of the marker drawn across it.
BAND_MM = 18.0
MARKER_MM = (3.0, 13.0)
END_STOP_MM = 7.0
ANCHOR_GAP_MM = 3.0
# Width of the text box under each end (narrower when the screen is).
ANCHOR_MM = 45.0
# The capture zone around the line (see the module docstring).
CAPTURE_MM = 6.0
END_MM = 4.0
STEPS = {
    Qt.Key.Key_Left: -1.0,
    Qt.Key.Key_Right: 1.0,
    Qt.Key.Key_PageDown: -10.0,
    Qt.Key.Key_PageUp: 10.0,
}


class VasSlider(QWidget):
    """A horizontal visual analogue scale. `answered(value)` fires when a touch ends."""

    answered = Signal(float)
    moved = Signal(float)

    def __init__(
        self,
        low_anchor: str,
        high_anchor: str,
        *,
        calibration: float = 1.0,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("vasSlider")
        self._low = low_anchor
        self._high = high_anchor
        self._calibration = calibration
        self._value: float | None = None
        self._dragging = False
        self._keyboard_focus = False
        self._x0 = 0
        self._length = 2
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        self.setAccessibleDescription(f"{low_anchor} — {high_anchor}")
        self._marker_color = QColor("#1f4e79")
        self._layout_line()

    def _get_marker_color(self) -> QColor:
        return self._marker_color

    def _set_marker_color(self, color: QColor) -> None:
        self._marker_color = QColor(color)
        self.update()

    # Styled from kiosk.qss: `VasSlider { qproperty-markerColor: #1f4e79; }`.
    markerColor = Property(QColor, _get_marker_color, _set_marker_color)

    def set_anchors(self, low_anchor: str, high_anchor: str) -> None:
        """The texts under the two ends (another item or language)."""
        self._low, self._high = low_anchor, high_anchor
        self.setAccessibleDescription(f"{low_anchor} — {high_anchor}")
        self.updateGeometry()
        self.update()

    # -- state -------------------------------------------------------------------------------

    def value(self) -> float | None:
        """The marked value 0..100 (0.1 precision), or None while the line is untouched."""
        return self._value

    def set_value(self, value: float | None) -> None:
        """Show a value already given by this patient (going back, resuming); None clears."""
        self._value = None if value is None else min(100.0, max(0.0, round(value, 1)))
        self.update()

    def line_length_px(self) -> int:
        """The drawn line's length in logical pixels."""
        return self._length

    def rendered_length_mm(self) -> float:
        """The drawn line's physical length in mm (0.1 precision), as calibrated."""
        return round(self._length / px_per_mm(self, self._calibration), 1)

    def line_y(self) -> int:
        return round(self._band_height() / 2)

    def point_for(self, fraction: float) -> QPoint:
        """The pixel of the line at `fraction` (0 = low end, 1 = high end), for tests and demos."""
        return QPoint(self._x0 + round(fraction * self._length), self.line_y())

    def in_capture_zone(self, x: float, y: float) -> bool:
        """Whether a touch at (`x`, `y`) is close enough to the line to place the mark."""
        end = self._mm(END_MM)
        return (
            abs(y - self.line_y()) <= self._mm(CAPTURE_MM)
            and self._x0 - end <= x <= self._x0 + self._length + end
        )

    def value_at(self, x: float) -> float:
        """The value a touch at horizontal position `x` gives: clamped to the ends, 0.1 steps."""
        fraction = min(1.0, max(0.0, (x - self._x0) / self._length))
        return round(fraction * 1000) / 10

    # -- geometry ----------------------------------------------------------------------------

    def _mm(self, value: float) -> float:
        return value * px_per_mm(self, self._calibration)

    def _band_height(self) -> int:
        return round(self._mm(BAND_MM))

    def _line_for(self, width: int) -> tuple[int, int]:
        """(x0, length) of the line in a widget `width` pixels wide."""
        margin = round(self._mm(SIDE_MARGIN_MM))
        length = min(round(self._mm(LINE_MM)), max(2, width - 2 * margin))
        length = max(2, length - length % 2)
        return (width - length) // 2, length

    def _anchor_rects(self, width: int) -> tuple[QRect, QRect]:
        """Text boxes centred under each end of the line, kept inside the widget."""
        x0, length = self._line_for(width)
        top = self._band_height() + round(self._mm(ANCHOR_GAP_MM))
        span = min(width // 2, max(round(self._mm(ANCHOR_MM)), round(length * 0.45)))
        left_x = min(max(0, x0 - span // 2), width - span)
        right_x = max(0, min(width - span, x0 + length - span // 2))
        return QRect(left_x, top, span, 10_000), QRect(right_x, top, span, 10_000)

    def _layout_line(self) -> None:
        self._x0, self._length = self._line_for(self.width())

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        fm = self.fontMetrics()
        left, right = self._anchor_rects(width)
        wrap = int(Qt.TextFlag.TextWordWrap)
        anchors = max(
            fm.boundingRect(left, wrap | int(Qt.AlignmentFlag.AlignHCenter), self._low).height(),
            fm.boundingRect(right, wrap | int(Qt.AlignmentFlag.AlignHCenter), self._high).height(),
        )
        return self._band_height() + round(self._mm(ANCHOR_GAP_MM)) + anchors + 4

    def sizeHint(self) -> QSize:
        width = round(self._mm(LINE_MM + 2 * SIDE_MARGIN_MM))
        return QSize(width, self.heightForWidth(width))

    def minimumSizeHint(self) -> QSize:
        width = round(self._mm(40))
        return QSize(width, self.heightForWidth(width))

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._layout_line()
        super().resizeEvent(event)

    # -- input -------------------------------------------------------------------------------

    def _place(self, x: float) -> None:
        self._value = self.value_at(x)
        self.update()
        emit(self.moved, self._value)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if not self.in_capture_zone(event.position().x(), event.position().y()):
            return  # too far from the line: nothing is recorded
        self._dragging = True
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self._place(event.position().x())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if self._dragging:
            self._place(event.position().x())

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if not self._dragging or event.button() != Qt.MouseButton.LeftButton:
            return
        self._dragging = False
        self._place(event.position().x())
        assert self._value is not None
        emit(self.answered, self._value)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key == Qt.Key.Key_Home:
            new: float | None = 0.0
        elif key == Qt.Key.Key_End:
            new = 100.0
        elif key in STEPS and self._value is not None:
            new = min(100.0, max(0.0, round(self._value + STEPS[Qt.Key(key)], 1)))
        else:
            super().keyPressEvent(event)
            return
        self._value = new
        self._keyboard_focus = True
        self.update()
        emit(self.moved, new)
        emit(self.answered, new)

    def focusInEvent(self, event: QFocusEvent) -> None:
        # The focus frame is for keyboard users; a finger on the line needs no frame.
        self._keyboard_focus = event.reason() in (
            Qt.FocusReason.TabFocusReason,
            Qt.FocusReason.BacktabFocusReason,
            Qt.FocusReason.ShortcutFocusReason,
        )
        self.update()
        super().focusInEvent(event)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        self._keyboard_focus = False
        self.update()
        super().focusOutEvent(event)

    # -- drawing -----------------------------------------------------------------------------

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        ink = self.palette().windowText().color()
        y = self.line_y()
        x1 = self._x0 + self._length
        pen = QPen(ink, max(2.0, self._mm(0.8)), Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
        painter.setPen(pen)
        painter.drawLine(QPointF(self._x0, y), QPointF(x1, y))
        half_stop = self._mm(END_STOP_MM) / 2
        for x in (self._x0, x1):
            painter.drawLine(QPointF(x, y - half_stop), QPointF(x, y + half_stop))
        left, right = self._anchor_rects(self.width())
        painter.setPen(ink)
        flags = int(Qt.TextFlag.TextWordWrap) | int(Qt.AlignmentFlag.AlignTop)
        painter.drawText(left, flags | int(Qt.AlignmentFlag.AlignHCenter), self._low)
        painter.drawText(right, flags | int(Qt.AlignmentFlag.AlignHCenter), self._high)
        if self._value is not None:
            marker_x = self._x0 + self._value / 100 * self._length
            w, h = self._mm(MARKER_MM[0]), self._mm(MARKER_MM[1])
            painter.setPen(QPen(QColor("white"), 1.5))
            painter.setBrush(self._marker_color)
            painter.drawRoundedRect(QRectF(marker_x - w / 2, y - h / 2, w, h), w / 3, w / 3)
        if self.hasFocus() and self._keyboard_focus:
            painter.setPen(QPen(ink, 1, Qt.PenStyle.DashLine))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            painter.drawRect(QRectF(1, 1, self.width() - 2, self._band_height() - 2))
        painter.end()
