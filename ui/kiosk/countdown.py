"""CountdownOverlay: "Are you still there?" with the seconds left before the kiosk locks."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from respine_desktop.i18n import t
from ui.widgets.page import button, label, set_button_text
from ui.widgets.units import mm


class CountdownOverlay(QWidget):
    """Covers its parent with a veil and a card; `stayed()` when the patient taps to stay."""

    stayed = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._host = parent
        self.setObjectName("countdownOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground, True)
        self.setStyleSheet("QWidget#countdownOverlay { background-color: rgba(20, 30, 40, 150); }")
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        self.card = QFrame(self)
        self.card.setProperty("role", "card")
        box = QVBoxLayout(self.card)
        self._card_layout = box
        pad = mm(6, self)
        box.setContentsMargins(pad, pad, pad, pad)
        box.setSpacing(mm(4, self))
        self.title = label("", "title")
        self.seconds = label("", "big")
        self.seconds.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.body = label("", "subtitle")
        self.stay_button = button("", "primary")
        self.stay_button.clicked.connect(self.stayed)
        box.addWidget(self.title)
        box.addWidget(self.seconds)
        box.addWidget(self.body)
        box.addWidget(self.stay_button)
        outer.addWidget(self.card, 0, Qt.AlignmentFlag.AlignHCenter)
        outer.addStretch(1)
        parent.installEventFilter(self)
        self.hide()

    def show_seconds(self, lang: str, seconds: int) -> None:
        """Show (or update) the countdown in the patient's (or staff's) language."""
        self.title.setText(t(lang, "kiosk.idle.title"))
        self.seconds.setText(str(seconds))
        self.body.setText(t(lang, "kiosk.idle.body", seconds=seconds))
        set_button_text(self.stay_button, t(lang, "kiosk.idle.stay"))
        self.setAccessibleName(self.body.text())
        width = min(mm(150, self), self._host.width() - 40)
        self.card.setFixedWidth(width)
        # Centred by alignment, the card gets its size hint: give it the wrapped text's height.
        self.card.setFixedHeight(self._card_layout.totalHeightForWidth(width))
        if not self.isVisible():
            self.setGeometry(self._host.rect())
            self.show()
            self.raise_()
            self.stay_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._host and event.type() == QEvent.Type.Resize:
            self.setGeometry(self._host.rect())
        return False
