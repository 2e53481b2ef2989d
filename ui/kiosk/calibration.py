"""The VAS line calibration as the kiosk does it: what the screen says, the calibration in force.

Staff measure the line the settings page draws for 100 mm (`ui.kiosk.settings_page`) and type
the mm; `record` stores that measurement with the screen's geometry, DPI and its source through
`storage.record_vas_calibration` (audited). The database is the record: at start the factor of
the device's calibration in force replaces the settings file's (`factor_in_force`), so the line
patients see is the one their answers name. A device never calibrated keeps the settings file's
factor (1.0 by default: the screen's own DPI) and its VAS answers say "uncalibrated".
"""

from __future__ import annotations

from PySide6.QtWidgets import QApplication, QWidget

from respine_desktop import storage
from respine_desktop.i18n import t
from respine_desktop.storage import Staff, StudyDb, VasCalibration
from ui.widgets.units import FALLBACK_DPI


def screen_info(widget: QWidget | None) -> storage.ScreenInfo:
    """The geometry, physical DPI and device pixel ratio of `widget`'s screen."""
    screen = widget.screen() if widget is not None else None
    screen = screen or QApplication.primaryScreen()
    if screen is None:
        return storage.ScreenInfo(1, 1, FALLBACK_DPI, "fallback (no screen)", 1.0)
    size = screen.geometry()
    dpi = screen.physicalDotsPerInchX()
    source = "Qt physicalDotsPerInchX"
    if not dpi or dpi < 20:
        dpi, source = FALLBACK_DPI, "fallback (the screen reports no physical size)"
    return storage.ScreenInfo(
        size.width(), size.height(), round(dpi, 3), source, screen.devicePixelRatio()
    )


def factor_in_force(db: StudyDb) -> float | None:
    """The factor of this device's calibration in force, or None if it has none."""
    found = storage.vas_calibration_in_force(db)
    return found.factor if found is not None else None


def record(
    db: StudyDb, staff: Staff, widget: QWidget, measured_mm: float, drawn_factor: float
) -> VasCalibration:
    """Store the measurement of the line drawn with `drawn_factor` (StorageError if refused)."""
    return storage.record_vas_calibration(
        db,
        staff=staff,
        measured_mm=measured_mm,
        drawn_factor=drawn_factor,
        screen=screen_info(widget),
    )


def status_text(db: StudyDb, lang: str) -> str:
    """ "Last measured on … by …" or "never measured on this tablet", for staff."""
    found = storage.vas_calibration_in_force(db)
    if found is None:
        return t(lang, "staff.settings.calibration_never")
    names = {s.id: s.username for s in storage.list_staff(db)}
    who = names.get(found.calibrated_by, found.calibrated_by)
    return t(
        lang,
        "staff.settings.calibration_last",
        date=found.calibrated_at[:10],
        username=who,
        measured=f"{found.measured_mm:g}",
    )
