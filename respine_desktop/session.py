"""One visit's questionnaire flow as a state object (Qt-free): items, answers, review, submit."""

from __future__ import annotations

from dataclasses import dataclass

from respine_desktop.i18n import UI_LANGUAGES
from respine_desktop.instruments import Instrument, Item, load_instrument


@dataclass(frozen=True, slots=True)
class Step:
    """One item of the visit, in the order the patient sees it."""

    index: int
    instrument: Instrument
    item: Item
    first_of_instrument: bool

    @property
    def number(self) -> int:
        """1-based position, for "question 3 of 47"."""
        return self.index + 1


@dataclass(frozen=True, slots=True)
class Response:
    """What the patient gave for one item: a value, or an explicit skip."""

    value: int | float | None
    skipped: bool = False
    vas_line_mm: float | None = None


def visit_steps(instrument_ids: tuple[str, ...]) -> tuple[Step, ...]:
    """Every item of these instruments, in order."""
    steps: list[Step] = []
    for instrument_id in instrument_ids:
        instrument = load_instrument(instrument_id)
        for n, item in enumerate(instrument.items):
            steps.append(Step(len(steps), instrument, item, n == 0))
    return tuple(steps)


def visit_languages(instrument_ids: tuple[str, ...]) -> tuple[str, ...]:
    """Languages a patient may choose: complete for every instrument and for the kiosk's texts."""
    langs = set(UI_LANGUAGES)
    for instrument_id in instrument_ids:
        langs &= load_instrument(instrument_id).languages()
    return tuple(lang for lang in UI_LANGUAGES if lang in langs)
