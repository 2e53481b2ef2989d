"""The console's worklist on a real database: statuses, filters, registering, missed, hand-over."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from respine_desktop.storage import ACTIONABLE, VISIT_STATUSES, StudyDb
from tests.support.console import (
    COMPLETE,
    COORDINATOR,
    DUE,
    IN_PROGRESS,
    MISSED,
    OVERDUE,
    PARKED,
    make_console_db,
    staff_of,
)
from tools.screenshots.fit import fit_problems
from ui.app import install_console
from ui.console.page import ConsolePage
from ui.kiosk.flow import KioskFlow
from ui.kiosk.patient_pages import HandoverPage
from ui.kiosk.settings import KioskSettings
from ui.kiosk.window import KioskWindow
from ui.style import apply_style


@pytest.fixture
def db_file(tmp_path: Path) -> Path:
    return make_console_db(tmp_path / "console.db")


@pytest.fixture
def db(db_file: Path) -> Iterator[StudyDb]:
    with storage.open_database(db_file) as opened:
        yield opened


@pytest.fixture
def console(qtbot: QtBot, db: StudyDb) -> ConsolePage:
    page = ConsolePage(db, staff_of(db, COORDINATOR), "en")
    qtbot.addWidget(page)
    page.resize(1280, 800)
    page.show()
    return page


def test_every_visit_status_is_shown_in_its_cell(console: ConsolePage) -> None:
    worklist = console.worklist
    worklist.set_statuses(VISIT_STATUSES)
    expected = {
        (DUE, "M0"): "due",
        (OVERDUE, "M0"): "overdue",
        (OVERDUE, "M1"): "overdue",
        (OVERDUE, "M3"): "not_yet_due",
        (IN_PROGRESS, "M0"): "in_progress",
        (PARKED, "M0"): "parked",
        (COMPLETE, "M0"): "complete",
        (COMPLETE, "M1"): "due",
        (MISSED, "M0"): "missed",
    }
    for (subject, visit), status in expected.items():
        assert worklist.status_of(subject, visit) == status, (subject, visit)
    # What staff read in the cell.
    row = worklist.subjects().index(IN_PROGRESS)
    column = 2 + console.db.study.visit_codes.index("M0")
    assert worklist.model.index(row, column).data() == "in progress"
    row = worklist.subjects().index(DUE)
    assert worklist.model.index(row, column).data() == "due today"


def test_the_default_filter_lists_subjects_with_a_visit_to_act_on(console: ConsolePage) -> None:
    worklist = console.worklist
    assert set(worklist.shown_statuses()) == set(ACTIONABLE)
    # RSP-01-005 and -006 are listed for their M1, which is due.
    assert worklist.subjects() == [DUE, OVERDUE, IN_PROGRESS, PARKED, COMPLETE, MISSED]
    worklist.set_statuses(["missed"])
    assert worklist.subjects() == [MISSED]
    worklist.set_statuses(["parked", "in_progress"])
    assert worklist.subjects() == [IN_PROGRESS, PARKED]
    worklist.status_boxes["overdue"].setChecked(True)  # ticking a box refreshes at once
    assert worklist.subjects() == [OVERDUE, IN_PROGRESS, PARKED]
    worklist.set_statuses([])
    assert worklist.subjects() == [] and worklist.empty.isVisibleTo(worklist)


def test_the_site_filter_shows_one_site(console: ConsolePage, db: StudyDb) -> None:
    admin = staff_of(db, "admin")
    storage.add_site(db, "02", staff=admin)
    storage.register_subject(db, "RSP-02-001", day0=date.today(), staff=admin, site_code="02")
    page = ConsolePage(db, staff_of(db, COORDINATOR), "en")  # sites are read when it opens
    worklist = page.worklist
    assert "RSP-02-001" not in worklist.subjects()
    worklist.set_site("02")
    assert worklist.subjects() == ["RSP-02-001"]
    assert worklist.status_of("RSP-02-001", "M0") == "due"
    page.deleteLater()


def test_registering_a_subject_puts_it_on_the_worklist(console: ConsolePage, db: StudyDb) -> None:
    form = console.register
    form.code.setText("Alice Martin")  # a name is not a study id: storage refuses it
    form.submit()
    assert form.message.isVisibleTo(form) and "must look like RSP-01-023" in form.message.text()
    assert [s.code for s in storage.list_subjects(db)] == sorted(
        [DUE, OVERDUE, IN_PROGRESS, PARKED, COMPLETE, MISSED]
    )
    form.code.setText("rsp-01-042")
    form.set_day0(date.today())
    form.submit()
    assert "RSP-01-042 registered" in form.message.text()
    assert storage.get_subject(db, "RSP-01-042").day0 == date.today()
    assert console.worklist.status_of("RSP-01-042", "M0") == "due"
    form.code.setText("RSP-01-042")
    form.submit()
    assert "exists already" in form.message.text()


def test_a_refused_registration_is_said_in_french(qtbot: QtBot, db: StudyDb) -> None:
    page = ConsolePage(db, staff_of(db, COORDINATOR), "fr")
    qtbot.addWidget(page)
    form = page.register
    form.code.setText("Alice Martin")
    form.submit()
    assert form.message.text() == (
        "Refusé : le code sujet « ALICE MARTIN » doit avoir la forme RSP-01-023"
    )
    form.code.setText(DUE)
    form.submit()
    assert form.message.text() == f"Refusé : le sujet {DUE} existe déjà"


def test_marking_a_visit_missed_needs_a_reason(console: ConsolePage, db: StudyDb) -> None:
    worklist = console.worklist
    assert worklist.select(OVERDUE, "M1")
    assert worklist.missed_button.isEnabled() and worklist.start_button.isEnabled()
    worklist.ask_missed()
    panel = worklist.missed
    assert panel.isVisibleTo(console) and OVERDUE in panel.title.text()
    assert not panel.confirm_button.isEnabled()
    panel.reason.setText("   ")
    assert not panel.confirm_button.isEnabled()
    panel.confirm()  # what a forced click would do: storage refuses, nothing is written
    assert panel.error.isVisibleTo(panel) and "reason is required" in panel.error.text()
    assert storage.subject_visit(db, OVERDUE, "M1").status == "overdue"
    panel.reason.setText("patient in hospital")
    assert panel.confirm_button.isEnabled()
    panel.confirm_button.click()
    assert not panel.isVisibleTo(console)
    assert storage.subject_visit(db, OVERDUE, "M1").missed_reason == "patient in hospital"
    worklist.set_statuses(VISIT_STATUSES)
    assert worklist.status_of(OVERDUE, "M1") == "missed"
    (entry,) = storage.audit_entries(db, subject_code=OVERDUE, action="visit.missed")
    assert entry.payload["reason"] == "patient in hospital"


def test_escape_closes_the_missed_visit_form_without_writing(
    qtbot: QtBot, console: ConsolePage, db: StudyDb
) -> None:
    worklist = console.worklist
    assert worklist.select(OVERDUE, "M1")
    worklist.ask_missed()
    panel = worklist.missed
    panel.reason.setText("patient moved away")
    with qtbot.waitSignal(panel.cancelled):
        qtbot.keyClick(panel.reason, Qt.Key.Key_Escape)
    assert not panel.isVisibleTo(console)
    assert storage.subject_visit(db, OVERDUE, "M1").status == "overdue"
    assert not storage.audit_entries(db, subject_code=OVERDUE, action="visit.missed")


def test_actions_follow_the_status_of_the_chosen_visit(console: ConsolePage) -> None:
    worklist = console.worklist
    worklist.set_statuses(VISIT_STATUSES)
    cases = {
        (DUE, "M0"): (True, True),
        (PARKED, "M0"): (True, False),
        (IN_PROGRESS, "M0"): (True, False),
        (COMPLETE, "M0"): (False, False),
        (MISSED, "M0"): (False, False),
        (OVERDUE, "M3"): (False, True),
    }
    for (subject, visit), (start, missed) in cases.items():
        assert worklist.select(subject, visit)
        assert worklist.start_button.isEnabled() is start, (subject, visit)
        assert worklist.missed_button.isEnabled() is missed, (subject, visit)
        assert worklist.open_button.isEnabled()


class IdleTimer(QTimer):
    """The kiosk's idle timer, never started: no idle lock can happen during a test."""

    def start(self, *args: object) -> None:
        pass


def test_start_questionnaires_hands_the_kiosk_over(
    qtbot: QtBot, db_file: Path, tmp_path: Path
) -> None:
    kiosk = KioskFlow(
        KioskWindow("RESPINE"),
        db_file,
        settings=KioskSettings(),
        settings_path=tmp_path / "settings.json",
        idle_timer=IdleTimer(),
    )
    window = kiosk.window
    qtbot.addWidget(window)
    install_console(kiosk)
    window.resize(1280, 800)
    window.show()
    try:
        assert kiosk.db is not None
        kiosk.staff = staff_of(kiosk.db, COORDINATOR)
        kiosk.show_staff_home()
        window.page().buttons["console"].click()  # type: ignore[attr-defined]
        console = window.page()
        assert isinstance(console, ConsolePage)
        assert console.worklist.select(DUE, "M0")
        console.worklist.start_button.click()
        assert isinstance(window.page(), HandoverPage)
        assert kiosk.staff is None and kiosk.patient_mode
        assert storage.subject_visit(kiosk.db, DUE, "M0").status == "in_progress"
    finally:
        kiosk.release()


def test_the_console_fits_a_portrait_tablet(qtbot: QtBot, db: StudyDb) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_style(app, large_text=True)  # the kiosk's large type, which the console's sheet replaces
    try:
        page = ConsolePage(db, staff_of(db, COORDINATOR), "en")
        qtbot.addWidget(page)
        page.resize(800, 1280)
        page.show()
        qtbot.waitUntil(page.isVisible)
        # The layouts kept the sizes measured with the kiosk's type: the window grew to 977 px.
        assert page.width() == 800
        page.worklist.set_statuses(VISIT_STATUSES)
        qtbot.waitUntil(lambda: all(b.isVisible() for b in page.worklist.status_boxes.values()))
        assert fit_problems(page) == []
    finally:
        apply_style(app)
