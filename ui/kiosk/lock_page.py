"""LockPage: what anyone sees when the kiosk is locked, and the first screen at start-up.

It imports as little of Qt as possible: the kiosk shows it before loading anything else.
"""

from __future__ import annotations

from PySide6.QtCore import Signal

from respine_desktop.i18n import t
from ui.widgets.page import Page, button, label


class LockPage(Page):
    """What anyone sees when the kiosk is locked: nothing but an Unlock button for staff."""

    unlock_requested = Signal()

    def __init__(self, lang: str) -> None:
        super().__init__(t(lang, "staff.lock.title"))
        self.column.addStretch(1)
        # Fixed UI texts without markup: `plain=False` keeps Qt's enum namespace off this screen.
        self.add(label(t(lang, "common.app_name"), "big", plain=False))
        self.add(label(t(lang, "staff.lock.title"), "title", plain=False))
        self.add(label(t(lang, "staff.lock.hint"), "hint", plain=False))
        self.unlock_button = button(t(lang, "staff.lock.unlock"), "primary")
        self.unlock_button.clicked.connect(self.unlock_requested)
        self.add_row(self.unlock_button)
        self.column.addStretch(2)
