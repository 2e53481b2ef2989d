"""CalibrationPage: staff measure the VAS line drawn 100 mm long and type what the ruler says."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame

from respine_desktop.i18n import t
from respine_desktop.storage import MEASURED_RANGE_MM
from ui.widgets.fields import line_edit
from ui.widgets.keyboard import OnScreenKeyboard
from ui.widgets.page import Page, button, label
from ui.widgets.signals import emit
from ui.widgets.units import mm


class CalibrationPage(Page):
    """The line drawn for 100 mm with the factor in force, the measured mm (digit pad), Save.

    `measured(mm)` carries a length within `storage.MEASURED_RANGE_MM` (others are refused
    here, with the range said); the flow stores it and shows what storage refused, if anything,
    with `show_error`.
    """

    measured = Signal(float)
    cancelled = Signal()

    def __init__(self, lang: str, factor: float, status: str = "") -> None:
        super().__init__(t(lang, "staff.settings.calibration"), max_width_mm=190)
        self.lang = lang
        self.factor = factor
        self.add(label(t(lang, "staff.settings.calibration"), "title"))
        self.add(label(t(lang, "staff.settings.calibration_hint"), "hint"))
        self.status = label(status, "hint")
        self.add(self.status)
        self.status.setVisible(bool(status))
        line = QFrame()
        line.setAccessibleName(t(lang, "staff.settings.measure_line"))
        line.setFixedSize(mm(100, line, factor), 6)
        line.setStyleSheet("background-color: #000000; border: none;")
        self.line = line
        self.add(line)
        self.measured_mm = line_edit(t(lang, "staff.settings.measured"), digits=True)
        self.measured_mm.setMaxLength(3)
        self.measured_mm.returnPressed.connect(self._on_save)
        self.add(self.measured_mm)
        self.keypad = OnScreenKeyboard(self.measured_mm, digits_only=True, lang=lang)
        self.add(self.keypad)
        self.error = label("", "error")
        self.error.hide()
        self.add(self.error)
        self.column.addStretch(1)
        back = button(t(lang, "common.cancel"))
        back.clicked.connect(self.cancelled)
        self.save_button = button(t(lang, "staff.settings.save"), "primary")
        self.save_button.clicked.connect(self._on_save)
        self.footer.addWidget(back)
        self.footer.addStretch(1)
        self.footer.addWidget(self.save_button)

    def focus_first(self) -> None:
        self.measured_mm.setFocus()

    def show_error(self, text: str) -> None:
        self.error.setText(text)
        self.error.show()

    def _on_save(self) -> None:
        text = self.measured_mm.text().strip()
        low, high = MEASURED_RANGE_MM
        measured = float(text) if text.isdigit() else 0.0
        if not low <= measured <= high:
            limits = {"low": f"{low:g}", "high": f"{high:g}"}
            self.show_error(t(self.lang, "staff.settings.invalid", **limits))
            return
        emit(self.measured, measured)
