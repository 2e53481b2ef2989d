"""Leaving patient mode: a held Staff button, no username offered, wrong PINs slow, never lock."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest

from respine_desktop import storage
from respine_desktop.i18n import t
from tests.support.kiosk import PIN, Kiosk, ManualTimer, hold
from tests.ui.kiosk.test_kiosk_flow import staff_button_of
from ui.kiosk.staff_exit import DELAYS_S, delay_after
from ui.kiosk.staff_pages import LockPage, PinPage, StaffHomePage

COORD_PIN = "482915"


def with_coordinator(kiosk: Kiosk) -> None:
    db = kiosk.flow.db
    assert db is not None
    admin = storage.get_staff(db, "admin")
    storage.create_staff(db, admin, "coord", "coordinator", COORD_PIN)


def test_a_tap_or_a_short_hold_on_staff_does_nothing(kiosk: Kiosk) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    page = kiosk.item()
    staff = staff_button_of(page)
    QTest.mouseClick(staff, Qt.MouseButton.LeftButton)
    assert kiosk.item() is page
    QTest.mousePress(staff, Qt.MouseButton.LeftButton)
    for _ in range(staff.steps_needed - 1):
        staff.timer.timeout.emit()
    assert 0 < staff.progress < 1  # the hold shows how far it has got
    QTest.mouseRelease(staff, Qt.MouseButton.LeftButton)
    assert staff.progress == 0
    staff.timer.timeout.emit()  # a late tick after letting go changes nothing
    assert kiosk.item() is page and staff.progress == 0


def test_the_long_press_opens_a_pin_screen_with_no_username(kiosk: Kiosk) -> None:
    kiosk.unlock()  # admin signed in last: still not offered from patient mode
    kiosk.hand_over()
    hold(staff_button_of(kiosk.item()))
    page = kiosk.on(PinPage)
    assert page.leaving_patient and page.username.text() == ""
    assert "admin" not in " ".join(w.text() for w in page.findChildren(type(page.error)))


def wrong_pin_waits(kiosk: Kiosk, page: PinPage, wait_timer: ManualTimer, n: int) -> None:
    kiosk.sign_in("coord", "999999")
    seconds = delay_after(n)
    assert "Wrong" in page.error.text() or "Wait" in page.error.text()
    if not seconds:
        assert page.sign_in_button.isEnabled()
        return
    assert not page.sign_in_button.isEnabled() and not page.keypad.isEnabled()
    assert page.error.text() == t("en", "staff.pin.wait", seconds=seconds)
    wait_timer.tick()
    assert page.error.text() == t("en", "staff.pin.wait", seconds=seconds - 1)
    wait_timer.tick(seconds - 1)
    assert page.sign_in_button.isEnabled() and page.keypad.isEnabled()


@pytest.mark.req("SEC-03")
def test_five_wrong_pins_from_patient_mode_leave_the_coordinator_able_to_sign_in(
    kiosk: Kiosk,
) -> None:
    with_coordinator(kiosk)
    kiosk.unlock()
    kiosk.hand_over()
    item = kiosk.item()
    hold(staff_button_of(item))
    page = kiosk.on(PinPage)
    wait_timer = kiosk.flow.sign_in.timer
    assert isinstance(wait_timer, ManualTimer)
    assert DELAYS_S[:6] == (0, 0, 5, 10, 20, 40)
    for n in range(1, 6):
        wrong_pin_waits(kiosk, page, wait_timer, n)
    db = kiosk.flow.db
    assert db is not None
    coord = storage.get_staff(db, "coord")
    assert coord.failed_attempts == 0 and coord.locked_until is None
    failed = storage.audit_entries(db, action="login.failed")
    assert len(failed) == 5 and all(e.payload["counted"] is False for e in failed)
    # The sixth wrong PIN waits 80 s; a cancelled and reopened PIN screen still waits.
    kiosk.sign_in("coord", "999999")
    QTest.mouseClick(page.cancel_button, Qt.MouseButton.LeftButton)
    assert kiosk.item() is item
    hold(staff_button_of(item))
    again = kiosk.on(PinPage)
    assert not again.sign_in_button.isEnabled()
    again.username.setText("coord")
    again.pin.setText(COORD_PIN)
    again.pin.returnPressed.emit()  # Enter during the wait is refused as well
    assert kiosk.on(PinPage) is again
    wait_timer.tick(80)
    kiosk.sign_in("coord", COORD_PIN)
    assert kiosk.on(StaffHomePage) and kiosk.flow.staff is not None
    assert kiosk.flow.sign_in.failures == 0


@pytest.mark.req("SEC-02")
def test_the_lockout_message_says_for_how_long_and_whom_to_ask(kiosk: Kiosk) -> None:
    tap_unlock = kiosk.on(LockPage).unlock_button
    QTest.mouseClick(tap_unlock, Qt.MouseButton.LeftButton)
    for _ in range(5):
        kiosk.sign_in(pin="999999")
    text = kiosk.on(PinPage).error.text()
    assert text == t("en", "staff.pin.locked", minutes=5)
    assert "5 min" in text and "administrator" in text
    kiosk.sign_in(pin=PIN)
    assert kiosk.on(PinPage).error.text() == text and kiosk.flow.staff is None


def test_the_delays_grow_and_stop_growing() -> None:
    assert [delay_after(n) for n in range(0, 4)] == [0, 0, 0, 5]
    assert delay_after(100) == DELAYS_S[-1] == 300


def test_an_idle_lock_offers_no_username_and_its_wrong_pins_lock_no_account(
    kiosk: Kiosk,
) -> None:
    with_coordinator(kiosk)
    kiosk.unlock("coord", COORD_PIN)
    kiosk.hand_over()
    kiosk.timer.tick(kiosk.flow.settings.idle_timeout_s + 60)  # idle: countdown, then the lock
    tap_unlock = kiosk.on(LockPage).unlock_button
    QTest.mouseClick(tap_unlock, Qt.MouseButton.LeftButton)
    page = kiosk.on(PinPage)
    assert page.username.text() == "" and not page.leaving_patient
    wait_timer = kiosk.flow.sign_in.timer
    assert isinstance(wait_timer, ManualTimer)
    for n in range(1, 6):
        wrong_pin_waits(kiosk, page, wait_timer, n)
    db = kiosk.flow.db
    assert db is not None
    coord = storage.get_staff(db, "coord")
    assert coord.failed_attempts == 0 and coord.locked_until is None
    kiosk.sign_in("coord", COORD_PIN)
    assert kiosk.on(StaffHomePage) and kiosk.flow.staff is not None
    # Signed in, then locked by staff from a staff screen: the username is offered again and
    # wrong PINs count as usual.
    kiosk.flow.lock(reason="staff")
    QTest.mouseClick(kiosk.on(LockPage).unlock_button, Qt.MouseButton.LeftButton)
    assert kiosk.on(PinPage).username.text() == "coord" and not kiosk.flow.unattended


def test_the_pin_can_be_typed_on_the_on_screen_keys(kiosk: Kiosk) -> None:
    QTest.mouseClick(kiosk.on(LockPage).unlock_button, Qt.MouseButton.LeftButton)
    page = kiosk.on(PinPage)
    page.username.setFocus()
    for char in "admin":
        QTest.mouseClick(page.keypad.key(char), Qt.MouseButton.LeftButton)
    assert page.username.text() == "admin" and page.keypad.currentWidget() is page.keypad.letter_pad
    page.pin.setFocus()
    assert page.keypad.currentWidget() is page.keypad.digit_pad
    for char in PIN + "9":
        QTest.mouseClick(page.keypad.key(char), Qt.MouseButton.LeftButton)
    QTest.mouseClick(page.keypad.key("\b"), Qt.MouseButton.LeftButton)
    assert page.pin.text() == PIN and page.pin.hasFocus()
    QTest.mouseClick(page.sign_in_button, Qt.MouseButton.LeftButton)
    assert kiosk.on(StaffHomePage)
