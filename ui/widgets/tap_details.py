"""What a table cell's tooltip says, reachable by touch: a tap on the cell shows it on a line.

A finger cannot hover, so no information may live in a tooltip alone: the full text of an elided
cell, why a responder is one, why a visit was missed. `details_line(view)` returns a hint line
to put under `view`; tapping (or moving to) a cell shows that cell's tooltip there.
"""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QLabel

from ui.widgets.page import label


def details_line(view: QAbstractItemView) -> QLabel:
    """A hidden hint line showing the tooltip of `view`'s current cell (its model must be set)."""
    line = label("", "hint")
    line.setObjectName("cellDetails")
    line.hide()

    def show(current: QModelIndex | QPersistentModelIndex, *_: object) -> None:
        text = current.data(Qt.ItemDataRole.ToolTipRole) if current.isValid() else None
        line.setText(str(text or ""))
        line.setVisible(bool(text))

    view.selectionModel().currentChanged.connect(show)
    return line
