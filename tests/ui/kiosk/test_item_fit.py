"""The fit rule of the item pages: question, every option, Back and Next visible, never hidden.

Every item page of a visit is checked with the screenshots' fit check (`tools.screenshots.fit`)
at the supported screens (1920x1200 at 150 DPI is laid out as 1229x768 logical pixels, as the
system scales it) in both text sizes; a window too small for the type floor falls back to a
scrolling page with a cue that blocks Next until the last option was seen.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from respine_desktop.i18n import t
from respine_desktop.instruments import load_instrument
from tests.support.kiosk import Kiosk, tap
from tests.ui.kiosk.test_kiosk_flow import staff_button_of
from tools.screenshots.fit import fit_problems
from ui.kiosk.item_fit import FLOOR_PT
from ui.kiosk.item_page import ItemPage
from ui.kiosk.titles import instrument_title
from ui.style import apply_style

SCREENS = {
    "1280x800": (1280, 800),
    "1024x768": (1024, 768),
    "800x1280 portrait": (800, 1280),
    "1920x1200 at 150 DPI": (1229, 768),
}


@pytest.fixture(params=[False, True], ids=["normal text", "large text"])
def large_text(request: pytest.FixtureRequest) -> Iterator[bool]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_style(app, large_text=request.param)
    yield request.param
    apply_style(app)


def item_problems(kiosk: Kiosk, page: ItemPage) -> list[str]:
    problems = fit_problems(kiosk.window)
    if page.fitter.scrolling:
        problems.append("fell back to scrolling")
    for widget in (page.question, page.next_button, page.back_button):
        if not widget.isVisible():
            problems.append(f"{widget.accessibleName() or widget.text()} hidden")
    return [f"{page.step.item.id}: {p}" for p in problems]


@pytest.mark.req("ITEM-01")
@pytest.mark.parametrize("screen", SCREENS)
def test_every_item_page_fits_without_scrolling(
    kiosk: Kiosk, qtbot: QtBot, screen: str, large_text: bool
) -> None:
    kiosk.window.resize(*SCREENS[screen])
    qtbot.waitUntil(lambda: kiosk.window.size().toTuple() == SCREENS[screen])
    kiosk.unlock()
    kiosk.hand_over()
    problems: list[str] = []
    seen = 0
    while isinstance(kiosk.page(), ItemPage):
        page = kiosk.item()
        seen += 1
        problems += item_problems(kiosk, page)
        if page.choices is not None and page.choices.isVisible():
            assert all(b.isVisible() for b in page.choices.buttons)
        if page.step.item.optional:
            tap(page.skip_button)
            problems += item_problems(kiosk, page)  # with the skip confirmation open
            tap(page.skip_no)
        # The most severe (last) option: the one that large text used to hide.
        kiosk.answer(choice=9)
        problems += item_problems(kiosk, page)
        kiosk.next()
    assert seen == 47
    assert problems == []


def test_a_too_small_window_scrolls_with_a_cue_and_next_waits_until_all_were_seen(
    kiosk: Kiosk, qtbot: QtBot
) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_style(app, large_text=True)
    try:
        kiosk.unlock()
        kiosk.hand_over()
        kiosk.answer()
        kiosk.next()
        page = kiosk.item()
        assert page.step.item.id == "odi_01"
        # (Smaller than any supported screen; the staff pages before need more room.)
        kiosk.window.resize(640, 420)
        qtbot.waitUntil(lambda: kiosk.window.size().toTuple() == (640, 420))
        qtbot.waitUntil(lambda: page.more_cue.isVisible())
        assert page.fitter.scrolling and not page.fitter.seen_all
        # Type shrank to the floor (the normal-text sizes), never below.
        assert page.fitter.point_size("question") == FLOOR_PT["question"]
        assert page.question.font().pointSizeF() >= FLOOR_PT["question"]
        assert page.choices is not None
        label = page.choices.buttons[0].findChild(type(page.question), "choiceText")
        assert label is not None and label.font().pointSizeF() >= FLOOR_PT["choice"]
        # The first option answered: Next still waits, the options below were not seen yet.
        assert page.scroll_area is not None
        bar = page.scroll_area.verticalScrollBar()
        first = page.choices.buttons[0]
        page.scroll_area.ensureWidgetVisible(first, 0, 0)
        qtbot.waitUntil(lambda: first.visibleRegion().boundingRect().height() == first.height())
        assert bar.value() < bar.maximum()
        kiosk.answer(choice=0)
        qtbot.waitUntil(lambda: page.choices is not None and page.choices.value() == 0)
        assert not page.next_button.isEnabled() and page.more_cue.isVisible()
        bar.setValue(bar.maximum())
        qtbot.waitUntil(page.next_button.isEnabled)
        assert not page.more_cue.isVisible()
    finally:
        apply_style(app)


def test_choosing_an_option_changes_the_size_of_no_option(kiosk: Kiosk, qtbot: QtBot) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_style(app, large_text=True)
    try:
        kiosk.window.resize(1024, 768)
        kiosk.unlock()
        kiosk.hand_over()
        kiosk.answer_until("odi_01")
        page = kiosk.item()
        assert page.choices is not None
        buttons = page.choices.buttons

        def sizes() -> list[tuple[int, int, int]]:
            return [(b.width(), b.heightForWidth(b.width()), b.font().weight()) for b in buttons]

        before = [b.geometry() for b in buttons]
        needed = sizes()
        tap(buttons[2])
        qtbot.waitUntil(lambda: buttons[2].property("selected") == "true")
        assert sizes() == needed
        label = buttons[2].findChild(type(page.question), "choiceText")
        other = buttons[3].findChild(type(page.question), "choiceText")
        assert label is not None and other is not None
        assert label.font().weight() == other.font().weight()
        assert [b.geometry() for b in buttons] == before
    finally:
        apply_style(app)


def test_the_skip_confirmation_keeps_the_progress_and_makes_answering_the_primary(
    kiosk: Kiosk,
) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    kiosk.answer_until("odi_08")
    page = kiosk.item()
    tap(page.skip_button)
    assert page.skip_panel.isVisible()
    assert page.skip_no.property("role") == "primary"
    assert page.skip_yes.property("role") != "primary"
    assert page.skip_no.hasFocus()
    assert page.scroll_area is not None
    assert not page.scroll_area.isAncestorOf(page.progress_text)
    assert page.progress_text.isVisible() and page.progress_bar.isVisible()
    assert fit_problems(kiosk.window) == []
    tap(page.skip_no)
    assert not page.skip_panel.isVisible() and page.choices is not None
    assert page.choices.value() is None


def test_patients_see_questionnaire_names_without_abbreviations(kiosk: Kiosk) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    assert kiosk.item().instrument.text() == "Your back pain today"
    kiosk.answer_until("odi_01")
    assert kiosk.item().instrument.text() == "Your back pain and daily activities"
    kiosk.answer_until("sf36_01")
    assert kiosk.item().instrument.text() == "Your health"
    for lang in ("en", "fr"):
        for instrument_id in ("vas", "odi", "sf36"):
            instrument = load_instrument(instrument_id)
            name = instrument_title(lang, instrument)
            assert name == t(lang, f"kiosk.instrument.{instrument_id}")
            assert not {"VAS", "ODI", "SF-36", "SF36"} & set(name.upper().split())


def test_the_staff_button_never_takes_the_focus(kiosk: Kiosk) -> None:
    kiosk.unlock()
    kiosk.hand_over()
    kiosk.answer()
    page = kiosk.item()
    staff = staff_button_of(page)
    assert staff.focusPolicy() == Qt.FocusPolicy.NoFocus
    for _ in range(8):
        QTest.keyClick(kiosk.window, Qt.Key.Key_Tab)
        assert not staff.hasFocus()
