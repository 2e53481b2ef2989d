"""A cell's tooltip is reachable by touch: tapping the cell shows it on the line under the table;
shown as written, never as markup."""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QHelpEvent, QStandardItem, QStandardItemModel, QTextDocument
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QApplication,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from ui.widgets.tap_details import details_line


def test_a_tap_on_a_cell_shows_its_tooltip_on_the_line(qtbot: QtBot) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    column = QVBoxLayout(host)
    table = QTableWidget(2, 1)
    explained = QTableWidgetItem("✓")
    explained.setToolTip("VAS -20 mm (MCID 15), ODI -12 points (MCID 10)")
    table.setItem(0, 0, explained)
    table.setItem(1, 0, QTableWidgetItem("plain"))
    column.addWidget(table)
    line = details_line(table)
    column.addWidget(line)
    host.resize(400, 300)
    host.show()
    qtbot.waitUntil(table.isVisible)
    assert not line.isVisible()
    QTest.mouseClick(
        table.viewport(), Qt.MouseButton.LeftButton, pos=table.visualItemRect(explained).center()
    )
    qtbot.waitUntil(line.isVisible)
    assert line.text() == explained.toolTip()
    QTest.mouseClick(
        table.viewport(),
        Qt.MouseButton.LeftButton,
        pos=table.visualItemRect(table.item(1, 0)).center(),
    )
    qtbot.waitUntil(lambda: not line.isVisible())


def test_a_tooltip_is_shown_as_written_never_as_markup(qtbot: QtBot) -> None:
    # A reason staff typed, an audit entry, a bundle's value: "<b>" is three characters.
    stored = "<b>bold</b> <img src='x.png'> & a <a href='http://x'>link</a>\nsecond line"
    table = QTableWidget(1, 1)
    qtbot.addWidget(table)
    item = QTableWidgetItem("cell")
    item.setToolTip(stored)
    table.setItem(0, 0, item)
    line = details_line(table)
    table.resize(300, 200)
    table.show()
    qtbot.waitExposed(table)
    where = table.visualItemRect(item).center()
    event = QHelpEvent(QEvent.Type.ToolTip, where, table.viewport().mapToGlobal(where))
    QApplication.sendEvent(table.viewport(), event)
    qtbot.waitUntil(QToolTip.isVisible)
    shown = QTextDocument()
    shown.setHtml(QToolTip.text())
    assert shown.toPlainText() == stored
    QToolTip.hideText()
    table.setCurrentCell(0, 0)
    assert line.text() == stored and line.textFormat() == Qt.TextFormat.PlainText


def test_the_line_follows_a_model_made_anew(qtbot: QtBot) -> None:
    # a filter or a refresh resets the model and moves no current cell (the worklist's)
    model = QStandardItemModel(1, 1)
    explained = QStandardItem("✓")
    explained.setToolTip("Withdrawn on 2026-11-02: moved abroad")
    model.setItem(0, 0, explained)
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(model)
    line = details_line(table)
    table.setCurrentIndex(model.index(0, 0))
    assert line.text() == "Withdrawn on 2026-11-02: moved abroad" and not line.isHidden()
    model.clear()
    assert line.text() == "" and line.isHidden()
