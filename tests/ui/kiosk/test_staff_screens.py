"""Staff screens: first-run set-up, PIN lockout, subject search, settings, the console hook."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from tests.support.kiosk import SUBJECT, Kiosk, tap
from ui.kiosk.calibration_page import CalibrationPage
from ui.kiosk.staff_pages import LockPage, PinPage, SettingsPage, SetupPage, StaffHomePage
from ui.kiosk.visit_picker import VisitPickerPage
from ui.style import apply_style
from ui.widgets.page import Page, label


def test_first_run_guides_through_creating_the_admin_pin(
    tmp_path: Path, start_kiosk: Callable[[Path], Kiosk]
) -> None:
    path = tmp_path / "first.db"
    kiosk: Kiosk = start_kiosk(path)
    page = kiosk.on(SetupPage)
    page.pin.setText("482915")
    page.pin_again.setText("482916")
    tap(page.create_button)
    assert page.error.isVisibleTo(page) and not path.exists()
    page.pin.setText("12")
    page.pin_again.setText("12")
    tap(page.create_button)
    assert "6 to 12 digits" in page.error.text() and not path.exists()
    page.pin.setText("975318")
    page.pin_again.setText("975318")
    tap(page.create_button)
    home = kiosk.on(StaffHomePage)
    assert "admin" in home.findChildren(QLabel)[0].text()
    assert path.exists()
    with storage.open_database(path) as db:
        assert storage.authenticate(db, "admin", "975318").role == "admin"


def test_five_wrong_pins_lock_the_account(kiosk: Kiosk) -> None:
    tap(kiosk.on(LockPage).unlock_button)
    for _ in range(5):
        kiosk.sign_in(pin="999999")
    kiosk.sign_in()  # the right PIN, too late
    page = kiosk.on(PinPage)
    assert "locked" in page.error.text() and kiosk.flow.staff is None


def test_the_picker_searches_by_subject_id_and_offers_only_visits_open_today(
    kiosk: Kiosk,
) -> None:
    db = kiosk.flow.db
    assert db is not None
    admin = storage.get_staff(db, "admin")
    storage.register_subject(db, "RSP-01-100", day0=date(2020, 1, 1), staff=admin)
    kiosk.unlock()
    tap(kiosk.on(StaffHomePage).buttons["start"])
    picker = kiosk.on(VisitPickerPage)
    assert picker.subjects.count() == 2
    QTest.keyClicks(picker.search, "007")
    rows = [picker.subjects.item(n) for n in range(picker.subjects.count())]
    assert [r.data(Qt.ItemDataRole.UserRole) for r in rows] == [SUBJECT]
    assert rows[0].text() == f"{SUBJECT} — due today"
    picker.subjects.setCurrentRow(0)
    assert picker.visits.count() == 1 and "Baseline" in picker.visits.item(0).text()
    assert picker.hand_over_button.isEnabled()
    picker.search.clear()
    QTest.keyClicks(picker.search, "rsp-01-100")
    picker.subjects.setCurrentRow(0)
    # Day 0 in 2020: every visit is over (overdue visits stay offered, late).
    texts = [picker.visits.item(n).text() for n in range(picker.visits.count())]
    assert texts and all("overdue" in text for text in texts)


def test_settings_switch_large_text_contrast_and_calibrate_the_vas(
    kiosk: Kiosk, tmp_path: Path
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    probe = label("Probe", "question")
    probe.ensurePolished()
    normal = probe.font().pointSizeF()
    try:
        kiosk.unlock()
        tap(kiosk.on(StaffHomePage).buttons["settings"])
        page = kiosk.on(SettingsPage)
        page.large_text.setChecked(True)
        page.high_contrast.setChecked(True)
        tap(page.save_button)
        kiosk.on(StaffHomePage)
        tap(kiosk.on(StaffHomePage).buttons["settings"])
        tap(kiosk.on(SettingsPage).calibrate_button)
        measuring = kiosk.on(CalibrationPage)
        measuring.measured_mm.setText("95")
        tap(measuring.save_button)
        kiosk.on(SettingsPage).cancelled.emit()
        saved = json.loads((tmp_path / "settings.json").read_text())
        assert saved["large_text"] and saved["high_contrast"]
        assert saved["vas_calibration"] == round(100 / 95, 4)
        bigger = label("Probe", "question")
        bigger.ensurePolished()
        assert bigger.font().pointSizeF() > normal
        # The VAS is now drawn 100/95 times longer, still reported as 100 mm.
        kiosk.hand_over()
        vas = kiosk.item().vas
        assert vas is not None
        assert abs(vas.rendered_length_mm() - 100) <= 0.5
    finally:
        apply_style(app)


def test_a_settings_entry_out_of_range_is_refused(kiosk: Kiosk) -> None:
    kiosk.unlock()
    tap(kiosk.on(StaffHomePage).buttons["settings"])
    tap(kiosk.on(SettingsPage).calibrate_button)
    page = kiosk.on(CalibrationPage)
    page.measured_mm.setText("5")
    tap(page.save_button)
    assert kiosk.on(CalibrationPage) is page and page.error.isVisibleTo(page)


def test_the_console_button_is_the_extension_point(kiosk: Kiosk, qtbot: QtBot) -> None:
    kiosk.unlock()
    with qtbot.waitSignal(kiosk.flow.console_requested):
        tap(kiosk.on(StaffHomePage).buttons["console"])
    placeholder = kiosk.on(Page)
    assert any("not installed" in w.text() for w in placeholder.findChildren(QLabel))
    kiosk.flow.show_staff_home()

    class Console(Page):
        pass

    kiosk.flow.console_page_factory = lambda flow: Console("Console")
    tap(kiosk.on(StaffHomePage).buttons["console"])
    kiosk.on(Console)
    QTest.keyClick(kiosk.window.windowHandle(), Qt.Key.Key_Escape)
    kiosk.on(Console)


def test_the_picker_lists_who_is_due_today_first(kiosk: Kiosk) -> None:
    db = kiosk.flow.db
    assert db is not None
    admin = storage.get_staff(db, "admin")
    storage.register_subject(db, "RSP-01-001", day0=date(2020, 1, 1), staff=admin)  # overdue
    kiosk.unlock()
    tap(kiosk.on(StaffHomePage).buttons["start"])
    picker = kiosk.on(VisitPickerPage)
    rows = [picker.subjects.item(n) for n in range(picker.subjects.count())]
    assert [r.data(Qt.ItemDataRole.UserRole) for r in rows] == [SUBJECT, "RSP-01-001"]
    assert rows[0].text() == f"{SUBJECT} — due today"
    assert rows[1].text() == "RSP-01-001 — overdue"


def test_the_subject_search_has_an_on_screen_keyboard(kiosk: Kiosk) -> None:
    kiosk.unlock()
    tap(kiosk.on(StaffHomePage).buttons["start"])
    picker = kiosk.on(VisitPickerPage)
    assert not picker.keyboard.isVisibleTo(picker)
    tap(picker.keyboard_button)
    assert picker.keyboard.isVisibleTo(picker)
    picker.search.setFocus()
    for char in "007":
        tap(picker.keyboard.key(char))
    assert picker.search.text() == "007" and picker.subjects.count() == 1
    tap(picker.keyboard_button)
    assert not picker.keyboard.isVisibleTo(picker)
