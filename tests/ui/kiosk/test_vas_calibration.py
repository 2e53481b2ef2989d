"""The VAS calibration at the kiosk: staff measure the line, the measurement is stored (audited)
with the screen's data, the line is drawn with it, and the VAS answers name it."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from respine_desktop import storage
from respine_desktop.i18n import t
from tests.support.kiosk import Kiosk, tap
from tests.ui.conftest import StartKiosk
from ui.kiosk.calibration_page import CalibrationPage
from ui.kiosk.staff_pages import SettingsPage, StaffHomePage
from ui.widgets.signals import emit


def open_settings(kiosk: Kiosk) -> SettingsPage:
    tap(kiosk.on(StaffHomePage).buttons["settings"])
    return kiosk.on(SettingsPage)


def open_calibration(kiosk: Kiosk) -> CalibrationPage:
    tap(open_settings(kiosk).calibrate_button)
    return kiosk.on(CalibrationPage)


def type_mm(page: CalibrationPage, text: str) -> None:
    """Type on the page's digit pad (a finger on the on-screen keys)."""
    for char in text:
        QTest.mouseClick(page.keypad.key(char), Qt.MouseButton.LeftButton)


def test_a_measurement_is_stored_drawn_and_named_by_the_vas_answer(kiosk: Kiosk) -> None:
    kiosk.unlock()
    home = kiosk.on(StaffHomePage)
    assert home.notice.isVisibleTo(home)
    assert home.notice.text() == t("en", "staff.home.uncalibrated")
    settings = open_settings(kiosk)
    assert settings.calibration_status.text() == t("en", "staff.settings.calibration_never")
    tap(settings.calibrate_button)
    page = kiosk.on(CalibrationPage)
    assert page.status.text() == t("en", "staff.settings.calibration_never")
    assert page.keypad.currentWidget() is page.keypad.digit_pad
    type_mm(page, "95")
    assert page.measured_mm.text() == "95"
    tap(page.save_button)
    settings = kiosk.on(SettingsPage)
    assert "95 mm" in settings.calibration_status.text()
    emit(settings.cancelled)
    home = kiosk.on(StaffHomePage)
    assert not home.notice.isVisibleTo(home)
    db = kiosk.flow.db
    assert db is not None
    (cal,) = storage.vas_calibrations(db)
    assert cal.measured_mm == 95.0 and cal.factor == round(100 / 95, 4)
    assert cal.calibrated_by == storage.get_staff(db, "admin").id
    assert cal.dpi > 0 and cal.dpi_source and cal.screen_width_px > 0
    assert storage.audit_entries(db, action="vas.calibrated")[0].entity_id == cal.id
    assert kiosk.flow.settings.vas_calibration == cal.factor
    page = open_settings(kiosk)
    assert "admin" in page.calibration_status.text()
    emit(page.cancelled)
    kiosk.hand_over()
    kiosk.answer()
    session = kiosk.flow.session
    assert session is not None
    answer = storage.current_answers(db, session.id)["vas_pain"]
    assert answer.vas_calibration == cal.id


def test_an_uncalibrated_tablet_records_uncalibrated(kiosk: Kiosk) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    kiosk.answer()
    db, session = kiosk.flow.db, kiosk.flow.session
    assert db is not None and session is not None
    answer = storage.current_answers(db, session.id)["vas_pain"]
    assert answer.vas_calibration == storage.UNCALIBRATED and answer.vas_line_mm is not None


def test_an_implausible_length_is_refused_and_nothing_stored(kiosk: Kiosk) -> None:
    kiosk.unlock()
    page = open_calibration(kiosk)
    for text in ("0", "30", "250"):
        page.measured_mm.clear()
        type_mm(page, text)
        tap(page.save_button)
        assert kiosk.on(CalibrationPage) is page and page.error.isVisibleTo(page)
        assert "50" in page.error.text() and "200" in page.error.text()
    db = kiosk.flow.db
    assert db is not None and storage.vas_calibrations(db) == []


def test_the_database_calibration_wins_over_the_settings_file(
    kiosk: Kiosk, start_kiosk: StartKiosk, tmp_path: Path
) -> None:
    kiosk.unlock()
    page = open_calibration(kiosk)
    type_mm(page, "104")
    tap(page.save_button)
    kiosk.on(SettingsPage)
    kiosk.flow.release()
    (tmp_path / "settings.json").write_text("{}")  # the file lost: the database still says
    again = start_kiosk(kiosk.db_path)
    assert again.flow.settings.vas_calibration == round(100 / 104, 4)


def test_cancel_on_the_measuring_page_stores_nothing(kiosk: Kiosk) -> None:
    kiosk.unlock()
    page = open_calibration(kiosk)
    type_mm(page, "99")
    emit(page.cancelled)
    kiosk.on(SettingsPage)
    db = kiosk.flow.db
    assert db is not None and storage.vas_calibrations(db) == []
