"""ItemPage: one questionnaire item on one screen, rendered from the instrument file.

Any item of any instrument is drawn from its data (type `vas` or `choice`, texts per language);
no screen is written for one questionnaire. The page only shows and forwards: it tells the
window what the patient did (`answered`, `skipped`, `back_requested`, `next_requested`) and the
window passes it on to the session, which decides what comes next.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QProgressBar, QPushButton, QVBoxLayout, QWidget

from respine_desktop.i18n import t
from respine_desktop.session import Response, Step
from ui.choice_list import ChoiceList
from ui.signals import emit
from ui.units import mm
from ui.vas_slider import VasSlider
from ui.widgets import Page, button, label


class ItemPage(Page):
    """Progress, instrument name, stem and question, the answer widget, Back / Skip / Next.

    `answered(value, vas_line_mm)` carries the VAS line's rendered length (mm) or -1.0 for a
    choice item (Qt signals carry no None).
    """

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
        item = step.item
        super().__init__(item.text[lang], scroll=True)
        self.step = step
        self.lang = lang
        self._response = response

        progress_row = QWidget()
        progress_box = QVBoxLayout(progress_row)
        progress_box.setContentsMargins(0, 0, 0, 0)
        self.progress_text = label(
            t(lang, "kiosk.item.progress", number=step.number, total=total), "progress"
        )
        bar = QProgressBar()
        bar.setRange(0, total)
        bar.setValue(step.number)
        bar.setTextVisible(False)
        bar.setAccessibleName(self.progress_text.text())
        progress_box.addWidget(self.progress_text)
        progress_box.addWidget(bar)
        self.add(progress_row)

        self.add(label(step.instrument.short_title[lang].upper(), "instrument"))
        if step.first_of_instrument:
            self.add(label(step.instrument.instructions[lang], "stem"))
        if item.stem:
            self.add(label(item.stem[lang], "stem"))
        self.question = label(item.text[lang], "question")
        self.add(self.question)

        self.vas: VasSlider | None = None
        self.choices: ChoiceList | None = None
        value = response.value if response is not None else None
        if item.type == "vas":
            low, high = item.anchors[lang]
            self.vas = VasSlider(low, high, calibration=calibration)
            self.vas.setAccessibleName(item.text[lang])
            self.vas.set_value(None if value is None else float(value))
            self.vas.answered.connect(self._on_vas_answered)
            self.column.addSpacing(mm(6, self))
            self.add(self.vas)
        else:
            options = [(c.code, c.text[lang]) for c in item.choices]
            self.choices = ChoiceList(options, accessible_name=item.text[lang])
            self.choices.set_value(None if value is None else int(value))
            self.choices.answered.connect(self._on_choice_answered)
            self.add(self.choices)

        self.error = label(t(lang, "kiosk.item.save_failed"), "error")
        self.error.hide()
        self.add(self.error)
        self.skip_note = label(t(lang, "kiosk.item.skipped_note"), "hint")
        self.skip_note.setVisible(response is not None and response.skipped)
        self.add(self.skip_note)
        self.skip_panel = self._skip_panel() if item.optional else None
        self.column.addStretch(1)

        self.back_button = button(t(lang, "common.back"), "", name=t(lang, "common.back"))
        self.back_button.setEnabled(can_go_back)
        self.back_button.clicked.connect(self.back_requested)
        next_key = "kiosk.item.to_review" if returns_to_review else "common.next"
        self.next_button = button(t(lang, next_key), "primary")
        self.next_button.clicked.connect(self.next_requested)
        self.footer.addWidget(self.back_button)
        self.footer.addStretch(1)
        self.skip_button: QPushButton | None = None
        if item.optional:
            self.skip_button = button(t(lang, "kiosk.item.skip"), "")
            self.skip_button.clicked.connect(self._on_skip_clicked)
            self.footer.addWidget(self.skip_button)
        self.footer.addWidget(self.next_button)
        self._refresh()

    def _skip_panel(self) -> QFrame:
        panel = QFrame()
        panel.setProperty("role", "banner")
        box = QVBoxLayout(panel)
        box.addWidget(label(t(self.lang, "kiosk.item.skip_confirm"), "subtitle"))
        yes = button(t(self.lang, "kiosk.item.skip_yes"), "primary")
        no = button(t(self.lang, "kiosk.item.skip_no"), "")
        yes.clicked.connect(self._on_skip_confirmed)
        no.clicked.connect(lambda: self._show_skip_panel(False))
        self.skip_yes, self.skip_no = yes, no
        row = QWidget()
        row_box = QVBoxLayout(row)
        row_box.setContentsMargins(0, 0, 0, 0)
        row_box.addWidget(no)
        row_box.addWidget(yes)
        box.addWidget(row)
        panel.setVisible(False)
        self.add(panel)
        return panel

    # -- state shown ---------------------------------------------------------------------------

    def set_response(self, response: Response | None) -> None:
        """The session accepted an answer or a skip: show it and allow Next."""
        self._response = response
        self.error.hide()
        self._refresh()

    def show_save_failed(self) -> None:
        """The answer was not stored: say so, and show the answer that is stored (if any)."""
        self.error.show()
        value = self._response.value if self._response is not None else None
        if self.vas is not None:
            self.vas.set_value(None if value is None else float(value))
        if self.choices is not None:
            self.choices.set_value(None if value is None else int(value))

    def _refresh(self) -> None:
        given = self._response is not None
        skipped = given and self._response is not None and self._response.skipped
        self.next_button.setEnabled(given)
        self.skip_note.setVisible(skipped)
        if skipped:
            if self.choices is not None:
                self.choices.set_value(None)
            if self.vas is not None:
                self.vas.set_value(None)

    def _show_skip_panel(self, visible: bool) -> None:
        if self.skip_panel is None:
            return
        self.skip_panel.setVisible(visible)
        if visible:
            self.skip_no.setFocus(Qt.FocusReason.OtherFocusReason)
            self.reveal(self.skip_panel)

    # -- patient input -------------------------------------------------------------------------

    def _on_vas_answered(self, value: float) -> None:
        assert self.vas is not None
        emit(self.answered, value, self.vas.rendered_length_mm())

    def _on_choice_answered(self, code: int) -> None:
        self._show_skip_panel(False)
        emit(self.answered, code, -1.0)

    def _on_skip_clicked(self) -> None:
        self._show_skip_panel(True)

    def _on_skip_confirmed(self) -> None:
        self._show_skip_panel(False)
        emit(self.skipped)
