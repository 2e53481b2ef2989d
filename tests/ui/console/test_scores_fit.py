"""The score table on a portrait tablet and a landscape screen: no visit heading or date cut,
no row label cut, and on a portrait screen every row shown (the responder's last) without a
scroll; on a landscape screen the labels stay on one line."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from respine_desktop.storage import StudyDb
from tests.support.console import COMPLETE, COORDINATOR, INVESTIGATOR, complete_visit, staff_of
from ui.console.page import ConsolePage
from ui.console.scores import ScoreTable
from ui.style import apply_style

# The style's room around a cell's text (Fusion: a 3 px margin a side) and a section's label
# (console.qss: 6 px of padding a side), and a grid line.
CELL_ROOM = 2 * 3 + 1
SECTION_ROOM = 2 * 6 + 1


@pytest.fixture
def styled() -> Iterator[Callable[[bool], None]]:
    """Set the application's style (large text or not); the usual one back after."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    yield lambda large_text: apply_style(app, large_text=large_text)
    apply_style(app)


def _table(qtbot: QtBot, db: StudyDb, lang: str, size: tuple[int, int]) -> ScoreTable:
    # every follow-up's status with a date: the widest cells a column can have
    complete_visit(db, COMPLETE, "M1", staff_of(db, COORDINATOR), vas=30.0)
    page = ConsolePage(db, staff_of(db, INVESTIGATOR), lang)
    qtbot.addWidget(page)
    page.resize(*size)
    page.show()
    qtbot.waitUntil(page.isVisible)
    view = page.open_subject(COMPLETE)
    table = view.scores
    qtbot.waitUntil(table.isVisible)
    QApplication.processEvents()
    return table


def _cut_texts(table: ScoreTable) -> list[str]:
    """Every heading line, cell line and row label that its section or cell is too small for."""
    cut = []
    cells = table.fontMetrics()
    heads = QFontMetrics(table.horizontalHeader().font())
    for c in range(table.columnCount()):
        room = table.columnWidth(c)
        head = table.horizontalHeaderItem(c)
        assert head is not None
        for line in head.text().split("\n"):
            if heads.horizontalAdvance(line) + SECTION_ROOM > room:
                cut.append(f"heading {line!r} in {room} px")
        for r in range(table.rowCount()):
            item = table.item(r, c)
            for line in (item.text() if item is not None else "").split("\n"):
                if cells.horizontalAdvance(line) + CELL_ROOM > room:
                    cut.append(f"cell {line!r} in {room} px")
    labels = QFontMetrics(table.verticalHeader().font())
    width = table.verticalHeader().width() - SECTION_ROOM
    for r in range(table.rowCount()):
        label = table.verticalHeaderItem(r)
        assert label is not None
        wrapped = labels.boundingRect(
            QRect(0, 0, width, 10_000), int(Qt.TextFlag.TextWordWrap), label.text()
        )
        if wrapped.width() > width or wrapped.height() > table.rowHeight(r):
            cut.append(f"label {label.text()!r} in {width} x {table.rowHeight(r)} px")
    return cut


@pytest.mark.parametrize(("lang", "large_text"), [("en", False), ("fr", True)])
def test_a_portrait_tablet_shows_every_heading_date_and_row_whole(
    qtbot: QtBot, db: StudyDb, styled: Callable[[bool], None], lang: str, large_text: bool
) -> None:
    styled(large_text)
    table = _table(qtbot, db, lang, (800, 1280))
    assert _cut_texts(table) == []
    # the last row, the responder's, is on screen without a scroll
    last = table.model().index(table.rowCount() - 1, 0)
    assert table.viewport().rect().contains(table.visualRect(last))
    assert not table.horizontalScrollBar().isVisible()


def test_a_landscape_screen_keeps_the_row_labels_on_one_line(
    qtbot: QtBot, db: StudyDb, styled: Callable[[bool], None]
) -> None:
    styled(True)  # the longest labels (French) in the largest type
    table = _table(qtbot, db, "fr", (1280, 800))
    assert _cut_texts(table) == []
    labels = QFontMetrics(table.verticalHeader().font())
    widest = max(labels.horizontalAdvance(_text(table, r)) for r in range(table.rowCount()))
    assert table.verticalHeader().width() >= widest + SECTION_ROOM
    assert not table.horizontalScrollBar().isVisible()


def _text(table: ScoreTable, row: int) -> str:
    item = table.verticalHeaderItem(row)
    assert item is not None
    return item.text()
