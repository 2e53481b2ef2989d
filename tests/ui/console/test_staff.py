"""The administrator's staff accounts in the console: create, disable, enable, reset a PIN."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from respine_desktop.storage import StudyDb
from tests.support.console import INVESTIGATOR, staff_of
from ui.console.page import ConsolePage
from ui.console.staff import StaffAdminView


@pytest.fixture
def accounts(qtbot: QtBot, db: StudyDb) -> StaffAdminView:
    view = StaffAdminView(db, staff_of(db, "admin"), "en")
    qtbot.addWidget(view)
    return view


def rows(view: StaffAdminView) -> list[tuple[str, ...]]:
    return [
        tuple(view.table.item(r, c).text() for c in range(view.table.columnCount()))  # type: ignore[union-attr]
        for r in range(view.table.rowCount())
    ]


def test_only_an_administrator_has_the_staff_tab(qtbot: QtBot, db: StudyDb) -> None:
    admin = ConsolePage(db, staff_of(db, "admin"), "en")
    investigator = ConsolePage(db, staff_of(db, INVESTIGATOR), "en")
    qtbot.addWidget(admin)
    qtbot.addWidget(investigator)
    assert admin.staff_admin is not None and investigator.staff_admin is None
    tabs = [admin.tabs.tabText(n) for n in range(admin.tabs.count())]
    assert tabs == [
        "Worklist",
        "Register a subject",
        "Study report",
        "Export data",
        "Conflicts",
        "Staff accounts",
    ]


def test_the_accounts_are_listed_with_role_and_state(accounts: StaffAdminView) -> None:
    assert rows(accounts) == [
        ("admin", "administrator", "active"),
        ("coord", "coordinator", "active"),
        ("inv", "investigator", "active"),
    ]


def test_create_disable_enable_and_reset_a_pin(accounts: StaffAdminView, db: StudyDb) -> None:
    accounts.new_username.setText("nurse.b")
    accounts.new_role.setCurrentIndex(accounts.new_role.findData("coordinator"))
    accounts.create_pin.setText("12")
    accounts.create_button.click()
    assert "6 to 12 digits" in accounts.message.text()
    assert "nurse.b" not in [s.username for s in storage.list_staff(db)]
    accounts.create_pin.setText("572913")
    accounts.create_button.click()
    assert accounts.message.text() == "Account nurse.b created."
    assert storage.authenticate(db, "nurse.b", "572913").role == "coordinator"
    assert accounts.chosen() == "nurse.b"

    assert accounts.toggle_button.text() == "Disable account"
    accounts.toggle_button.click()
    assert ("nurse.b", "coordinator", "disabled") in rows(accounts)
    with pytest.raises(storage.AccountDisabled):
        storage.authenticate(db, "nurse.b", "572913")
    assert accounts.toggle_button.text() == "Enable account"
    accounts.toggle_button.click()
    assert ("nurse.b", "coordinator", "active") in rows(accounts)

    accounts.new_pin.setText("87654329")
    accounts.reset_button.click()
    assert accounts.message.text() == "New PIN set for nurse.b."
    assert storage.authenticate(db, "nurse.b", "87654329").username == "nurse.b"
    actions = [e.action for e in storage.audit_entries(db) if e.action.startswith("staff.")]
    assert actions[-4:] == ["staff.created", "staff.disabled", "staff.enabled", "staff.pin_reset"]


def test_an_administrator_cannot_disable_their_own_account(accounts: StaffAdminView) -> None:
    assert accounts.choose("admin")
    assert not accounts.toggle_button.isEnabled()
    accounts.toggle_active()  # forced: storage refuses
    assert "cannot disable their own account" in accounts.message.text()


def test_a_refused_account_is_said_in_french(qtbot: QtBot, db: StudyDb) -> None:
    view = StaffAdminView(db, staff_of(db, "admin"), "fr")
    qtbot.addWidget(view)
    view.new_username.setText("nurse.b")
    view.create_pin.setText("123456")
    view.create_button.click()
    assert view.message.text() == (
        "Refusé : un code PIN ne peut pas être une suite de chiffres (comme 123456 ou 654321)"
    )
    view.new_username.setText("Nurse B")
    view.create_pin.setText("572913")
    view.create_button.click()
    assert view.message.text().startswith("Refusé : l'identifiant « Nurse B » doit compter")
    assert "nurse.b" not in [s.username for s in storage.list_staff(db)]
