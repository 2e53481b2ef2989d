"""KioskFlow driven by its pages' signals, with its window never shown: the way between pages."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from tests.support.kiosk import PIN, SUBJECT, ManualTimer
from ui.kiosk.flow import KioskFlow
from ui.kiosk.item_page import ItemPage
from ui.kiosk.lock_page import LockPage
from ui.kiosk.patient_pages import HandoverPage
from ui.kiosk.settings import KioskSettings
from ui.kiosk.staff_pages import PinPage, SetupPage, StaffHomePage
from ui.kiosk.visit_picker import VisitPickerPage
from ui.kiosk.window import KioskWindow
from ui.widgets.signals import emit

W = TypeVar("W", bound=QWidget)


class Refusals:
    """A page that shows refusals (what the picker and the console are to `hand_over`)."""

    def __init__(self) -> None:
        self.shown: list[str] = []

    def show_error(self, text: str) -> None:
        self.shown.append(text)


@pytest.fixture
def timer() -> ManualTimer:
    return ManualTimer()


@pytest.fixture
def flow(qtbot: QtBot, db_path: Path, tmp_path: Path, timer: ManualTimer) -> Iterator[KioskFlow]:
    window = KioskWindow("RESPINE")
    qtbot.addWidget(window)
    flow = KioskFlow(
        window,
        db_path,
        settings=KioskSettings(idle_timeout_s=30),
        settings_path=tmp_path / "settings.json",
        idle_timer=timer,
    )
    yield flow
    flow.release()


def on(flow: KioskFlow, kind: type[W]) -> W:
    page = flow.window.page()
    assert isinstance(page, kind), f"on {type(page).__name__}, expected {kind.__name__}"
    return page


def sign_in(flow: KioskFlow, pin: str = PIN) -> None:
    emit(on(flow, LockPage).unlock_requested)
    emit(on(flow, PinPage).submitted, "admin", pin)


def test_the_first_page_is_the_lock_and_a_pin_opens_the_staff_home(flow: KioskFlow) -> None:
    assert flow.db is not None and flow.staff is None and not flow.window.isVisible()
    sign_in(flow, "000000")
    assert "wrong" in on(flow, PinPage).error.text().lower() and flow.staff is None
    emit(on(flow, PinPage).submitted, "admin", PIN)
    on(flow, StaffHomePage)
    assert flow.staff is not None and flow.staff.username == "admin"
    assert flow.window.stack.count() == 1  # every other page is gone


def test_picker_hand_over_and_items(flow: KioskFlow) -> None:
    sign_in(flow)
    emit(on(flow, StaffHomePage).start_visit_requested)
    picker = on(flow, VisitPickerPage)
    emit(picker.hand_over_requested, SUBJECT, "M0")
    assert flow.staff is None and flow.patient_mode and flow.session is not None
    emit(on(flow, HandoverPage).started)
    item = on(flow, ItemPage)
    assert item.step.index == 0 and flow.session.position == 0


def test_a_refused_hand_over_is_shown_on_the_asking_page(flow: KioskFlow) -> None:
    sign_in(flow)
    asking = Refusals()
    flow.hand_over("RSP-99-999", "M0", asking)
    assert len(asking.shown) == 1 and flow.session is None
    assert flow.staff is not None and not flow.patient_mode
    on(flow, StaffHomePage)


def test_lock_parks_the_open_session(qtbot: QtBot, flow: KioskFlow) -> None:
    sign_in(flow)
    flow.hand_over(SUBJECT, "M0", Refusals())
    emit(on(flow, HandoverPage).started)
    session = flow.session
    assert session is not None
    with qtbot.waitSignal(flow.locked):
        flow.lock()
    on(flow, LockPage)
    assert flow.session is None and flow.staff is None and not flow.patient_mode
    assert flow.db is not None
    assert storage.subject_sessions(flow.db, SUBJECT)[0].state == "parked"


def test_idle_counts_down_then_locks(qtbot: QtBot, flow: KioskFlow, timer: ManualTimer) -> None:
    sign_in(flow)
    timer.tick(flow.idle.timeout_s - flow.idle.warning_s)
    assert flow.countdown.seconds.text() == str(flow.idle.warning_s)
    with qtbot.waitSignal(flow.locked):
        timer.tick(flow.idle.warning_s)
    on(flow, LockPage)
    assert flow.db is not None and storage.audit_entries(flow.db, action="kiosk.idle_locked")


def test_the_console_comes_from_the_injected_factory(qtbot: QtBot, flow: KioskFlow) -> None:
    sign_in(flow)
    hosts: list[KioskFlow] = []

    def console(host: KioskFlow) -> QWidget:
        hosts.append(host)
        return QWidget()

    flow.console_page_factory = console
    with qtbot.waitSignal(flow.console_requested):
        emit(on(flow, StaffHomePage).console_requested)
    assert hosts == [flow]


def test_refused_closes_are_audited_and_quit_closes_the_database(flow: KioskFlow) -> None:
    assert not flow.window.close()
    assert flow.db is not None
    db = flow.db
    (refused,) = storage.audit_entries(db, action="kiosk.close_intercepted")
    assert refused.payload["via"] == "window"
    sign_in(flow)
    emit(on(flow, StaffHomePage).quit_requested)
    assert flow.db is None


def test_without_a_file_the_flow_starts_with_the_set_up(
    qtbot: QtBot, tmp_path: Path, timer: ManualTimer
) -> None:
    window = KioskWindow("RESPINE")
    qtbot.addWidget(window)
    flow = KioskFlow(window, tmp_path / "new.db", idle_timer=timer)
    try:
        page = on(flow, SetupPage)
        emit(page.submitted, "01", "admin", "731592")
        on(flow, StaffHomePage)
        assert flow.db is not None and flow.staff is not None
    finally:
        flow.release()
