"""`respine --screen-info`: the primary screen as Qt sees it, as one JSON line (for `validate`,
whose domain code imports no Qt)."""

from __future__ import annotations

import json

from PySide6.QtWidgets import QApplication

from ui.widgets.units import px_per_mm


def main() -> int:
    if QApplication.instance() is None:
        QApplication(["respine"])
    screen = QApplication.primaryScreen()
    size = screen.geometry()
    info = {
        "platform": QApplication.platformName(),
        "width": size.width(),
        "height": size.height(),
        "logical_dpi": round(screen.logicalDotsPerInch(), 1),
        "physical_dpi": round(screen.physicalDotsPerInch(), 1),
        "device_pixel_ratio": screen.devicePixelRatio(),
        "vas_100_mm_px": round(100 * px_per_mm()),
    }
    print(json.dumps(info))
    return 0
