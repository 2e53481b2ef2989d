"""What a table cell's tooltip says, reachable by touch: a tap on the cell shows it on a line.

A finger cannot hover, so no information may live in a tooltip alone: the full text of an elided
cell, why a responder is one, why a visit was missed. `details_line(view)` returns a hint line
to put under `view`; tapping (or moving to) a cell shows that cell's tooltip there.

The cells' tooltips are texts of the data (a reason staff typed, an audit entry, a bundle's
values): shown as written, never as rich text. Qt would take a tooltip that looks like markup
("<b>...", "<img src=...>") for HTML and render it, hiding or restyling what was stored; the
view's `PlainToolTips` delegate shows each one as plain text, and the line is a plain label.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QLabel,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
)
from shiboken6 import isValid

from ui.widgets.page import label, plain_tip


class PlainToolTips(QStyledItemDelegate):
    """A delegate that draws cells as the default one does and shows their tooltips as plain
    text (their characters as stored: ``<`` is a ``<``)."""

    def helpEvent(
        self,
        event: QHelpEvent,
        view: QAbstractItemView,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> bool:
        if event.type() != QEvent.Type.ToolTip:
            return super().helpEvent(event, view, option, index)
        text = index.data(Qt.ItemDataRole.ToolTipRole) if index.isValid() else None
        if not text:
            QToolTip.hideText()
            event.ignore()
            return False
        QToolTip.showText(event.globalPos(), plain_tip(str(text)), view, option.rect)
        return True


def details_line(view: QAbstractItemView) -> QLabel:
    """A hidden hint line showing the tooltip of `view`'s current cell (its model must be set);
    `view`'s tooltips shown as plain text (`PlainToolTips`)."""
    view.setItemDelegate(PlainToolTips(view))
    line = label("", "hint")
    line.setObjectName("cellDetails")
    line.hide()

    def show(current: QModelIndex | QPersistentModelIndex, *_: object) -> None:
        text = current.data(Qt.ItemDataRole.ToolTipRole) if current.isValid() else None
        line.setText(str(text or ""))
        line.setVisible(bool(text))

    view.selectionModel().currentChanged.connect(show)

    # a model made anew (a filter, a refresh) moves no current cell: the line follows all the same
    # (not while the view is being deleted: a table's own model is reset as it goes)
    def follow(*_: object) -> None:
        if isValid(view) and isValid(line):
            show(view.currentIndex())

    view.model().modelReset.connect(follow)
    view.model().layoutChanged.connect(follow)
    return line
