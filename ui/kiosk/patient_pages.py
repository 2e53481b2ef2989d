"""The patient's screens around the items: hand-over, language choice, review and thank-you.

Each page shows what it is given and reports what was tapped; none keeps an answer of its own.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from respine_desktop.i18n import t
from ui.kiosk.titles import instrument_title
from ui.widgets.page import Page, button, label
from ui.widgets.signals import emit
from ui.widgets.touch_scroll import touch_scroll
from ui.widgets.units import mm

if TYPE_CHECKING:  # the session (and storage behind it) load after the first screen
    from respine_desktop.session import Response, Step


class HandoverPage(Page):
    """ "Please give the tablet to the patient": staff text, then one Start for the patient."""

    started = Signal()

    def __init__(
        self,
        staff_lang: str,
        patient_lang: str,
        visit_title: str,
        *,
        not_offered: Sequence[str] = (),
    ) -> None:
        super().__init__(t(staff_lang, "staff.handover.title"))
        self.column.addStretch(1)
        self.add(label(t(staff_lang, "staff.handover.title"), "title"))
        self.add(label(t(staff_lang, "staff.handover.hint"), "hint"))
        # For staff: why an installed translation is not offered for this visit.
        self.not_offered = [label(line, "hint") for line in not_offered]
        for line in self.not_offered:
            self.add(line)
        self.column.addSpacing(mm(10, self))
        self.add(label(visit_title, "big"))
        self.add(label(t(patient_lang, "kiosk.handover.welcome"), "subtitle"))
        self.start_button = button(t(patient_lang, "kiosk.handover.start"), "primary")
        self.start_button.clicked.connect(self.started)
        self.add_row(self.start_button)
        self.column.addStretch(2)


class LanguagePage(Page):
    """The patient's language: one button per language, each named in its own language."""

    chosen = Signal(str)

    def __init__(self, languages: Sequence[str], visit_title: str) -> None:
        super().__init__(" / ".join(t(lang, "kiosk.language.title") for lang in languages))
        self.column.addStretch(1)
        self.add(label(visit_title, "big"))
        for lang in languages:
            self.add(label(t(lang, "kiosk.language.title"), "subtitle"))
        self.column.addSpacing(mm(6, self))
        self.buttons: dict[str, QPushButton] = {}
        for lang in languages:
            choice = button(t(lang, f"common.language.{lang}"), "primary")
            choice.clicked.connect(lambda _=False, code=lang: emit(self.chosen, code))
            self.add_row(choice)
            self.buttons[lang] = choice
        self.column.addStretch(2)


def answer_text(step: Step, response: Response | None, lang: str) -> tuple[str, str]:
    """(text, style role) of an answer on the review list; the VAS shows no number."""
    if response is None:
        return t(lang, "kiosk.review.missing"), "reviewMissing"
    if response.skipped:
        return t(lang, "kiosk.review.skipped"), "reviewAnswer"
    if step.item.type == "vas":
        return t(lang, "kiosk.review.vas_marked"), "reviewAnswer"
    assert response.value is not None
    return step.item.choice(int(response.value)).text[lang], "reviewAnswer"


class ReviewPage(Page):
    """Every answer of the visit with a Change button each, then Send (with a confirmation).

    Items that share a stem are listed under it (SF-36 13-16 "as a result of your physical
    health", 17-19 "as a result of any emotional problems"), and each Change button is named
    with the stem, so that no two rows read the same. The list scrolls by touch;
    `keep_scroll(value)` shows it where the patient left it (after a Change).
    """

    change_requested = Signal(int)
    submitted = Signal()

    def __init__(
        self, rows: Sequence[tuple[Step, Response | None]], lang: str, *, complete: bool
    ) -> None:
        super().__init__(t(lang, "kiosk.review.title"), scroll=True)
        self.lang = lang
        assert self.scroll_area is not None
        touch_scroll(self.scroll_area)
        self.add(label(t(lang, "kiosk.review.title"), "title"))
        self.add(label(t(lang, "kiosk.review.hint"), "hint"))
        self.change_buttons: list[QPushButton] = []
        self.stem_labels: list[QLabel] = []
        self._wanted_scroll: int | None = None
        instrument, stem = None, ""
        for step, response in rows:
            if step.instrument.id != instrument:
                instrument, stem = step.instrument.id, ""
                self.column.addSpacing(mm(3, self))
                self.add(label(instrument_title(lang, step.instrument), "instrument"))
            item_stem = step.item.stem.get(lang, "") if step.item.stem else ""
            if item_stem and item_stem != stem:
                self.stem_labels.append(label(item_stem, "reviewStem"))
                self.add(self.stem_labels[-1])
            stem = item_stem
            self.add(self._row(step, response))
        self.confirm_panel = self._confirm_panel()
        self.error = label(t(lang, "kiosk.review.submit_failed"), "error")
        self.error.hide()
        self.add(self.error)
        self.column.addStretch(1)
        self.submit_button = button(t(lang, "kiosk.review.submit"), "primary")
        self.submit_button.setEnabled(complete)
        self.submit_button.clicked.connect(self._on_submit_clicked)
        self.footer.addStretch(1)
        self.footer.addWidget(self.submit_button)

    def _row(self, step: Step, response: Response | None) -> QFrame:
        lang = self.lang
        row = QFrame()
        row.setProperty("role", "reviewRow")
        box = QHBoxLayout(row)
        texts = QVBoxLayout()
        question = step.item.text[lang]
        texts.addWidget(label(f"{step.number}. {question}", "reviewQuestion"))
        answer, role = answer_text(step, response, lang)
        texts.addWidget(label(answer, role))
        box.addLayout(texts, 1)
        stem = step.item.stem.get(lang, "") if step.item.stem else ""
        change = button(
            t(lang, "kiosk.review.change"),
            "change",
            name=t(lang, "kiosk.review.change_name", question=f"{stem} {question}".strip()),
        )
        change.clicked.connect(lambda _=False, index=step.index: emit(self.change_requested, index))
        box.addWidget(change, 0, Qt.AlignmentFlag.AlignVCenter)
        self.change_buttons.append(change)
        return row

    def _confirm_panel(self) -> QFrame:
        panel = QFrame()
        panel.setProperty("role", "banner")
        box = QVBoxLayout(panel)
        box.addWidget(label(t(self.lang, "kiosk.review.confirm"), "subtitle"))
        self.confirm_yes = button(t(self.lang, "kiosk.review.confirm_yes"), "primary")
        self.confirm_no = button(t(self.lang, "kiosk.review.confirm_no"), "")
        self.confirm_yes.clicked.connect(self.submitted)
        self.confirm_no.clicked.connect(lambda: panel.setVisible(False))
        box.addWidget(self.confirm_no)
        box.addWidget(self.confirm_yes)
        panel.setVisible(False)
        self.add(panel)
        return panel

    def keep_scroll(self, value: int) -> None:
        """Scroll to `value` (px) as soon as the laid-out list is long enough for it."""
        assert self.scroll_area is not None
        bar = self.scroll_area.verticalScrollBar()
        self._wanted_scroll = value
        bar.rangeChanged.connect(self._on_range_changed)
        self._on_range_changed(bar.minimum(), bar.maximum())

    def scroll_value(self) -> int:
        """How far the list is scrolled now (px)."""
        assert self.scroll_area is not None
        return self.scroll_area.verticalScrollBar().value()

    def _on_range_changed(self, _minimum: int, maximum: int) -> None:
        wanted = self._wanted_scroll
        if wanted is None or self.scroll_area is None:
            return
        self.scroll_area.verticalScrollBar().setValue(min(wanted, maximum))
        if maximum >= wanted:
            self._wanted_scroll = None

    def show_submit_failed(self) -> None:
        """Sending failed: the answers stay stored, the staff are called."""
        self.confirm_panel.setVisible(False)
        self.error.show()
        self.reveal(self.error)

    def _on_submit_clicked(self) -> None:
        self.confirm_panel.setVisible(True)
        self.confirm_no.setFocus(Qt.FocusReason.OtherFocusReason)
        self.reveal(self.confirm_panel)


class ThanksPage(Page):
    """ "Thank you, please return the tablet"; staff lock it (or the idle timeout does)."""

    finished = Signal()

    def __init__(self, lang: str) -> None:
        super().__init__(t(lang, "kiosk.thanks.title"))
        self.column.addStretch(1)
        self.add(label(t(lang, "kiosk.thanks.title"), "big"))
        self.add(label(t(lang, "kiosk.thanks.body"), "subtitle"))
        self.column.addStretch(2)
        self.done_button = button(t(lang, "kiosk.thanks.done"), "quiet")
        self.done_button.clicked.connect(self.finished)
        self.footer.addStretch(1)
        self.footer.addWidget(self.done_button)
