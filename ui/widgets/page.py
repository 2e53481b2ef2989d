"""Small building blocks shared by the pages: labelled text, buttons with a style role, a page.

They avoid PySide's `Qt` namespace where they can: its first use builds every one of its enums
(some 25 ms), and the lock screen, the kiosk's first, is built from these before anything else.
For the same reason the classes only a scrolling page uses (the scroll area, the kinetic
scrolling of `ui.widgets.touch_scroll`) are imported when such a page is built: PySide makes a
class's Python type, enums included, the first time it is imported (some 5 ms for these).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from ui.widgets.units import mm

if TYPE_CHECKING:
    from PySide6.QtGui import QResizeEvent, QShowEvent
    from PySide6.QtWidgets import QBoxLayout, QScrollArea


def label(
    text: str, role: str, parent: QWidget | None = None, *, wrap: bool = True, plain: bool = True
) -> QLabel:
    """A label styled by `role` in kiosk.qss (title, subtitle, question, stem, hint, ...).

    `plain` shows the text exactly as written (never as rich text), for texts from data files;
    a fixed UI text without markup may skip it.
    """
    widget = QLabel(text, parent)
    widget.setProperty("role", role)
    widget.setWordWrap(wrap)
    if plain:
        from PySide6.QtCore import Qt

        widget.setTextFormat(Qt.TextFormat.PlainText)
        widget.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
    return widget


def plain_tip(text: str) -> str:
    """`text` as a widget's tooltip shows it: as written, never as rich text (Qt renders a
    tooltip that looks like markup); "" stays "" (no tooltip)."""
    if not text:
        return ""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import Qt as QtText

    return QtText.convertFromPlainText(text, Qt.WhiteSpaceMode.WhiteSpacePre)


def button(
    text: str, role: str = "", parent: QWidget | None = None, *, name: str = ""
) -> QPushButton:
    """A push button; `role` picks its kiosk.qss style; `name` is its accessible name."""
    # Without a parent, not QPushButton(text, None): resolving that overload wraps QIcon's class
    # (the icon-and-text one), whose Python enums cost some 2 ms before the first screen.
    widget = QPushButton() if parent is None else QPushButton(parent)
    set_button_text(widget, text)
    if role:
        widget.setProperty("role", role)
    if name:
        widget.setAccessibleName(name)  # (push buttons take Tab focus by default)
    widget.setAutoDefault(False)
    widget.setMinimumHeight(mm(9, widget))
    return widget


def set_button_text(widget: QPushButton, text: str) -> None:
    """`text` on a button as written: an "&" shown, never taken for a shortcut's marker (a
    site's translation may hold one); the accessible name the same text."""
    widget.setText(text.replace("&", "&&"))
    widget.setAccessibleName(text)


def restyle(widget: QWidget) -> None:
    """Apply the style sheet again after a dynamic property changed."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)
    widget.update()


def say(status: QLabel, text: str, role: str) -> None:
    """Show `text` on a status line in the style of `role` ("hint", "error")."""
    status.setText(text)
    status.setProperty("role", role)
    restyle(status)
    status.show()


class Page(QWidget):
    """A full-window screen: a centred column of at most `max_width_mm`, scrolling if needed.

    The column is wider than that when a text that cannot wrap needs it (a button's label,
    longer in French and with large text), as wide as the window allows (`fit_column`): a
    button cut at its ends reads as another button."""

    def __init__(self, name: str, *, max_width_mm: float = 190, scroll: bool = False) -> None:
        super().__init__()
        self.setObjectName("page")
        self.column_width = mm(max_width_mm, self)
        self.setAccessibleName(name)
        self.outer = outer = QVBoxLayout(self)
        margin = mm(6, self)
        outer.setContentsMargins(margin, margin, margin, margin)
        # A row above the content, e.g. for the window's discreet "Staff" button.
        self.header = QHBoxLayout()
        self.header.addStretch(1)
        outer.addLayout(self.header)
        self.body = QWidget()
        self.body.setObjectName("scrollBody")
        self.body.setMaximumWidth(self.column_width)
        self.column = QVBoxLayout(self.body)
        self.column.setContentsMargins(0, 0, 0, 0)
        self.column.setSpacing(mm(4, self))
        centred = QHBoxLayout()
        centred.addStretch(1)
        if scroll:
            from PySide6.QtCore import Qt
            from PySide6.QtWidgets import QFrame, QScrollArea, QSizePolicy

            from ui.widgets.touch_scroll import touch_scroll

            self.scroll_area: QScrollArea | None = QScrollArea()
            self.scroll_area.setWidgetResizable(True)
            self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)

            self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            self.scroll_area.setWidget(self.body)
            self.scroll_area.setSizePolicy(
                QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding
            )
            self.body.setMaximumWidth(16_777_215)
            self.scroll_area.setMaximumWidth(self.column_width)
            touch_scroll(self.scroll_area, by_design=False)
            centred.addWidget(self.scroll_area, 100)
        else:
            self.scroll_area = None
            centred.addWidget(self.body, 100)
        centred.addStretch(1)
        outer.addLayout(centred, 1)
        self.footer = QHBoxLayout()
        self.footer.setSpacing(mm(4, self))
        outer.addLayout(self.footer)

    # A page that sizes its content itself (the item pages' type fit, `ui.kiosk.item_fit`)
    # sets this False: no fitting of its column, at every page of a visit.
    fits_column = True

    def showEvent(self, event: QShowEvent) -> None:
        if not self.fits_column:
            super().showEvent(event)
            return
        from PySide6.QtCore import QTimer

        self.fit_column()
        # and once the shown page's fonts are final (those of the screen's density: at 150 DPI
        # they were not yet when it was shown)
        QTimer.singleShot(0, self.fit_column)
        super().showEvent(event)

    def resizeEvent(self, event: QResizeEvent) -> None:
        if self.fits_column:
            self.fit_column()
        super().resizeEvent(event)

    def fit_column(self) -> None:
        """The column's width limit: `max_width_mm`, or the least width its content needs when
        that is more (the widest text that cannot wrap; a scrolling column's scroll bar beside
        it), but never more than the page has: the page never asks for a wider window than it
        has (a text too wide for the screen itself stays cut). Called as the page is shown (and
        once more after), and as it is resized."""
        margins = self.outer.contentsMargins()
        room = max(self.column_width, self.width() - margins.left() - margins.right())
        needed = self.column.minimumSize().width()
        target: QWidget = self.body
        if self.scroll_area is not None:
            needed += self.scroll_area.verticalScrollBar().sizeHint().width()
            target = self.scroll_area
        target.setMaximumWidth(max(self.column_width, min(needed, room)))

    def reveal(self, widget: QWidget) -> None:
        """Scroll `widget` into view once the layout has made room for it."""
        if self.scroll_area is not None:
            from PySide6.QtCore import QTimer

            area = self.scroll_area
            QTimer.singleShot(0, lambda: area.ensureWidgetVisible(widget, 0, 0))

    def add(self, widget: QWidget, stretch: int = 0) -> QWidget:
        self.column.addWidget(widget, stretch)
        return widget

    def add_row(self, *widgets: QWidget, stretch_first: bool = False) -> QBoxLayout:
        row = QHBoxLayout()
        row.setSpacing(mm(4, self))
        if stretch_first:
            row.addStretch(1)
        for widget in widgets:
            row.addWidget(widget)
        if not stretch_first:
            row.addStretch(1)
        self.column.addLayout(row)
        return row
