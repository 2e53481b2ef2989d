"""Layout helpers of the console: tab content that scrolls, and forms with centred labels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QScrollArea, QWidget

from ui.widgets.page import label
from ui.widgets.touch_scroll import touch_scroll

TAB_MARGIN = 8


def scrolling(widget: QWidget) -> QScrollArea:
    """`widget` in a vertical scroll area, so a tall form never makes the window taller."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(widget)
    # A tab holding a tall form scrolls by design (the fit check of the screenshots allows it).
    return touch_scroll(area)


class FormGrid(QGridLayout):
    """Labels in the first column, level with the middle of their fields in the second."""

    def __init__(self) -> None:
        super().__init__()
        self.setColumnStretch(1, 1)
        self._rows = 0

    def add_row(self, text: str, field: QWidget) -> QLabel:
        name = label(text, "hint", wrap=False)
        name.setBuddy(field)
        self.addWidget(
            name, self._rows, 0, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
        )
        self.addWidget(field, self._rows, 1)
        self._rows += 1
        return name
