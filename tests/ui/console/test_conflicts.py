"""The console's conflicts tab on a real hub where two kiosks did RSP-01-030's M1 (kiosk b
submitting last): the list, the versions side by side with their differences, the rule stated,
keyboard and touch, French, the friendly empty state on a database without conflicts, and an
investigator choosing the version that counts (with a reason; coordinators only see the choice)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from respine_desktop.storage import StudyDb
from tests.support.console import (
    ADMIN_PIN,
    COORDINATOR,
    INVESTIGATOR_PIN,
    make_console_db,
    staff_of,
)
from tests.support.exports import conflicted_hub, hub_and_kiosks
from tests.support.review import console_on, opened_copy
from ui.console.conflict_tables import DIFFERS, ROW_HEIGHT
from ui.console.conflicts import ConflictsView
from ui.console.page import ConsolePage
from ui.console.reauth import ReauthFields
from ui.console.subject import SubjectView

SUBJECT = "RSP-01-030"


@pytest.fixture(scope="module")
def hub_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hub")
    with hub_and_kiosks(root) as (hub, a, b, c):
        conflicted_hub(hub, a, b, c)
    return hub


@pytest.fixture
def hub(hub_file: Path, tmp_path: Path) -> Iterator[StudyDb]:
    with opened_copy(hub_file, tmp_path) as db:
        yield db


def type_pin(fields: ReauthFields, pin: str) -> None:
    """Tap the PIN on the on-screen digit pad, as staff at a tablet do."""
    fields.keyboard_button.click()
    fields.pin.setFocus()
    fields.keyboard.serve(fields.pin)
    for digit in pin:
        QTest.mouseClick(fields.keyboard.key(digit), Qt.MouseButton.LeftButton)
    fields.keyboard_button.click()
    assert fields.pin.text() == pin


def rows(view: ConflictsView) -> list[list[str]]:
    table = view.table
    return [
        [table.item(r, c).text() for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def choose(view: ConflictsView, instrument_id: str) -> None:
    review = next(r for r in view.reviews if r.instrument_id == instrument_id)
    assert view.select(review.conflict.entry_id)


def test_the_tab_lists_each_conflict_with_its_kiosks_and_the_version_that_counts(
    qtbot: QtBot, hub: StudyDb
) -> None:
    page = console_on(qtbot, hub)
    view = page.conflicts
    assert view.loaded  # read when the tab was shown
    assert [r[:6] for r in rows(view)] == [
        [SUBJECT, "M1 · 1 month", "ODI", "kiosk a / kiosk b", "10 of 10", "kiosk b"],
        [SUBJECT, "M1 · 1 month", "SF-36", "kiosk a / kiosk b", rows(view)[1][4], "kiosk b"],
        [SUBJECT, "M1 · 1 month", "Pain VAS", "kiosk a / kiosk b", "1 of 1", "kiosk b"],
    ]
    assert view.count.text() == "Conflicts flagged: 3"
    assert view.rule.isVisibleTo(view) and not view.empty.isVisibleTo(view)
    rule = view.rule.text()
    assert "version submitted last counts" in rule and "both versions are kept" in rule
    assert "answers_long" in rule and "--history" in rule


def test_the_versions_are_shown_side_by_side_with_their_differences_marked(
    qtbot: QtBot, hub: StudyDb
) -> None:
    page = console_on(qtbot, hub)
    view = page.conflicts
    choose(view, "vas")
    assert view.heading.text() == f"{SUBJECT}, 1 month, Pain VAS: 1 of 1 items differ"
    assert view.item_rows() == [["Pain VAS", "50 mm", "35.5 mm", "≠ differs"]]
    headers = [view.items.horizontalHeaderItem(c).text() for c in range(4)]
    assert headers == ["Item", "1 · kiosk a", "2 · kiosk b \u2713 counts", "Difference"]
    assert view.reason.text() == (
        "The version of kiosk b counts: it was submitted last. Both versions are kept."
    )
    versions = [
        [view.versions.item(r, c).text() for c in range(view.versions.columnCount())]
        for r in range(2)
    ]
    assert [v[0] for v in versions] == ["1 · kiosk a", "2 · kiosk b"]
    assert [v[1] for v in versions] == ["submitted", "submitted"]
    assert [v[4] for v in versions] == ["the patient", "the patient"]
    assert [v[5:] for v in versions] == [["1", "1", "kept"], ["1", "1", "counts"]]

    # ODI: kiosk a's odi_02 is its correction (2), every item differs and is highlighted.
    choose(view, "odi")
    odi = {r[0]: r for r in view.item_rows()}
    assert len(odi) == 10 and all(r[3] == "≠ differs" for r in odi.values())
    assert odi["ODI 2"][1].startswith("2 · ") and odi["ODI 2"][2].startswith("4 · ")
    assert view.items.item(1, 1).background().color() == DIFFERS

    # SF-36: items both kiosks answered alike are not marked, and can be hidden.
    choose(view, "sf36")
    review = view.current()
    assert review is not None and review.instrument_id == "sf36"
    shown = view.item_rows()
    same = [r for r in shown if r[3] == ""]
    assert same and all(r[1] == r[2] for r in same)
    alike = next(n for n, i in enumerate(review.items) if not i.differs)
    assert view.items.item(alike, 1).background().color() != DIFFERS
    view.only_differing.setChecked(True)
    assert len(view.item_rows()) == len(review.differing_items) < len(shown)
    assert all(r[3] == "≠ differs" for r in view.item_rows())


def test_keyboard_and_touch_choose_a_conflict_and_enter_opens_the_subject(
    qtbot: QtBot, hub: StudyDb, show_active: Callable[[QWidget], None]
) -> None:
    page = console_on(qtbot, hub)
    show_active(page)
    view = page.conflicts
    assert view.current() is view.reviews[0]  # the first conflict is chosen at once
    view.table.setFocus()
    QTest.keyClick(view.table, Qt.Key.Key_Down)
    assert view.current() is view.reviews[1] and "SF-36" in view.heading.text()
    # A tap on a row chooses it; rows are a finger high.
    assert view.table.rowHeight(2) >= ROW_HEIGHT
    rect = view.table.visualRect(view.table.model().index(2, 0))
    QTest.mouseClick(view.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert view.current() is view.reviews[2] and "Pain VAS" in view.heading.text()
    with qtbot.waitSignal(view.subject_opened) as opened:
        QTest.keyClick(view.table, Qt.Key.Key_Return)
    assert opened.args == [SUBJECT]
    assert isinstance(page.subject, SubjectView) and page.stack.currentWidget() is page.subject


def test_refreshing_keeps_the_chosen_conflict(qtbot: QtBot, hub: StudyDb) -> None:
    page = console_on(qtbot, hub)
    view = page.conflicts
    choose(view, "vas")
    view.refresh_button.click()
    current = view.current()
    assert len(view.reviews) == 3 and current is not None and current.instrument_id == "vas"


def test_the_tab_speaks_french(qtbot: QtBot, hub: StudyDb) -> None:
    page = console_on(qtbot, hub, "fr")
    view = page.conflicts
    choose(view, "vas")
    assert view.item_rows() == [["EVA douleur", "50 mm", "35.5 mm", "≠ diffère"]]
    assert view.reason.text().startswith("La version de kiosk b compte : elle a été soumise")
    assert "soumise en dernier compte" in view.rule.text()
    assert view.table.horizontalHeaderItem(5).text() == "Version retenue"


def test_a_database_without_conflicts_shows_a_friendly_empty_state(
    qtbot: QtBot, tmp_path: Path
) -> None:
    with storage.open_database(make_console_db(tmp_path / "console.db")) as db:
        page = ConsolePage(db, staff_of(db, COORDINATOR), "en")
        qtbot.addWidget(page)
        page.show()
        view = page.conflicts
        assert not view.loaded  # nothing read until staff look
        page.tabs.setCurrentWidget(page.review)
        assert view.loaded and view.reviews == []
        assert view.empty.isVisibleTo(view) and view.empty.text().startswith("No conflicts")
        assert not view.table.isVisibleTo(view) and not view.detail.isVisibleTo(view)
        assert view.count.text() == ""


# -- choosing the version that counts ----------------------------------------------------------

WHY = "kiosk b was a staff test run"


def tap_version(view: ConflictsView, row: int) -> None:
    rect = view.versions.visualRect(view.versions.model().index(row, 0))
    QTest.mouseClick(view.versions.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def m1_sessions(db: StudyDb) -> list[str]:
    return [s.id for s in storage.subject_sessions(db, SUBJECT) if s.visit_code == "M1"]


def test_an_investigator_chooses_a_version_with_a_reason_by_touch_and_keyboard(
    qtbot: QtBot, hub: StudyDb, show_active: Callable[[QWidget], None]
) -> None:
    page = console_on(qtbot, hub, staff="inv")
    show_active(page)
    view = page.conflicts
    first, second = m1_sessions(hub)
    choose(view, "vas")
    assert view.resolve_button.isVisibleTo(view)
    assert not view.resolve_button.isEnabled()  # no version picked yet
    assert view.resolve_button.toolTip() == "Choose a version in the table of versions first."
    tap_version(view, 0)
    assert view.current_version() == 0 and view.resolve_button.isEnabled()
    assert view.resolve_button.height() >= ROW_HEIGHT
    QTest.mouseClick(view.resolve_button, Qt.MouseButton.LeftButton)
    panel = view.resolve_panel
    assert panel is not None and panel.isVisibleTo(view)
    assert panel.title.text() == f"Make version 1 (kiosk a) count for {SUBJECT}, 1 month"
    assert panel.reason.hasFocus() and not panel.confirm_button.isEnabled()
    QTest.keyClicks(panel.reason, "   ")
    assert not panel.confirm_button.isEnabled()  # a blank reason is no reason
    panel.reason.clear()
    QTest.keyClicks(panel.reason, WHY)
    assert not panel.confirm_button.isEnabled()  # the credentials are re-entered first
    assert panel.reauth.asks_username()
    QTest.keyClicks(panel.reauth.username, "inv")
    type_pin(panel.reauth, INVESTIGATOR_PIN)
    assert panel.confirm_button.isEnabled()
    panel.reason.setFocus()
    with qtbot.waitSignal(view.resolved) as resolved:
        QTest.keyClick(panel.reason, Qt.Key.Key_Return)
    assert resolved.args == [SUBJECT, "M1"]
    assert not panel.isVisibleTo(view)
    assert storage.chosen_session(hub, SUBJECT, "M1") == first != second

    # The view was read again: the same conflict, kiosk a's version counts, and why.
    current = view.current()
    assert current is not None and current.instrument_id == "vas"
    assert view.done.text() == f"Version 1 (kiosk a) now counts for {SUBJECT}, 1 month."
    assert view.reason.text() == (
        "The version of kiosk a counts: it was chosen in review. Both versions are kept."
    )
    assert view.resolution.isVisibleTo(view)
    assert view.resolution.text().startswith("Chosen by inv on ")
    assert view.resolution.text().endswith(f"Reason: {WHY}")
    assert [r[5] for r in rows(view)] == ["kiosk a (chosen in review)"] * 3
    assert [view.versions.item(r, 7).text() for r in range(2)] == ["counts", "kept"]
    # Choosing the same version again is not offered; the other one is.
    tap_version(view, 0)
    assert not view.resolve_button.isEnabled()
    assert view.resolve_button.toolTip() == "This version is already the one chosen in review."
    # By keyboard: the versions table, Down to kiosk b's version, the button, Escape cancels.
    view.versions.setFocus()
    QTest.keyClick(view.versions, Qt.Key.Key_Down)
    assert view.current_version() == 1 and view.resolve_button.isEnabled()
    before = storage.visit_choices(hub, current.resolution.visit_id if current.resolution else "")
    view.resolve_button.setFocus()
    QTest.keyClick(view.resolve_button, Qt.Key.Key_Space)
    assert panel.isVisibleTo(view) and panel.title.text().startswith("Make version 2 (kiosk b)")
    QTest.keyClicks(panel.reason, "changed my mind")
    assert not panel.reauth.asks_username()  # the PIN only, after the first re-entry
    assert not panel.reauth.username.isVisibleTo(panel)
    type_pin(panel.reauth, INVESTIGATOR_PIN)
    QTest.keyClick(panel.reason, Qt.Key.Key_Escape)
    assert not panel.isVisibleTo(view)
    assert storage.chosen_session(hub, SUBJECT, "M1") == first
    assert storage.visit_choices(hub, before[0].visit_id) == before
    (entry,) = storage.audit_entries(hub, subject_code=SUBJECT, action="conflict.resolved")
    assert entry.payload["reason"] == WHY


def test_a_refusal_is_shown_in_the_form_and_nothing_changes(qtbot: QtBot, hub: StudyDb) -> None:
    page = console_on(qtbot, hub, staff="inv")
    view = page.conflicts
    _, second = m1_sessions(hub)
    choose(view, "odi")
    tap_version(view, 0)
    view.resolve_button.click()
    panel = view.resolve_panel
    assert panel is not None
    storage.disable_staff(hub, staff_of(hub, "admin"), "inv")  # meanwhile, on another screen
    QTest.keyClicks(panel.reason, WHY)
    QTest.keyClicks(panel.reauth.username, "inv")
    type_pin(panel.reauth, INVESTIGATOR_PIN)
    panel.confirm_button.click()
    assert panel.isVisibleTo(view) and panel.reauth.error.isVisibleTo(view)
    assert "is disabled" in panel.reauth.error.text()
    assert storage.chosen_session(hub, SUBJECT, "M1") == second
    panel.cancel_button.click()
    assert not panel.isVisibleTo(view)


def test_a_coordinator_sees_the_resolution_but_not_the_action(qtbot: QtBot, hub: StudyDb) -> None:
    first, _ = m1_sessions(hub)
    storage.resolve_conflict(hub, SUBJECT, "M1", first, staff=staff_of(hub, "inv"), reason=WHY)
    page = console_on(qtbot, hub)
    view = page.conflicts
    choose(view, "vas")
    assert not view.resolve_button.isVisibleTo(view) and view.resolve_panel is None
    assert view.reason.text().startswith("The version of kiosk a counts: it was chosen in review")
    assert view.resolution.text().startswith("Chosen by inv on ")
    assert view.resolution.text().endswith(f"Reason: {WHY}")


def test_choosing_a_version_speaks_french(qtbot: QtBot, hub: StudyDb) -> None:
    page = console_on(qtbot, hub, "fr", staff="admin")
    view = page.conflicts
    choose(view, "vas")
    assert view.resolve_button.text() == "Retenir cette version…"
    tap_version(view, 0)
    view.resolve_button.click()
    panel = view.resolve_panel
    assert panel is not None
    assert panel.title.text() == f"Faire compter la version 1 (kiosk a) pour {SUBJECT}, 1 mois"
    QTest.keyClicks(panel.reason, "la borne b servait de test")
    assert panel.reauth.hint.text().startswith("Confirmez avec vos identifiants")
    panel.reauth.username.setText("admin")
    panel.reauth.pin.setText(ADMIN_PIN)
    panel.confirm_button.click()
    assert view.done.text() == f"La version 1 (kiosk a) compte désormais pour {SUBJECT}, 1 mois."
    assert view.resolution.text().startswith("Retenue par admin le ")
    assert view.reason.text().startswith("La version de kiosk a compte : elle a été retenue")
