"""Drives the kiosk through its widgets as staff and patients do (tests and the crash child)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from respine_desktop import storage
from ui.kiosk.flow import KioskFlow
from ui.kiosk.item_page import ItemPage
from ui.kiosk.patient_pages import HandoverPage
from ui.kiosk.settings import KioskSettings
from ui.kiosk.staff_pages import LockPage, PinPage, StaffHomePage
from ui.kiosk.visit_picker import VisitPickerPage
from ui.kiosk.window import KioskWindow
from ui.widgets.hold_button import HoldButton
from ui.widgets.signals import emit

W = TypeVar("W", bound=QWidget)


def make_database(path: Path) -> Path:
    """A real database file with its admin (PIN 860427) and one subject due for baseline."""
    with storage.create_database(path, admin_pin=PIN) as db:
        admin = storage.authenticate(db, "admin", PIN)
        storage.register_subject(db, SUBJECT, day0=date.today(), staff=admin)
    return path


def make_kiosk(db_path: Path, settings_path: Path) -> tuple[KioskFlow, ManualTimer]:
    """The kiosk on `db_path` (its window 1280 x 800) with an idle timer fired by hand."""
    timer = ManualTimer()
    flow = KioskFlow(
        KioskWindow("RESPINE"),
        db_path,
        settings=KioskSettings(idle_timeout_s=90),
        settings_path=settings_path,
        idle_timer=timer,
        wait_timer=ManualTimer(),
    )
    flow.window.resize(1280, 800)
    return flow, timer


class ManualTimer(QTimer):
    """A timer that never runs by itself: a test fires `timeout` by hand, one idle second each."""

    def start(self, *args: object) -> None:
        self.running = True

    def stop(self) -> None:
        self.running = False

    def tick(self, seconds: int = 1) -> None:
        for _ in range(seconds):
            emit(self.timeout)


PIN = "860427"
SUBJECT = "RSP-01-007"


def tap(widget: QWidget, point: QPoint | None = None) -> None:
    """A click at `widget`'s centre (or `point`), sent as the platform does: to the native
    window, which finds the widget under the finger (so idle handling sees it too)."""
    assert widget.isVisible() and widget.isEnabled(), f"{widget!r} cannot be tapped"
    top = widget.window()
    at = widget.mapTo(top, point if point is not None else widget.rect().center())
    native = top.windowHandle()
    assert native is not None
    QTest.mouseClick(native, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, at)


def hold(widget: HoldButton, steps: int | None = None) -> None:
    """Hold `widget` down for `steps` of its timer (all it needs by default), then let go;
    the timer is fired by hand, nothing waits."""
    assert widget.isVisible() and widget.isEnabled(), f"{widget!r} cannot be held"
    QTest.mousePress(widget, Qt.MouseButton.LeftButton)
    for _ in range(widget.steps_needed if steps is None else steps):
        emit(widget.timer.timeout)
    if widget.isVisible():
        QTest.mouseRelease(widget, Qt.MouseButton.LeftButton)


@dataclass
class Kiosk:
    """The kiosk under test, with the steps staff and patients take, done through its widgets."""

    flow: KioskFlow
    timer: ManualTimer
    db_path: Path

    @property
    def window(self) -> KioskWindow:
        return self.flow.window

    def page(self) -> QWidget:
        return self.window.page()

    def on(self, kind: type[W]) -> W:
        page = self.window.page()
        assert isinstance(page, kind), f"on {type(page).__name__}, expected {kind.__name__}"
        return page

    def sign_in(self, username: str = "admin", pin: str = PIN) -> None:
        page = self.on(PinPage)
        page.username.setText(username)
        page.pin.setText(pin)
        tap(page.sign_in_button)

    def unlock(self, username: str = "admin", pin: str = PIN) -> None:
        tap(self.on(LockPage).unlock_button)
        self.sign_in(username, pin)
        self.on(StaffHomePage)

    def hand_over(self, subject: str = SUBJECT, visit: str = "M0") -> None:
        """From the staff home: choose the subject and visit, hand over, patient taps Start."""
        tap(self.on(StaffHomePage).buttons["start"])
        picker = self.on(VisitPickerPage)
        QTest.keyClicks(picker.search, subject)
        assert picker.subjects.count() == 1
        picker.subjects.setCurrentRow(0)
        rows = [picker.visits.item(n) for n in range(picker.visits.count())]
        (row,) = [r for r in rows if r.data(Qt.ItemDataRole.UserRole) == visit]
        picker.visits.setCurrentItem(row)
        tap(picker.hand_over_button)
        tap(self.on(HandoverPage).start_button)

    def item(self) -> ItemPage:
        return self.on(ItemPage)

    def tap_vas(self, point: QPoint) -> None:
        vas = self.item().vas
        assert vas is not None
        tap(vas, point)

    def answer(self, choice: int = 1) -> None:
        """Answer the item on screen: the VAS at 50 %, a choice item with its `choice`-th option."""
        page = self.item()
        if page.step.item.type == "vas" and page.vas is not None:
            tap(page.vas, page.vas.point_for(0.5))
        else:
            assert page.choices is not None
            tap(page.choices.buttons[min(choice, len(page.choices.buttons) - 1)])

    def next(self) -> None:
        tap(self.item().next_button)

    def answer_until(self, item_id: str) -> None:
        """Answer and go on until the item `item_id` is on screen."""
        while self.item().step.item.id != item_id:
            self.answer()
            self.next()
