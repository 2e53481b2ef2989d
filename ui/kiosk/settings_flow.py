"""The display settings as the kiosk flow runs them: show the page, record a VAS calibration,
apply and save what staff changed (split from `ui.kiosk.flow` to keep each module small)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QApplication

from respine_desktop import storage
from respine_desktop.errors import RespineError
from respine_desktop.i18n import error_text, t
from ui.kiosk import calibration
from ui.kiosk.calibration_page import CalibrationPage
from ui.kiosk.settings import save_changes
from ui.kiosk.settings_page import SettingsPage
from ui.style import apply_style

if TYPE_CHECKING:
    from ui.kiosk.flow import KioskFlow


def apply_calibration_in_force(flow: KioskFlow) -> None:
    """Draw the VAS with the factor of the device's calibration in force (the database is the
    record; the settings file only holds a factor for a device never calibrated)."""
    if flow.db is None:
        return
    factor = calibration.factor_in_force(flow.db)
    if factor is not None and factor != flow.settings.vas_calibration:
        flow.settings = flow.settings.changed(vas_calibration=factor)


def show_settings(flow: KioskFlow, error: str = "") -> None:
    """The settings page (with `error` under them, if any); Cancel returns to the staff home."""
    status = calibration.status_text(flow.db, flow.lang) if flow.db is not None else ""
    page = SettingsPage(flow.lang, flow.settings, status)
    page.calibrate_requested.connect(lambda: show_calibration(flow))
    page.saved.connect(lambda changes: on_settings_saved(flow, changes, page))
    page.cancelled.connect(flow.show_staff_home)
    if error:
        page.show_error(error)
    flow.window.show_page(page)


def show_calibration(flow: KioskFlow) -> None:
    """The measuring page; Cancel or a stored measurement return to the settings."""
    status = calibration.status_text(flow.db, flow.lang) if flow.db is not None else ""
    page = CalibrationPage(flow.lang, flow.settings.vas_calibration, status)
    page.measured.connect(lambda measured: _on_measured(flow, page, measured))
    page.cancelled.connect(lambda: show_settings(flow))
    flow.window.show_page(page)


def _on_measured(flow: KioskFlow, page: CalibrationPage, measured: float) -> None:
    """Record the measurement (audited) and draw with its factor; a refusal stays on the page."""
    assert flow.db is not None and flow.staff is not None
    try:
        record = calibration.record(flow.db, flow.staff, page.line, measured, page.factor)
    except storage.StorageError as exc:
        page.show_error(error_text(flow.lang, exc))
        return
    flow.settings = flow.settings.changed(vas_calibration=record.factor)
    error = ""
    if flow.settings_path is not None:
        try:  # (the database holds the calibration: drawn with it whatever the file says)
            save_changes(flow.settings_path, {"vas_calibration": record.factor})
        except RespineError as exc:
            error = t(flow.lang, "staff.settings.not_saved", message=error_text(flow.lang, exc))
    show_settings(flow, error)


def on_settings_saved(flow: KioskFlow, changes: dict[str, object], page: SettingsPage) -> None:
    """Write only what staff changed (flags given for this run stay out), then apply it; if
    the file cannot be written, nothing is changed and the page (`page`) says why."""
    if changes and flow.settings_path is not None:
        try:
            save_changes(flow.settings_path, changes)
        except RespineError as exc:
            page.show_error(
                t(flow.lang, "staff.settings.not_saved", message=error_text(flow.lang, exc))
            )
            return
    flow.settings = flow.settings.changed(**changes)
    flow.idle.set_timeout(flow.settings.idle_timeout_s)
    app = QApplication.instance()
    if isinstance(app, QApplication):
        apply_style(
            app, large_text=flow.settings.large_text, high_contrast=flow.settings.high_contrast
        )
    flow.show_staff_home()
