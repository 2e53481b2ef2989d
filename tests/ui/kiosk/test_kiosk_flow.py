"""The kiosk window end to end on a real database file: staff, patient, idle, lock, resume."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from respine_desktop import storage
from respine_desktop.session import Phase
from tests.support.kiosk import SUBJECT, Kiosk, hold
from ui.kiosk.item_page import ItemPage
from ui.kiosk.patient_pages import ReviewPage, ThanksPage
from ui.kiosk.staff_pages import LockPage, PinPage, StaffHomePage
from ui.widgets.choice_list import ChoiceList
from ui.widgets.hold_button import HoldButton
from ui.widgets.units import px_per_mm
from ui.widgets.vas_slider import END_MM, VasSlider


def answers(kiosk: Kiosk) -> dict[str, storage.Answer]:
    flow = kiosk.flow
    assert flow.db is not None
    (session,) = storage.subject_sessions(flow.db, SUBJECT)
    return storage.current_answers(flow.db, session.id)


def unnamed_controls(page: QWidget) -> list[str]:
    """Every control of `page` that a screen reader could not name."""
    missing = []
    for widget in page.findChildren(QWidget):
        if not widget.isVisibleTo(page):
            continue
        if isinstance(widget, QAbstractButton | QLineEdit | VasSlider | ChoiceList) and not (
            widget.accessibleName() or (isinstance(widget, QAbstractButton) and widget.text())
        ):
            missing.append(f"{type(widget).__name__} {widget.objectName()}")
    return missing


def staff_button_of(page: QWidget) -> HoldButton:
    (button,) = [b for b in page.findChildren(HoldButton) if b.text() == "Staff"]
    return button


def visible_texts(window: QWidget) -> str:
    return " ".join(
        w.text() for w in window.findChildren(QLabel) + window.findChildren(QAbstractButton)
    )


def test_a_full_visit_end_to_end(kiosk: Kiosk) -> None:
    kiosk.unlock()
    assert not unnamed_controls(kiosk.page())
    kiosk.hand_over()
    seen = 0
    while isinstance(kiosk.page(), ItemPage):
        page = kiosk.item()
        seen += 1
        assert not unnamed_controls(page)
        assert page.progress_text.text() == f"Question {seen} of 47"
        if page.step.item.id == "odi_08":
            assert page.skip_button.isVisibleTo(page)
            QTest.mouseClick(page.skip_button, Qt.MouseButton.LeftButton)
            assert page.skip_panel.isVisibleTo(page)
            QTest.mouseClick(page.skip_yes, Qt.MouseButton.LeftButton)
            assert page.next_button.isEnabled()
        else:
            assert not page.skip_button.isVisibleTo(page)
            kiosk.answer(choice=seen % 3)
        kiosk.next()
    assert seen == 47
    review = kiosk.on(ReviewPage)
    assert not unnamed_controls(review)
    stored = answers(kiosk)
    assert len(stored) == 47
    assert stored["vas_pain"].value == 50.0 and stored["vas_pain"].vas_line_mm is not None
    assert stored["odi_08"].status == "skipped"
    # Change one answer from the review, come back to the review.
    QTest.mouseClick(review.change_buttons[1], Qt.MouseButton.LeftButton)
    page = kiosk.item()
    assert page.step.item.id == "odi_01" and page.choices is not None
    assert page.choices.value() == stored["odi_01"].value
    QTest.mouseClick(page.choices.buttons[5], Qt.MouseButton.LeftButton)
    kiosk.next()
    review = kiosk.on(ReviewPage)
    assert answers(kiosk)["odi_01"].value == 5
    QTest.mouseClick(review.submit_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(review.confirm_yes, Qt.MouseButton.LeftButton)
    thanks = kiosk.on(ThanksPage)
    assert "return the tablet" in visible_texts(thanks)
    db = kiosk.flow.db
    (session,) = storage.subject_sessions(db, SUBJECT)
    assert session.state == "submitted"
    assert {s.instrument_id for s in storage.session_scores(db, session.id)} >= {"vas", "odi"}
    QTest.mouseClick(thanks.done_button, Qt.MouseButton.LeftButton)
    kiosk.on(LockPage)


@pytest.mark.req("VAS-02")
def test_vas_taps_at_0_50_100_percent_and_both_ends_are_stored_exactly(kiosk: Kiosk) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    vas = kiosk.item().vas
    assert vas is not None
    y = vas.line_y()
    taps = [
        (vas.point_for(0.0), 0.0),
        (vas.point_for(0.5), 50.0),
        (vas.point_for(1.0), 100.0),
        # Just past each end, within the capture zone (END_MM): the end's value.
        (vas.point_for(0.0) - QPoint(round(px_per_mm(vas) * (END_MM - 1)), 0), 0.0),
        (vas.point_for(1.0) + QPoint(round(px_per_mm(vas) * (END_MM - 1)), 0), 100.0),
    ]
    assert all(point.y() == y for point, _ in taps)  # on the line itself
    for point, expected in taps:
        kiosk.tap_vas(point)
        assert answers(kiosk)["vas_pain"].value == expected
    flow = kiosk.flow
    (session,) = storage.subject_sessions(flow.db, SUBJECT)
    history = storage.answer_history(flow.db, session.id, "vas_pain")
    assert [a.value for a in history] == [0.0, 50.0, 100.0, 0.0, 100.0]
    assert {a.vas_line_mm for a in history} == {vas.rendered_length_mm()}


@pytest.mark.req("VAS-03")
def test_the_vas_shows_no_marker_and_blocks_next_before_a_touch(kiosk: Kiosk) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    page = kiosk.item()
    assert page.vas is not None and page.vas.value() is None
    image = page.vas.grab().toImage()
    marker = page.vas.markerColor
    assert not any(
        image.pixelColor(x, y) == marker
        for x in range(0, image.width(), 2)
        for y in range(0, image.height(), 2)
    )
    assert not page.next_button.isEnabled()
    QTest.mouseClick(page.next_button, Qt.MouseButton.LeftButton)
    QTest.keyClick(page.next_button, Qt.Key.Key_Space)
    assert kiosk.item().step.item.id == "vas_pain" and answers(kiosk) == {}
    kiosk.tap_vas(page.vas.point_for(0.25))
    assert page.next_button.isEnabled()
    kiosk.next()
    assert kiosk.item().step.item.id == "odi_01"


@pytest.mark.req("ITEM-02")
def test_choices_block_next_until_chosen_and_never_advance_by_themselves(kiosk: Kiosk) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    kiosk.answer()
    kiosk.next()
    page = kiosk.item()
    assert not page.next_button.isEnabled()
    kiosk.answer(choice=2)
    assert kiosk.item().step.item.id == "odi_01" and page.next_button.isEnabled()


@pytest.mark.req("KIO-03")
def test_idle_timeout_counts_down_parks_and_locks(kiosk: Kiosk) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    kiosk.answer_until("odi_04")
    flow = kiosk.flow
    kiosk.timer.tick(69)
    assert not flow.countdown.isVisible()
    kiosk.timer.tick(1)
    assert flow.countdown.isVisible() and flow.countdown.seconds.text() == "20"
    kiosk.timer.tick(5)
    assert flow.countdown.seconds.text() == "15"
    kiosk.timer.tick(15)
    kiosk.on(LockPage)
    assert not flow.countdown.isVisible() and flow.session is None and flow.staff is None
    (session,) = storage.subject_sessions(flow.db, SUBJECT)
    assert session.state == "parked" and session.parked_by is None
    assert storage.audit_entries(flow.db, action="kiosk.idle_locked")


def test_a_touch_during_the_countdown_keeps_the_patient_going(kiosk: Kiosk) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    page = kiosk.item()
    kiosk.timer.tick(80)
    assert kiosk.flow.countdown.isVisible()
    QTest.mouseClick(kiosk.flow.countdown.stay_button, Qt.MouseButton.LeftButton)
    assert not kiosk.flow.countdown.isVisible()
    kiosk.timer.tick(80)
    assert kiosk.item() is page and page.step.item.id == "vas_pain"


@pytest.mark.req("KIO-03")
def test_nothing_of_the_previous_patient_is_visible_after_a_lock(
    kiosk: Kiosk, qtbot: QtBot
) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    kiosk.answer_until("odi_03")
    question = kiosk.item().question.text()
    kiosk.timer.tick(90)
    kiosk.on(LockPage)
    window = kiosk.window
    assert window.stack.count() == 1
    for kind in (ItemPage, ReviewPage, VasSlider, ChoiceList):
        assert window.findChildren(kind) == []
    texts = visible_texts(window)
    assert SUBJECT not in texts and question not in texts and "Question" not in texts
    # The next person unlocking sees a fresh staff home, not the previous patient.
    kiosk.unlock()
    assert SUBJECT not in visible_texts(window)


def test_a_parked_visit_resumes_at_the_same_item_with_its_answers(kiosk: Kiosk) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    kiosk.answer_until("odi_04")
    kiosk.timer.tick(90)
    kiosk.unlock()
    kiosk.hand_over()
    page = kiosk.item()
    assert page.step.item.id == "odi_04" and not page.next_button.isEnabled()
    QTest.mouseClick(page.back_button, Qt.MouseButton.LeftButton)
    previous = kiosk.item()
    assert previous.step.item.id == "odi_03"
    assert previous.choices is not None and previous.choices.value() == 1


@pytest.mark.req("KIO-01")
def test_leaving_patient_mode_needs_a_staff_pin(kiosk: Kiosk) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    kiosk.answer_until("odi_02")
    page = kiosk.item()
    staff_button = staff_button_of(page)
    assert "PIN" in staff_button.accessibleName()
    hold(staff_button)
    kiosk.sign_in(pin="000000")
    pin_page = kiosk.on(PinPage)
    assert pin_page.error.isVisibleTo(pin_page) and kiosk.flow.session is not None
    QTest.mouseClick(pin_page.cancel_button, Qt.MouseButton.LeftButton)
    assert kiosk.item() is page
    hold(staff_button)
    kiosk.sign_in()
    home = kiosk.on(StaffHomePage)
    assert "question 3 of 47" in visible_texts(home)
    QTest.mouseClick(home.buttons["return"], Qt.MouseButton.LeftButton)
    assert kiosk.item().step.item.id == "odi_02"
    hold(staff_button_of(kiosk.item()))
    kiosk.sign_in()
    QTest.mouseClick(kiosk.on(StaffHomePage).buttons["park"], Qt.MouseButton.LeftButton)
    flow = kiosk.flow
    (session,) = storage.subject_sessions(flow.db, SUBJECT)
    assert session.state == "parked" and session.parked_by is not None
    assert flow.session is None and "start" in kiosk.on(StaffHomePage).buttons


@pytest.mark.req("KIO-02")
def test_escape_alt_f4_and_close_are_refused_and_audited(kiosk: Kiosk) -> None:
    window, flow = kiosk.window, kiosk.flow
    kiosk.unlock()
    kiosk.hand_over()
    page = kiosk.item()
    # Keys as the platform delivers them: to the native window, then to the focused widget.
    native = window.windowHandle()
    QTest.keyClick(native, Qt.Key.Key_Escape)
    QTest.keyClick(native, Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
    assert not window.close()
    assert window.isVisible() and kiosk.item() is page
    db = flow.db
    (escape,) = storage.audit_entries(db, action="kiosk.escape_intercepted")
    closes = storage.audit_entries(db, action="kiosk.close_intercepted")
    assert sorted(e.payload["via"] for e in closes) == ["alt+f4", "window"]
    assert escape.payload["patient_mode"] is True and escape.subject_id is not None


@pytest.mark.req("KIO-01")
def test_staff_quit_needs_the_pin_and_is_audited(kiosk: Kiosk) -> None:
    window, flow = kiosk.window, kiosk.flow
    assert not window.close()
    kiosk.unlock()
    db = flow.db
    home = kiosk.on(StaffHomePage)
    QTest.mouseClick(home.buttons["quit"], Qt.MouseButton.LeftButton)
    # Quitting asks first; Cancel (the primary-looking, focused button) keeps the kiosk open.
    assert home.quit_panel.isVisible() and home.quit_no.hasFocus()
    assert home.quit_no.property("role") == "primary" and window.isVisible()
    QTest.mouseClick(home.quit_no, Qt.MouseButton.LeftButton)
    assert not home.quit_panel.isVisible() and window.isVisible() and flow.db is not None
    QTest.mouseClick(home.buttons["quit"], Qt.MouseButton.LeftButton)
    QTest.mouseClick(home.quit_yes, Qt.MouseButton.LeftButton)
    assert not window.isVisible() and flow.db is None
    with storage.open_database(kiosk.db_path) as reopened:
        assert storage.audit_entries(reopened, action="kiosk.quit")
    assert db is not None


@pytest.mark.req("ITEM-04")
def test_keyboard_alone_answers_an_item_and_moves_on(kiosk: Kiosk, qtbot: QtBot) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    vas = kiosk.item().vas
    assert vas is not None
    vas.setFocus(Qt.FocusReason.TabFocusReason)
    QTest.keyClick(vas, Qt.Key.Key_Home)
    for _ in range(3):
        QTest.keyClick(vas, Qt.Key.Key_Right)
    assert answers(kiosk)["vas_pain"].value == 3.0
    page = kiosk.item()
    page.next_button.setFocus()
    QTest.keyClick(page.next_button, Qt.Key.Key_Space)
    page = kiosk.item()
    assert page.step.item.id == "odi_01" and page.choices is not None
    first = page.choices.buttons[0]
    first.setFocus()
    QTest.keyClick(first, Qt.Key.Key_Down)
    QTest.keyClick(page.choices.buttons[1], Qt.Key.Key_Space)
    assert answers(kiosk)["odi_01"].value == 1
    assert page.next_button.isEnabled()


def test_the_thank_you_screen_locks_by_itself_when_left(kiosk: Kiosk) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    flow = kiosk.flow
    while isinstance(kiosk.page(), ItemPage):
        page = kiosk.item()
        if page.skip_button.isVisibleTo(page):
            QTest.mouseClick(page.skip_button, Qt.MouseButton.LeftButton)
            QTest.mouseClick(page.skip_yes, Qt.MouseButton.LeftButton)
        else:
            kiosk.answer()
        kiosk.next()
    review = kiosk.on(ReviewPage)
    QTest.mouseClick(review.submit_button, Qt.MouseButton.LeftButton)
    QTest.mouseClick(review.confirm_yes, Qt.MouseButton.LeftButton)
    kiosk.on(ThanksPage)
    assert flow.session is None
    kiosk.timer.tick(90)
    kiosk.on(LockPage)
    assert flow.session is None
    assert storage.subject_sessions(flow.db, SUBJECT)[0].state == "submitted"
    assert Phase.SUBMITTED.value == "submitted"
