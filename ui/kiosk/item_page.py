"""ItemPage: one questionnaire item on one screen, rendered from the instrument file.

Any item of any instrument is drawn from its data (type `vas` or `choice`, texts per language);
no screen is written for one questionnaire. The page only shows and forwards: it tells the
window what the patient did (`answered`, `skipped`, `back_requested`, `next_requested`) and the
window passes it on to the session, which decides what comes next.

One page serves a whole sitting: `show_step` puts the next item into the same widgets, which
is several times faster than building and styling a new screen per item. The window deletes
the page when the kiosk locks, so nothing of it outlives the patient.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QBoxLayout, QFrame, QProgressBar, QVBoxLayout, QWidget

from respine_desktop.i18n import t
from ui.kiosk.item_fit import ItemFitter
from ui.kiosk.titles import instrument_title
from ui.widgets.choice_list import ChoiceList
from ui.widgets.page import Page, button, label, set_button_text
from ui.widgets.signals import emit
from ui.widgets.units import mm
from ui.widgets.vas_slider import VasSlider

if TYPE_CHECKING:  # the session (and storage behind it) load after the first screen
    from respine_desktop.session import Response, Step


class ItemPage(Page):
    """Progress, instrument name, instructions, stem and question, the answer widget, and
    Back / Skip / Next.

    `answered(value, vas_line_mm)` carries the VAS line's rendered length (mm) or -1.0 for a
    choice item (Qt signals carry no None).
    """

    fits_column = False  # (its type fit sizes the page: `item_fit`)

    answered = Signal(object, float)
    skipped = Signal()
    back_requested = Signal()
    next_requested = Signal()

    def __init__(
        self,
        step: Step,
        total: int,
        lang: str,
        response: Response | None,
        *,
        can_go_back: bool,
        returns_to_review: bool = False,
        calibration: float = 1.0,
    ) -> None:
        super().__init__(step.item.text[lang], scroll=True)
        self.lang = lang
        self.calibration = calibration
        self.step = step
        self._response = response

        # The progress stays in the page's header, beside "Staff": it never scrolls away.
        progress_row = QWidget()
        progress_box = QVBoxLayout(progress_row)
        progress_box.setContentsMargins(0, 0, 0, 0)
        self.progress_text = label("", "progress")
        self.progress_bar = QProgressBar()
        self.progress_bar.setTextVisible(False)
        progress_box.addWidget(self.progress_text)
        progress_box.addWidget(self.progress_bar)
        self.progress_row = progress_row
        self.header.insertWidget(0, progress_row, 3)
        self.instrument = label("", "instrument")
        self.instructions = label("", "stem")
        self.stem = label("", "stem")
        self.question = label("", "question")
        for widget in (self.instrument, self.instructions, self.stem, self.question):
            self.add(widget)
        self.vas_gap = QWidget()
        self.vas_gap.setFixedHeight(mm(6, self))
        self.add(self.vas_gap)
        # Created on first use, then reused for every item of that type.
        self.vas: VasSlider | None = None
        self.choices: ChoiceList | None = None
        self._answer_index = self.column.count()
        self.error = label(t(lang, "kiosk.item.save_failed"), "error")
        self.skip_note = label(t(lang, "kiosk.item.skipped_note"), "hint")
        self.add(self.error)
        self.add(self.skip_note)
        self.column.addStretch(1)
        outer = self.layout()
        assert isinstance(outer, QVBoxLayout)
        self.outer = outer
        # Below the answers, outside the scrolling part: the last resort's cue, the skip panel.
        self.more_cue = label(t(lang, "kiosk.item.more_below"), "moreCue")
        self.more_cue.hide()
        outer.insertWidget(2, self.more_cue)
        self.skip_panel = self._skip_panel()
        outer.insertWidget(3, self.skip_panel)
        self.fitter = ItemFitter(self)
        self.fitter.on_seen = self._refresh

        self.back_button = button(t(lang, "common.back"))
        self.back_button.clicked.connect(self.back_requested)
        self.skip_button = button(t(lang, "kiosk.item.skip"))
        self.skip_button.clicked.connect(lambda: self._show_skip_panel(True))
        self.next_button = button(t(lang, "common.next"), "primary")
        self.next_button.clicked.connect(self.next_requested)
        self.footer.addWidget(self.back_button)
        self.footer.addStretch(1)
        self.footer.addWidget(self.skip_button)
        self.footer.addWidget(self.next_button)
        self.show_step(
            step,
            total,
            response,
            can_go_back=can_go_back,
            returns_to_review=returns_to_review,
        )

    def _skip_panel(self) -> QFrame:
        """ "Skip this question?": the safe choice (answer it) is the primary-looking button."""
        panel = QFrame()
        panel.setProperty("role", "banner")
        box = QVBoxLayout(panel)
        box.addWidget(label(t(self.lang, "kiosk.item.skip_confirm"), "subtitle"))
        self.skip_no = button(t(self.lang, "kiosk.item.skip_no"), "primary")
        self.skip_yes = button(t(self.lang, "kiosk.item.skip_yes"))
        self.skip_no.clicked.connect(lambda: self._show_skip_panel(False))
        self.skip_yes.clicked.connect(self._on_skip_confirmed)
        self.skip_row = QBoxLayout(QBoxLayout.Direction.LeftToRight)
        self.skip_row.addWidget(self.skip_yes)
        self.skip_row.addStretch(1)
        self.skip_row.addWidget(self.skip_no)
        box.addLayout(self.skip_row)
        panel.hide()
        return panel

    # -- state shown ---------------------------------------------------------------------------

    def show_step(
        self,
        step: Step,
        total: int,
        response: Response | None,
        *,
        can_go_back: bool,
        returns_to_review: bool = False,
    ) -> None:
        """Show `step` (with the patient's answer to it, if any) in this page's widgets."""
        lang, item = self.lang, step.item
        self.step = step
        self._response = response
        self.setAccessibleName(item.text[lang])
        progress = t(lang, "kiosk.item.progress", number=step.number, total=total)
        self.progress_text.setText(progress)
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(step.number)
        self.progress_bar.setAccessibleName(progress)
        self.instrument.setText(instrument_title(lang, step.instrument))
        self.instructions.setText(step.instrument.instructions[lang])
        self.instructions.setVisible(step.first_of_instrument)
        self.stem.setText(item.stem[lang] if item.stem else "")
        self.stem.setVisible(bool(item.stem))
        self.question.setText(item.text[lang])
        value = response.value if response is not None and not response.skipped else None
        if item.type == "vas":
            vas = self._vas()
            vas.set_anchors(*item.anchors[lang])
            vas.setAccessibleName(item.text[lang])
            vas.set_value(None if value is None else float(value))
        else:
            choices = self._choices()
            choices.set_options([(c.code, c.text[lang]) for c in item.choices])
            choices.setAccessibleName(item.text[lang])
            choices.set_value(None if value is None else int(value))
        for widget in (self.vas, self.vas_gap):
            if widget is not None:
                widget.setVisible(item.type == "vas")
        if self.choices is not None:
            self.choices.setVisible(item.type == "choice")
        self.error.hide()
        self.skip_panel.hide()
        self.skip_button.setVisible(item.optional)
        self.back_button.setEnabled(can_go_back)
        next_key = "kiosk.item.to_review" if returns_to_review else "common.next"
        set_button_text(self.next_button, t(lang, next_key))
        self.fitter.fit(to_top=True)
        self._refresh()

    def _vas(self) -> VasSlider:
        if self.vas is None:
            self.vas = VasSlider("", "", calibration=self.calibration)
            self.vas.answered.connect(self._on_vas_answered)
            self.column.insertWidget(self._answer_index, self.vas)
        return self.vas

    def _choices(self) -> ChoiceList:
        if self.choices is None:
            self.choices = ChoiceList([])
            self.choices.answered.connect(self._on_choice_answered)
            self.column.insertWidget(self._answer_index, self.choices)
        return self.choices

    def set_response(self, response: Response | None) -> None:
        """The session accepted an answer or a skip: show it and allow Next."""
        self._response = response
        self.error.hide()
        self._refresh()

    def show_save_failed(self) -> None:
        """The answer was not stored: say so, and show the answer that is stored (if any)."""
        self.error.show()
        self.fitter.fit()
        response = self._response
        value = response.value if response is not None and not response.skipped else None
        if self.step.item.type == "vas":
            self._vas().set_value(None if value is None else float(value))
        else:
            self._choices().set_value(None if value is None else int(value))

    def _refresh(self) -> None:
        given = self._response is not None
        skipped = self._response is not None and self._response.skipped
        self.next_button.setEnabled(given and self.fitter.seen_all)
        if self.skip_note.isVisibleTo(self) != skipped:
            self.skip_note.setVisible(skipped)
            self.fitter.fit()

    def _show_skip_panel(self, visible: bool) -> None:
        if self.skip_panel.isVisibleTo(self) == visible:
            return
        # Side by side when the page is wide enough for both, else one above the other.
        margins = self.outer.contentsMargins()
        room = self.width() - margins.left() - margins.right() - mm(12, self)
        wanted = self.skip_yes.sizeHint().width() + self.skip_no.sizeHint().width()
        self.skip_row.setDirection(
            QBoxLayout.Direction.LeftToRight
            if wanted + self.skip_row.spacing() <= room
            else QBoxLayout.Direction.TopToBottom
        )
        self.skip_panel.setVisible(visible)
        self.fitter.fit()
        if visible:
            self.skip_no.setFocus(Qt.FocusReason.OtherFocusReason)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        self.fitter.fit(to_top=True)
        self._refresh()

    # -- patient input -------------------------------------------------------------------------

    def _on_vas_answered(self, value: float) -> None:
        assert self.vas is not None
        emit(self.answered, value, self.vas.rendered_length_mm())

    def _on_choice_answered(self, code: int) -> None:
        self._show_skip_panel(False)
        emit(self.answered, code, -1.0)

    def _on_skip_confirmed(self) -> None:
        self._show_skip_panel(False)
        if self.choices is not None:
            self.choices.set_value(None)
        emit(self.skipped)
