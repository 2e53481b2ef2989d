"""One visit's questionnaire flow as a state object (Qt-free): items, answers, review, submit.

A `QuestionnaireSession` is what the patient works through: the items of the visit's
instruments in the study's order, a current position, the answers given so far, Back / Next
(never an automatic advance), an explicit skip for optional items, a review list from which any
answer can be changed, and submission. Every answer and skip is written through `storage` the
moment it is given, together with the position, so that a parked session, or one cut short by
a crash, resumes at the same item. The kiosk's Qt pages only show this object and forward taps.

Positions: ``0 .. len(steps) - 1`` are items, ``len(steps)`` is the review list.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from respine_desktop import storage
from respine_desktop.errors import RespineError
from respine_desktop.i18n import UI_LANGUAGES, installed_languages
from respine_desktop.instruments import Instrument, Item, load_instrument
from respine_desktop.storage import SKIPPED, Session, Staff, StudyDb


class FlowError(RuntimeError):
    """The flow was asked for something its state does not allow (a bug in the caller, so not a
    `RespineError`: it must reach a traceback)."""


class LanguageUnavailable(RespineError):
    """A visit started in a language this kiosk cannot show now (an installed translation set
    aside after an upgrade): it is not resumed, nothing is written; staff install the
    translation for this version, then resume it."""


class Phase(enum.Enum):
    ITEMS = "items"
    REVIEW = "review"
    PARKED = "parked"
    SUBMITTED = "submitted"


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
    """Languages a patient may choose: complete for every instrument and for the kiosk's texts
    (the shipped ones, then the installed translations that cover every instrument)."""
    candidates = UI_LANGUAGES + installed_languages()
    langs = set(candidates)
    for instrument_id in instrument_ids:
        langs &= load_instrument(instrument_id).languages()
    return tuple(lang for lang in candidates if lang in langs)


def _response(item: Item, answer: storage.Answer) -> Response:
    if answer.status == "skipped" or answer.value is None:
        return Response(None, skipped=True)
    value: int | float = int(answer.value) if item.type == "choice" else float(answer.value)
    return Response(value, vas_line_mm=answer.vas_line_mm)


class QuestionnaireSession:
    """The flow of one visit's questionnaires for one patient; see the module docstring."""

    def __init__(self, db: StudyDb, record: Session) -> None:
        if not record.is_open:
            raise FlowError(f"session {record.id} is submitted already")
        self._db = db
        self.record = record
        self.steps = visit_steps(record.instruments)
        by_item = {s.item.id: s for s in self.steps}
        self._responses = {
            item_id: _response(by_item[item_id].item, answer)
            for item_id, answer in storage.current_answers(db, record.id).items()
            if item_id in by_item
        }
        self._position = min(max(0, record.position), len(self.steps))
        self._returns_to_review = False
        self._phase = Phase.PARKED if record.state == "parked" else self._phase_at(self._position)

    # -- opening -------------------------------------------------------------------------------

    @classmethod
    def open(
        cls, db: StudyDb, subject_code: str, visit_code: str, *, staff: Staff
    ) -> QuestionnaireSession:
        """Start the visit's session, or resume its unfinished one where it stopped."""
        existing = storage.open_session_for(db, subject_code, visit_code)
        if existing is not None:
            return cls.resume(db, existing.id, staff=staff)
        return cls(db, storage.start_session(db, subject_code, visit_code, staff=staff))

    @classmethod
    def resume(cls, db: StudyDb, session_id: str, *, staff: Staff) -> QuestionnaireSession:
        """Reopen a parked session (or one a crash interrupted) at the item it was on.

        `LanguageUnavailable` (nothing written) if it was started in a language the visit can
        no longer be shown in here: its answers are in that language, and the rest of the
        visit must be too."""
        record = storage.get_session(db, session_id)
        language = record.language
        if language is not None and language not in visit_languages(record.instruments):
            raise LanguageUnavailable(
                f"this visit was started in the language '{language}', which this kiosk cannot "
                "show now: install its translation for this version, then resume it"
            ).keyed("language_unavailable", language=language)
        return cls(db, storage.resume_session(db, session_id, staff=staff))

    # -- what the screens show -----------------------------------------------------------------

    @property
    def id(self) -> str:
        return self.record.id

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def position(self) -> int:
        return self._position

    @property
    def answering(self) -> bool:
        """The patient is on an item or on the review list (not parked, not submitted)."""
        return self._phase in (Phase.ITEMS, Phase.REVIEW)

    @property
    def in_review(self) -> bool:
        return self._phase is Phase.REVIEW

    @property
    def total(self) -> int:
        return len(self.steps)

    @property
    def language(self) -> str | None:
        return self.record.language

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages the patient may choose for this visit."""
        return visit_languages(self.record.instruments)

    @property
    def current(self) -> Step:
        """The item on screen (only while answering items)."""
        self._require(Phase.ITEMS)
        return self.steps[self._position]

    @property
    def returns_to_review(self) -> bool:
        """Whether Next goes back to the review list (the patient came to change an answer)."""
        return self._returns_to_review

    def response(self, item_id: str) -> Response | None:
        return self._responses.get(item_id)

    @property
    def current_response(self) -> Response | None:
        return self._responses.get(self.current.item.id)

    @property
    def can_go_back(self) -> bool:
        return self._phase is Phase.ITEMS and self._position > 0 and not self._returns_to_review

    @property
    def can_advance(self) -> bool:
        return self._phase is Phase.ITEMS and self.current_response is not None

    @property
    def complete(self) -> bool:
        """Every item has an answer or an explicit skip."""
        return all(s.item.id in self._responses for s in self.steps)

    def review_rows(self) -> list[tuple[Step, Response | None]]:
        return [(s, self._responses.get(s.item.id)) for s in self.steps]

    # -- what the patient does -----------------------------------------------------------------

    def choose_language(self, language: str) -> None:
        """The patient's language (before the first item; a resumed session keeps its own)."""
        if language not in self.languages:
            raise FlowError(f"language {language!r} is not offered for this visit")
        self.record = storage.set_language(self._db, self.id, language)

    def answer(self, value: int | float, *, vas_line_mm: float | None = None) -> Response:
        """Record the answer to the current item at once (storage validates it first)."""
        step = self.current
        stored = storage.record_answer(
            self._db,
            self.id,
            step.item.id,
            value,
            language=self._require_language(),
            vas_line_mm=vas_line_mm if step.item.type == "vas" else None,
            position=self._position,
        )
        response = _response(step.item, stored)
        self._responses[step.item.id] = response
        return response

    def skip(self) -> Response:
        """Record an explicit skip of the current item (optional items only; asked to confirm)."""
        step = self.current
        if not step.item.optional:
            raise FlowError(f"{step.item.id} is not optional: it cannot be skipped")
        storage.record_answer(
            self._db,
            self.id,
            step.item.id,
            SKIPPED,
            language=self._require_language(),
            position=self._position,
        )
        response = Response(None, skipped=True)
        self._responses[step.item.id] = response
        return response

    def next(self) -> Phase:
        """On to the next item, or to the review list after the last one or after a change."""
        if not self.can_advance:
            raise FlowError("Next needs an answer or an explicit skip first")
        if self._returns_to_review or self._position + 1 >= len(self.steps):
            self._move(len(self.steps))
        else:
            self._move(self._position + 1)
        return self._phase

    def back(self) -> Phase:
        """Back to the previous item (its answer stays and is shown)."""
        if self._phase is Phase.REVIEW:
            self._move(len(self.steps) - 1)
        elif self.can_go_back:
            self._move(self._position - 1)
        else:
            raise FlowError("there is no previous item")
        return self._phase

    def change(self, index: int) -> Step:
        """From the review list, open item `index`; Next then returns to the review."""
        self._require(Phase.REVIEW)
        if not 0 <= index < len(self.steps):
            raise FlowError(f"no item at position {index}")
        self._move(index)
        self._returns_to_review = True
        return self.current

    def submit(self) -> None:
        """Send the answers: storage scores them and locks the session."""
        self._require(Phase.REVIEW)
        if not self.complete:
            raise FlowError("every item needs an answer or a skip before submitting")
        self.record = storage.submit_session(self._db, self.id)
        self._phase = Phase.SUBMITTED

    def park(self, *, staff: Staff | None = None) -> None:
        """Save the session for later at the current position (idle timeout, or staff)."""
        if self._phase in (Phase.PARKED, Phase.SUBMITTED):
            return
        self.record = storage.park_session(self._db, self.id, position=self._position, staff=staff)
        self._phase = Phase.PARKED

    # -- inside --------------------------------------------------------------------------------

    def _phase_at(self, position: int) -> Phase:
        return Phase.REVIEW if position >= len(self.steps) else Phase.ITEMS

    def _require(self, phase: Phase) -> None:
        if self._phase is not phase:
            raise FlowError(f"the session is in {self._phase.value}, not {phase.value}")

    def _require_language(self) -> str:
        if self.record.language is None:
            raise FlowError("the patient has not chosen a language yet")
        return self.record.language

    def _move(self, position: int) -> None:
        self._position = position
        self._returns_to_review = False
        self._phase = self._phase_at(position)
        self._save_position()

    def _save_position(self) -> None:
        """Store the position so that a crash resumes here."""
        storage.set_position(self._db, self.id, self._position)
