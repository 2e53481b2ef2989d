"""The page's column: at most its width in millimetres, unless a text that cannot wrap needs it."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from ui.widgets.page import Page, button, label, set_button_text

LONG = "Commencer les questionnaires d'un patient, puis les suivants de la liste du jour"


def shown(qtbot: QtBot, page: Page, width: int = 1600) -> Page:
    qtbot.addWidget(page)
    page.resize(width, 700)
    page.show()
    qtbot.waitExposed(page)
    return page


@pytest.mark.parametrize("scroll", [False, True])
def test_a_button_wider_than_the_column_widens_it_and_is_not_cut(
    qtbot: QtBot, scroll: bool
) -> None:
    page = Page("test", max_width_mm=60, scroll=scroll)
    wide = page.add(button(LONG))
    page.add(label("A hint that wraps over as many lines as it needs, " * 4, "hint"))
    shown(qtbot, page)
    assert wide.sizeHint().width() > page.column_width  # (the case this is about)
    qtbot.waitUntil(lambda: wide.width() >= wide.sizeHint().width())
    limit = page.body if page.scroll_area is None else page.scroll_area
    assert limit.maximumWidth() >= wide.sizeHint().width()
    assert page.width() > limit.width()  # still a centred column, not the whole window


@pytest.mark.parametrize("scroll", [False, True])
def test_a_column_whose_texts_wrap_keeps_its_width_in_millimetres(
    qtbot: QtBot, scroll: bool
) -> None:
    page = Page("test", max_width_mm=60, scroll=scroll)
    page.add(button("Short"))
    hint = page.add(label("A hint that wraps over as many lines as it needs, " * 4, "hint"))
    shown(qtbot, page)
    limit = page.body if page.scroll_area is None else page.scroll_area
    assert limit.maximumWidth() == page.column_width
    qtbot.waitUntil(lambda: hint.width() > 0)
    assert hint.width() <= page.column_width


def test_an_ampersand_on_a_button_is_shown_not_taken_for_a_shortcut(qtbot: QtBot) -> None:
    # e.g. a site's translation's language name: Qt would hide a lone "&" and underline the next
    widget = button("Deutsch & Co")
    qtbot.addWidget(widget)
    assert widget.text() == "Deutsch && Co" and widget.accessibleName() == "Deutsch & Co"
    assert widget.shortcut().isEmpty()
    # a text set later (Next, "I am still here" in the patient's language) the same way
    set_button_text(widget, "Weiter & fertig")
    assert widget.text() == "Weiter && fertig" and widget.accessibleName() == "Weiter & fertig"
    assert widget.shortcut().isEmpty()
