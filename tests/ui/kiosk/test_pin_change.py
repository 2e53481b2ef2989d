"""An account whose PIN predates the policy (here "2468", hashed as older versions did) signs in,
then must change its PIN on the "Change your PIN" page before anything else: the current PIN,
the new one twice, the policy stated, the digit pad; a weak new PIN refused; all audited."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from tests.support.kiosk import Kiosk, make_kiosk, tap
from ui.kiosk.lock_page import LockPage
from ui.kiosk.pin_change_page import ChangePinPage
from ui.kiosk.staff_pages import StaffHomePage

OLD_PIN, NEW_PIN = "2468", "583920"


def old_hash(pin: str) -> str:
    """A hash as the versions before the PIN policy made it (scrypt N = 2**14)."""
    salt = b"0123456789abcdef"
    key = hashlib.scrypt(pin.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    b64 = base64.b64encode
    return f"scrypt${2**14}$8$1${b64(salt).decode()}${b64(key).decode()}"


@pytest.fixture
def old_pin_db(db_path: Path) -> Path:
    """The kiosk's database, its administrator's PIN "2468" from before the policy."""
    with storage.open_database(db_path) as db, db.conn:
        db.conn.execute("UPDATE staff SET pin_hash=? WHERE username='admin'", [old_hash(OLD_PIN)])
    return db_path


@pytest.fixture
def old_kiosk(qtbot: QtBot, old_pin_db: Path, tmp_path: Path) -> Iterator[Kiosk]:
    flow, timer = make_kiosk(old_pin_db, tmp_path / "settings.json")
    qtbot.addWidget(flow.window)
    flow.window.show()
    yield Kiosk(flow, timer, old_pin_db)
    flow.release()


def signed_in_with_old_pin(kiosk: Kiosk) -> ChangePinPage:
    tap(kiosk.on(LockPage).unlock_button)
    kiosk.sign_in("admin", OLD_PIN)
    return kiosk.on(ChangePinPage)


def type_on_pad(page: ChangePinPage, field_name: str, digits: str) -> None:
    field = getattr(page, field_name)
    page.keypad.serve(field)
    for digit in digits:
        QTest.mouseClick(page.keypad.key(digit), Qt.MouseButton.LeftButton)
    assert field.text() == digits


def actions(kiosk: Kiosk) -> list[str]:
    with storage.open_database(kiosk.db_path, readonly=True) as db:
        return [e.action for e in storage.audit_entries(db)]


def test_an_old_pin_leads_to_the_change_page_first_and_a_new_pin_to_the_home(
    old_kiosk: Kiosk,
) -> None:
    page = signed_in_with_old_pin(old_kiosk)
    assert page.error.isHidden()
    texts = [w.text() for w in page.findChildren(type(page.error))]
    assert any(text.startswith("A PIN has 6 to 12 digits") for text in texts)
    assert page.keypad.currentWidget() is page.keypad.digit_pad
    assert old_kiosk.flow.staff is not None  # signed in, but nothing else is offered
    type_on_pad(page, "current", OLD_PIN)
    type_on_pad(page, "new", NEW_PIN)
    type_on_pad(page, "again", NEW_PIN)
    tap(page.change_button)
    old_kiosk.on(StaffHomePage)
    done = actions(old_kiosk)
    assert done.index("kiosk.pin_change_required") < done.index("staff.pin_changed")
    with storage.open_database(old_kiosk.db_path) as db:
        assert storage.authenticate(db, "admin", NEW_PIN).username == "admin"
        with pytest.raises(storage.WrongPin):
            storage.authenticate(db, "admin", OLD_PIN)
    # Signed in again with the new PIN: straight to the home.
    old_kiosk.flow.lock()
    old_kiosk.unlock("admin", NEW_PIN)


def test_a_weak_new_pin_is_refused_and_nothing_changes(old_kiosk: Kiosk) -> None:
    page = signed_in_with_old_pin(old_kiosk)
    for weak in ("123456", "111111", "12345"):
        page.current.setText(OLD_PIN)
        page.new.setText(weak)
        page.again.setText(weak)
        tap(page.change_button)
        assert old_kiosk.on(ChangePinPage) is page
        assert page.error.text() == (
            "New PIN refused: it does not follow the rule above. Nothing was changed."
        )
        assert page.new.text() == "" and page.current.text() == ""
    page.current.setText(OLD_PIN)
    page.new.setText(NEW_PIN)
    page.again.setText("583921")
    tap(page.change_button)
    assert page.error.text() == "The two new PINs differ: type the new PIN twice."
    assert "staff.pin_changed" not in actions(old_kiosk)
    with storage.open_database(old_kiosk.db_path) as db:
        assert storage.authenticate(db, "admin", OLD_PIN).username == "admin"


def test_a_wrong_current_pin_counts_and_signing_out_changes_nothing(old_kiosk: Kiosk) -> None:
    page = signed_in_with_old_pin(old_kiosk)
    page.current.setText("9999")
    page.new.setText(NEW_PIN)
    page.again.setText(NEW_PIN)
    tap(page.change_button)
    assert page.error.text() == "The current PIN is wrong: nothing was changed."
    with storage.open_database(old_kiosk.db_path, readonly=True) as db:
        assert storage.get_staff(db, "admin").failed_attempts == 1
    tap(page.sign_out_button)
    old_kiosk.on(LockPage)
    assert old_kiosk.flow.staff is None
    assert "staff.pin_changed" not in actions(old_kiosk)


def test_the_page_speaks_french(old_kiosk: Kiosk) -> None:
    old_kiosk.flow.settings = dataclasses.replace(old_kiosk.flow.settings, staff_language="fr")
    page = signed_in_with_old_pin(old_kiosk)
    assert page.change_button.text() == "Changer le code PIN"
    page.current.setText(OLD_PIN)
    page.new.setText("654321")
    page.again.setText("654321")
    tap(page.change_button)
    assert page.error.text() == (
        "Nouveau code PIN refusé : il ne suit pas la règle ci-dessus. Rien n'a été changé."
    )
