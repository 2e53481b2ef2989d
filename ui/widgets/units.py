"""Physical sizes on screen: millimetres to logical pixels from the screen's physical DPI."""

from __future__ import annotations

from PySide6.QtGui import QScreen
from PySide6.QtWidgets import QApplication, QWidget

MM_PER_INCH = 25.4
# Used when a platform reports no usable physical DPI (some virtual displays report 0 or 1).
FALLBACK_DPI = 96.0


def _screen(widget: QWidget | None) -> QScreen | None:
    if widget is not None and widget.screen() is not None:
        return widget.screen()
    return QApplication.primaryScreen()


def px_per_mm(widget: QWidget | None = None, calibration: float = 1.0) -> float:
    """Logical pixels per physical millimetre on `widget`'s screen, times a device calibration.

    Qt 6 reports physical DPI in device-independent (logical) dots, the unit widgets are laid out
    in ("multiply by devicePixelRatio() to get device-dependent density", QScreen docs), so it is
    used as it is: dividing it by the device pixel ratio again drew every millimetre 1/ratio too
    short on a scaled screen (a 100 mm VAS line 64 mm long at 156 %). `calibration` corrects
    screens whose reported size is wrong: 1.0 trusts the screen, 1.05 draws everything 5 % longer.
    """
    screen = _screen(widget)
    dpi = screen.physicalDotsPerInchX() if screen is not None else FALLBACK_DPI
    if not dpi or dpi < 20:
        dpi = FALLBACK_DPI
    return dpi / MM_PER_INCH * calibration


def mm(value: float, widget: QWidget | None = None, calibration: float = 1.0) -> int:
    """`value` millimetres as a whole number of logical pixels (at least 1)."""
    return max(1, round(value * px_per_mm(widget, calibration)))
