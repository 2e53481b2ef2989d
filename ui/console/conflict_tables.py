"""The conflicts tab's tables: read-only touch tables, the versions and the item comparison."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

from respine_desktop.i18n import t
from respine_desktop.instruments import load_instrument
from respine_desktop.storage import Answer, ConflictReview
from ui.console.texts import answer_text, item_name, local_time
from ui.widgets.touch_scroll import touch_scroll

DIFFERS = QColor("#ffe1b3")  # an item whose versions differ (also said in words: "differs")
COUNTS = QColor("#cdebd5")  # the version that counts
ROW_HEIGHT = 34  # a finger's width, for touch screens


def read_only(table: QTableWidget, name: str, headers: Sequence[str]) -> None:
    """Make `table` a read-only, row-selecting table named `name` with `headers`."""
    table.setAccessibleName(name)
    table.setColumnCount(len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setWordWrap(False)
    touch_scroll(table)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)


def cell(text: str, background: QColor | None = None, bold: bool = False) -> QTableWidgetItem:
    """A cell showing `text` (its tooltip too: long texts elide), highlighted or bold."""
    item = QTableWidgetItem(text)
    item.setToolTip(text)
    if background is not None:
        item.setBackground(background)
        item.setForeground(QColor("#1b2631"))  # dark text on the light highlight
    if bold:
        font = QFont(item.font())
        font.setBold(True)
        item.setFont(font)
    return item


def table_text(table: QTableWidget, row: int, column: int) -> str:
    """The text of a cell, "" where there is none."""
    item = table.item(row, column)
    return item.text() if item is not None else ""


def device_names(review: ConflictReview) -> list[str]:
    """Each version's kiosk as staff know it: its label, with the end of its id when two
    versions share the label (every kiosk made with the default label is "kiosk"; ids are
    time-ordered, so their ends tell them apart, not their starts)."""
    labels = [v.device_label or "" for v in review.versions]
    return [
        label_ if label_ and labels.count(label_) == 1 else f"{label_} {v.device_id[-6:]}".strip()
        for label_, v in zip(labels, review.versions, strict=True)
    ]


def chosen_name(review: ConflictReview, names: Sequence[str]) -> str:
    """The name of the version that counts ("" if none of them does)."""
    return next((n for v, n in zip(review.versions, names, strict=True) if v.chosen), "")


def counts_text(lang: str, review: ConflictReview, names: Sequence[str]) -> str:
    """The list's "version that counts" cell: the kiosk, and whether a reviewer chose it."""
    name = chosen_name(review, names)
    if not name:
        return t(lang, "console.conflicts.other")
    if review.reason == "chosen_by_review":
        return t(lang, "console.conflicts.by_review", device=name)
    return name


def instrument_name(lang: str, instrument_id: str) -> str:
    instrument = load_instrument(instrument_id)
    return instrument.short_title.get(lang) or instrument.short_title.get("en") or instrument_id


def fill_versions(table: QTableWidget, lang: str, review: ConflictReview) -> None:
    """One row per version of `review`: kiosk, state, times, who submitted, what counts."""
    names = device_names(review)
    table.setRowCount(len(review.versions))
    for r, v in enumerate(review.versions):
        submitted_by = v.submitted_by or (
            t(lang, "console.conflicts.patient") if v.submitted_at else "\u2013"
        )
        cells = [
            f"{r + 1} · {names[r]}",
            t(lang, f"console.conflicts.state.{v.state}"),
            local_time(v.started_at),
            local_time(v.submitted_at) if v.submitted_at else "\u2013",
            submitted_by,
            str(v.answer_count),
            str(v.differing_items),
            t(lang, "console.conflicts.counts_yes" if v.chosen else "console.conflicts.kept"),
        ]
        colour = COUNTS if v.chosen else None
        for c, text in enumerate(cells):
            table.setItem(r, c, cell(text, colour, bold=v.chosen))
    # As tall as its rows: the room below goes to the items.
    height = table.horizontalHeader().sizeHint().height()
    height += ROW_HEIGHT * len(review.versions) + 2 * table.frameWidth()
    table.setFixedHeight(height)
    table.setCurrentCell(-1, -1)  # a version is picked on purpose, not by default


def fill_items(table: QTableWidget, lang: str, review: ConflictReview) -> None:
    """The item comparison: item, each version's answer side by side, the difference mark."""
    headers = [t(lang, "console.conflicts.item")]
    for n, (v, name) in enumerate(zip(review.versions, device_names(review), strict=True)):
        mark = f" \u2713 {t(lang, 'console.conflicts.counts_yes')}" if v.chosen else ""
        headers.append(f"{n + 1} · {name}{mark}")
    headers.append(t(lang, "console.conflicts.difference"))
    table.clear()
    read_only(table, t(lang, "console.conflicts.items"), headers)
    # Side by side: the versions share the width (long answers elide; the cell's tooltip has
    # the full text), the item names and the difference mark take what they need.
    header = table.horizontalHeader()
    header.setStretchLastSection(False)
    for c in range(1, len(headers) - 1):
        header.setSectionResizeMode(c, QHeaderView.ResizeMode.Stretch)
    table.setTextElideMode(Qt.TextElideMode.ElideRight)
    table.setRowCount(len(review.items))
    for r, row in enumerate(review.items):
        colour = DIFFERS if row.differs else None
        cells = [item_name(lang, review.instrument_id, row.item_id)]
        cells += [_answer(lang, review.instrument_id, row.item_id, a) for a in row.answers]
        cells.append(t(lang, "console.conflicts.differs") if row.differs else "")
        for c, text in enumerate(cells):
            table.setItem(r, c, cell(text, colour, bold=row.differs and c > 0))


def _answer(lang: str, instrument_id: str, item_id: str, answer: Answer | None) -> str:
    if answer is None:
        return t(lang, "console.conflicts.no_answer")
    value = answer.value if isinstance(answer.value, int | float) else None
    return answer_text(lang, instrument_id, item_id, value, answer.status)
