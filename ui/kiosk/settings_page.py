"""SettingsPage: this device's display settings, the idle timeout and the staff language."""

from __future__ import annotations

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QSpinBox

from respine_desktop.i18n import UI_LANGUAGES, t
from ui.kiosk.settings import KioskSettings
from ui.widgets.page import Page, button, label
from ui.widgets.signals import emit
from ui.widgets.units import mm

MIN_IDLE_S = 10
MAX_IDLE_S = 3600


class SettingsPage(Page):
    """Large text, high contrast, the idle timeout, the staff language; the VAS line's
    calibration status with the way to measure it (`calibrate_requested`: `CalibrationPage`).

    `saved(changes)` carries only the settings staff changed on this page (a `KioskSettings`
    field name → its new value), so a value given for this run only (a command-line flag) is
    never written back unless staff changed it here.
    """

    saved = Signal(object)
    cancelled = Signal()
    calibrate_requested = Signal()

    def __init__(self, lang: str, settings: KioskSettings, calibration_status: str = "") -> None:
        super().__init__(t(lang, "staff.settings.title"), max_width_mm=150, scroll=True)
        self.lang = lang
        self.shown = settings
        self.calibration = settings.vas_calibration
        self.add(label(t(lang, "staff.settings.title"), "title"))
        self.large_text = QCheckBox(t(lang, "staff.settings.large_text"))
        self.large_text.setChecked(settings.large_text)
        self.high_contrast = QCheckBox(t(lang, "staff.settings.high_contrast"))
        self.high_contrast.setChecked(settings.high_contrast)
        for box in (self.large_text, self.high_contrast):
            box.setAccessibleName(box.text())
            box.setMinimumHeight(mm(9, box))
        # side by side: the page fits a 768-pixel-high screen with large text in French too
        self.add_row(self.large_text, self.high_contrast)
        self.add(label(t(lang, "staff.settings.idle"), "subtitle"))
        self.idle = QSpinBox()
        self.idle.setRange(MIN_IDLE_S, MAX_IDLE_S)
        self.idle.setSingleStep(10)
        self.idle.setValue(settings.idle_timeout_s)
        self.idle.setSuffix(t(lang, "staff.settings.idle_suffix"))
        self.idle.setAccessibleName(t(lang, "staff.settings.idle"))
        self.idle.setMinimumHeight(mm(9, self.idle))
        self.add(self.idle)
        self.add(label(t(lang, "staff.settings.language"), "subtitle"))
        self.language = QComboBox()
        for code in UI_LANGUAGES:
            self.language.addItem(t(code, f"common.language.{code}"), code)
        self.language.setCurrentIndex(max(0, self.language.findData(settings.staff_language)))
        self.language.setAccessibleName(t(lang, "staff.settings.language"))
        self.language.setMinimumHeight(mm(9, self.language))
        self.add(self.language)
        self.add(label(t(lang, "staff.settings.calibration"), "subtitle"))
        self.calibration_status = label(calibration_status, "hint")
        self.add(self.calibration_status)
        self.calibration_status.setVisible(bool(calibration_status))
        self.calibrate_button = button(t(lang, "staff.settings.calibrate"))
        self.calibrate_button.clicked.connect(self.calibrate_requested)
        self.add(self.calibrate_button)
        self.error = label("", "error")
        self.error.hide()
        self.add(self.error)
        self.column.addStretch(1)
        back = button(t(lang, "common.cancel"))
        back.clicked.connect(self.cancelled)
        save = button(t(lang, "staff.settings.save"), "primary")
        save.clicked.connect(self._on_save)
        self.save_button = save
        self.footer.addWidget(back)
        self.footer.addStretch(1)
        self.footer.addWidget(save)

    def show_error(self, text: str) -> None:
        """A refusal under the settings (the page stays as staff left it), scrolled into view:
        with large text the page scrolls, and the line is its last (down only, not across)."""
        self.error.setText(text)
        self.error.show()
        if self.scroll_area is not None:
            bar = self.scroll_area.verticalScrollBar()
            QTimer.singleShot(0, lambda: bar.setValue(bar.maximum()))

    def _on_save(self) -> None:
        values: dict[str, object] = {
            "large_text": self.large_text.isChecked(),
            "high_contrast": self.high_contrast.isChecked(),
            "idle_timeout_s": self.idle.value(),
            "staff_language": str(self.language.currentData()),
        }
        changes = {k: v for k, v in values.items() if getattr(self.shown, k) != v}
        emit(self.saved, changes)
