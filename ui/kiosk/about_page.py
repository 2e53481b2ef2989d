"""AboutPage: app and scoring versions, and every instrument's version, checksum and licence."""

from __future__ import annotations

from PySide6.QtCore import Signal

from respine_desktop.about import about
from respine_desktop.i18n import t
from ui.widgets.page import Page, button, label


class AboutPage(Page):
    """Read-only; `closed` returns to the staff home."""

    closed = Signal()

    def __init__(self, lang: str) -> None:
        super().__init__(t(lang, "staff.about.title"), max_width_mm=190, scroll=True)
        info = about(lang)
        self.add(label(t(lang, "staff.about.title"), "title"))
        self.add(label(t(lang, "staff.about.app", version=info.app_version), "subtitle"))
        self.add(label(f"{info.study} ({info.protocol})", "hint"))
        self.add(label(t(lang, "staff.about.scoring", version=info.scoring_version), "hint"))
        for notice in info.instruments:
            self.add(label(f"{notice.title} — {notice.version}", "subtitle"))
            self.add(label(notice.licence, "stem"))
            self.add(label(notice.credit, "hint"))
            # A 71-character hash cannot wrap; cut it in two halves so the page never scrolls
            # sideways (the test reads it back with the line break removed).
            digest = notice.checksum
            half = len(digest) // 2 + 4
            shown = f"{digest[:half]}\n{digest[half:]}"
            self.add(label(t(lang, "staff.about.checksum", checksum=shown), "hint"))
            if notice.language != lang:
                self.add(label(t(lang, "staff.about.shown_in", language=notice.language), "hint"))
        self.column.addStretch(1)
        back = button(t(lang, "common.back"), "primary")
        back.clicked.connect(self.closed)
        self.footer.addStretch(1)
        self.footer.addWidget(back)
        self.back_button = back
