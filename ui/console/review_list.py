"""ReviewList: the frame the two review lists of the "Conflicts" tab share.

A title row (the title, the count, Refresh; a list may insert more in `top`), the rule in a
hint, the friendly empty line and the error line. The list is read when first shown (reading
scans the audit log: done when staff look, not at console start) and on Refresh; a refusal from
storage is shown in the error line, the list then empty. Subclasses read (`read`) and fill
their table (`show_list`); `ConflictsView` and `MismatchesView` are the two.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from respine_desktop.i18n import t
from respine_desktop.storage import StorageError, StudyDb
from ui.console.layout import TAB_MARGIN
from ui.console.texts import refused
from ui.widgets.page import button, label


class ReviewList(QWidget):
    """The shared frame; `texts` is the prefix of the list's texts ("console.conflicts")."""

    def __init__(
        self,
        db: StudyDb,
        lang: str,
        texts: str,
        *,
        empty_name: str,
        rule_name: str = "",
    ) -> None:
        super().__init__()
        self.db, self.lang = db, lang
        self.loaded = False
        self.column = QVBoxLayout(self)
        self.column.setContentsMargins(TAB_MARGIN, TAB_MARGIN, TAB_MARGIN, TAB_MARGIN)
        self.top = QHBoxLayout()
        self.top.addWidget(label(t(lang, f"{texts}.title"), "subtitle"), 1)
        self.count = label("", "hint", wrap=False)
        self.top.addWidget(self.count)
        self.refresh_button = button(t(lang, "console.conflicts.refresh"))
        self.refresh_button.clicked.connect(self.refresh)
        self.top.addWidget(self.refresh_button)
        self.column.addLayout(self.top)
        self.rule = label(t(lang, f"{texts}.rule"), "hint")
        if rule_name:
            self.rule.setObjectName(rule_name)
        self.column.addWidget(self.rule)
        self.empty = label(t(lang, f"{texts}.empty"), "subtitle")
        self.empty.setObjectName(empty_name)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.column.addWidget(self.empty, 1)
        self.error = label("", "error")
        self.error.hide()
        self.column.addWidget(self.error)

    def showEvent(self, event: QShowEvent) -> None:
        if not self.loaded:
            self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        """Read the list again."""
        self.loaded = True
        self.error.hide()
        try:
            self.read()
        except StorageError as exc:
            self.clear()
            self.error.setText(refused(self.lang, exc))
            self.error.show()
        self.show_list()

    def show_empty(self, have: bool) -> None:
        """The empty line, shown once read when there is nothing and no error."""
        self.empty.setVisible(self.loaded and not have and not self.error.isVisible())

    # Each list's own part:
    def read(self) -> None:  # pragma: no cover - both lists define it
        """Read the list from storage (may raise `StorageError`)."""
        raise NotImplementedError

    def clear(self) -> None:  # pragma: no cover - both lists define it
        """Forget the list (after a refusal)."""
        raise NotImplementedError

    def show_list(self) -> None:  # pragma: no cover - both lists define it
        """Fill the table from what was read."""
        raise NotImplementedError
