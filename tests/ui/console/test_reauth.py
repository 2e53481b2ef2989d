"""Re-entry of credentials in the console (21 CFR 11.200): username and PIN the first time in a
console page's life, the PIN only after; a wrong PIN counts toward the lockout and says how long;
cancel writes nothing. Real widgets offscreen on a real database."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from respine_desktop.storage import StudyDb
from tests.support.console import (
    COMPLETE,
    INVESTIGATOR,
    INVESTIGATOR_PIN,
    staff_of,
)
from ui.console.correction import CorrectionPanel
from ui.console.page import ConsolePage
from ui.console.reauth import ReauthFields


def console(qtbot: QtBot, db: StudyDb, lang: str = "en") -> ConsolePage:
    page = ConsolePage(db, staff_of(db, INVESTIGATOR), lang)
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    return page


def correction_form(page: ConsolePage, value: float = 25.0) -> CorrectionPanel:
    view = page.open_subject(COMPLETE)
    panel = view.correction
    panel.open_button.click()
    assert panel.choose("M0", "vas_pain")
    panel.set_value(value)
    panel.reason.setText("source document")
    return panel


def tap(fields: ReauthFields, text: str) -> None:
    """Type on the on-screen keys into the field that has the focus."""
    for char in text:
        QTest.mouseClick(fields.keyboard.key(char), Qt.MouseButton.LeftButton)


def vas_history(db: StudyDb) -> list[object]:
    session_id = storage.subject_visit(db, COMPLETE, "M0").session_id
    assert session_id is not None
    return [a.value for a in storage.answer_history(db, session_id, "vas_pain")]


def test_username_and_pin_the_first_time_then_the_pin_only_on_screen_keys(
    qtbot: QtBot, db: StudyDb, show_active: Callable[[QWidget], None]
) -> None:
    page = console(qtbot, db)
    show_active(page)
    panel = correction_form(page)
    fields = panel.reauth
    assert fields.asks_username() and fields.username.isVisibleTo(panel)
    assert fields.hint.text().startswith("Confirm with your credentials")
    assert not panel.save_button.isEnabled()
    fields.keyboard_button.click()
    assert fields.keyboard.isVisibleTo(panel)
    fields.username.setFocus()
    tap(fields, INVESTIGATOR)
    fields.pin.setFocus()
    assert fields.keyboard.currentWidget() is fields.keyboard.digit_pad
    tap(fields, INVESTIGATOR_PIN)
    assert (fields.username.text(), fields.pin.text()) == (INVESTIGATOR, INVESTIGATOR_PIN)
    with qtbot.waitSignal(panel.corrected):
        panel.save_button.click()
    assert vas_history(db) == [60.0, 25.0]
    (entry,) = storage.audit_entries(db, action="answer.corrected")
    assert entry.payload["credentials_reentered_at"]

    # Another subject view of the same console page: the PIN only.
    page.close_subject()
    panel = correction_form(page, 30.0)
    assert not panel.reauth.asks_username()
    assert not panel.reauth.username.isVisibleTo(panel)
    assert panel.reauth.hint.text() == ("Confirm with your PIN (electronic record, 21 CFR 11.200).")
    panel.reauth.pin.setText(INVESTIGATOR_PIN)
    with qtbot.waitSignal(panel.corrected):
        panel.save_button.click()
    assert vas_history(db) == [60.0, 25.0, 30.0]

    # A new console page (after a lock and a new sign-in) asks for both again.
    assert correction_form(console(qtbot, db), 35.0).reauth.asks_username()


def test_a_wrong_pin_counts_toward_the_lockout_says_how_long_and_writes_nothing(
    qtbot: QtBot, db: StudyDb
) -> None:
    page = console(qtbot, db)
    panel = correction_form(page)
    panel.reauth.username.setText(INVESTIGATOR)
    for left in (4, 3, 2, 1):
        panel.reauth.pin.setText("111222")
        panel.save_button.click()
        assert panel.reauth.error.text() == (
            f"Wrong PIN: nothing was saved. {left} attempts left before your account is locked."
        )
        assert panel.reauth.pin.text() == ""  # typed again, never kept
    panel.reauth.pin.setText("111222")
    panel.save_button.click()
    assert panel.reauth.error.text().startswith(
        "Wrong PIN: nothing was saved. Your account is locked for 5 min (until "
    )
    # Locked: the right PIN is refused too, still saying how long.
    panel.reauth.pin.setText(INVESTIGATOR_PIN)
    panel.save_button.click()
    assert "Your account is locked for 5 min" in panel.reauth.error.text()
    assert panel.form.isVisibleTo(panel)
    assert vas_history(db) == [60.0]
    assert len(storage.audit_entries(db, action="login.failed")) == 5
    assert len(storage.audit_entries(db, action="staff.locked")) == 1
    assert staff_of(db, INVESTIGATOR).locked_until is not None
    # The first re-entry did not succeed: the username is still asked.
    assert panel.reauth.asks_username()


def test_cancel_forgets_the_credentials_and_writes_nothing(qtbot: QtBot, db: StudyDb) -> None:
    page = console(qtbot, db)
    panel = correction_form(page)
    panel.reauth.username.setText(INVESTIGATOR)
    panel.reauth.pin.setText(INVESTIGATOR_PIN)
    before = storage.audit_entries(db)
    panel.close_form()
    assert not panel.form.isVisibleTo(panel)
    assert panel.reauth.pin.text() == "" and panel.reauth.username.text() == ""
    assert storage.audit_entries(db) == before
    assert vas_history(db) == [60.0]
    panel.open_form()
    assert panel.reauth.asks_username() and not panel.save_button.isEnabled()


def test_another_accounts_username_is_refused_in_french(qtbot: QtBot, db: StudyDb) -> None:
    page = console(qtbot, db, "fr")
    panel = correction_form(page)
    assert panel.reauth.hint.text().startswith("Confirmez avec vos identifiants")
    panel.reauth.username.setText("coord")
    panel.reauth.pin.setText("731592")
    panel.save_button.click()
    assert panel.reauth.error.text() == (
        "Ce ne sont pas les identifiants du compte connecté (inv) : rien n'a été enregistré."
    )
    assert staff_of(db, "coord").failed_attempts == 0
    assert vas_history(db) == [60.0]
