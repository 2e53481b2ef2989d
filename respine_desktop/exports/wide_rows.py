"""The ``visits_wide.csv`` records of one subject, made straight from its record.

The same text as `visit_values` + `missing_codes.wide_head` / `wide_values` written through
`csv_export.csv_line` (the rules are theirs, see those modules; the reference path stays the one
REDCap, ODM and the statistics files use), in a fraction of the time, for the CSV export of a
large study:

* scores: the subject's stored current score rows of the running scoring version (read with
  ``current_scores``, see `storage.export_reads`) stand for the scores computed from the current
  answers when there is no doubt that they are the same: every instrument answered in the
  session has a stored row per scoring method, no method has two, and no item has two current
  answers (a fork a merge left, on which verify's order and the export's could differ). The
  merge recomputes every score from the merged answers and `verify` checks that every current
  row equals its recomputation (check 6), so the values are those `score_answers` gives;
  otherwise, for any doubt, the session is scored by `score_answers`, as before;
* endpoints: `fast_endpoints.fast_endpoint_values`, the same values in integer arithmetic;
* cells: each visit's missing-value codes worked out once per visit code and reason, and the
  texts of the missing parts of a visit (no answers, no scores, no endpoints) joined once.

Each record is its fields quoted one by one by `csv_export._quoted` and joined, which is what
`csv_export.csv_line` writes for any fields.

A subject read a row per session (`SessionLines`) has its records made from those rows
(`WideRows.subject_from_sessions`) when each session's current answers are sure to be all its
rows and its item cells SQLite's: every session alone at its visit (no conflict, each its
visit's chosen one), no row superseding another, the rows exactly the columns of whole runs of
one instrument's columns (checked by the column characters of `SessionLines.positions`: each
item once, of its column's instrument), no value SQLite leaves to Python, and stored scores
for every submitted session (scoring needs the values). The same loop (`_records`) makes both
ways' records; only a session's current answers differ in form (`_RowAnswers`, `_CellAnswers`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence, Set
from datetime import date
from itertools import groupby
from operator import attrgetter
from typing import Any, TypeVar

from respine_desktop import json_text
from respine_desktop.exports.fast_endpoints import Memo, fast_endpoint_values
from respine_desktop.exports.missing_codes import MissingCode
from respine_desktop.exports.visit_values import (
    _SCORE_KEYS,
    CONFLICT,
    ENDPOINT_NAMES,
    SCORE_COLUMNS,
    SCORE_NAMES,
    WITHDRAWN,
    ScoreValue,
    _withdrawn,
    last_written,
    score_answers,
)
from respine_desktop.storage import Session, choose_session
from respine_desktop.storage.export_reads import (
    AnswerFields,
    AnswerLine,
    SessionLines,
    SubjectRecord,
)
from respine_desktop.storage.stored_values import score_numbers
from respine_desktop.study import Study

_A = TypeVar("_A", bound=AnswerFields)
_S = MissingCode.SKIPPED.value
_N = MissingCode.NOT_DUE.value
_U = MissingCode.UNCOMPUTABLE.value
_D = MissingCode.UNDETERMINED.value
_NO_SCORES: dict[str, ScoreValue] = dict.fromkeys(SCORE_NAMES)
_SCORE_INSTRUMENT = {c[0]: c[1] for c in SCORE_COLUMNS}
_INSTRUMENT_ID = attrgetter("instrument_id")
_ID = attrgetter("id")
_WRITTEN = attrgetter("written")
_ITEM_ID = attrgetter("item_id")
_SESSION_ID = attrgetter("session_id")
_STATUS = attrgetter("status")
_SUPERSEDES = attrgetter("supersedes")
# instrument -> [(stored method, its column names, the keys of their values)]
_SCORE_COLUMNS_OF = {
    instrument: [
        (method, tuple(name for name, _ in columns), tuple(key for _, key in columns))
        for method, columns in methods.items()
    ]
    for instrument, methods in _SCORE_KEYS.items()
}


def _gap(status: str, session: Session | None) -> str | None:
    """`missing_codes.visit_gap` of a visit: its status (after conflict / withdrawal) and its
    chosen session."""
    if status == WITHDRAWN:
        return MissingCode.WITHDRAWN.value
    if session is None:
        return MissingCode.MISSED.value if status in ("missed", "overdue") else _N
    if session.state != "submitted":
        return MissingCode.INCOMPLETE.value
    return None


def _current(rows: list[_A]) -> tuple[dict[str, _A], bool]:
    """`visit_values._current` of one session's rows, and whether an item had two current rows
    (a fork: the later one wins, by the export's order)."""
    superseded = set(map(_SUPERSEDES, rows))
    superseded.discard(None)
    if not superseded:  # most sessions: every row is current (built in C, the same dict)
        out = dict(zip(map(_ITEM_ID, rows), rows, strict=True))
        return out, len(rows) != len(out)
    out = {}
    current = 0
    for a in rows:
        if a.id not in superseded:
            out[a.item_id] = a
            current += 1
    return out, current != len(out)


def _by_session(answers: Sequence[_A]) -> tuple[dict[str, list[_A]], set[str]]:
    """A subject's answers by session (each session's in their order), and the sessions with an
    answered (not skipped) row. Taken by runs of one session (a subject's sessions mostly come
    one after the other): a look-up per run, not per row."""
    by_session: dict[str, list[_A]] = {}
    for session_id, run in groupby(answers, _SESSION_ID):
        rows = by_session.get(session_id)
        if rows is None:
            by_session[session_id] = list(run)
        else:
            rows.extend(run)
    answered = {k for k, rows in by_session.items() if "answered" in map(_STATUS, rows)}
    return by_session, answered


def _score_values(text: str) -> dict[str, ScoreValue]:
    """The values of a stored score row's JSON text; {} unless an object of numbers and nulls."""
    try:
        values = json_text.loads(text)
    except ValueError:
        return {}
    # NaN, Infinity, an integer no double holds, a VAS or ODI off 0..100: edited (the scorers
    # write none), scored from the answers instead (endpoints refuse them: a traceback)
    if not isinstance(values, dict) or not score_numbers(values):
        return {}
    return values


class _NeedsRows(Exception):
    """A session of a subject read with ``session_lines`` needs its answer rows."""


class _RowAnswers:
    """A session's current answers as rows (`_current`)."""

    __slots__ = ("answers", "forked")

    def __init__(self, answers: dict[str, AnswerFields], forked: bool) -> None:
        self.answers = answers
        self.forked = forked

    @property
    def empty(self) -> bool:
        return not self.answers

    def instruments(self) -> set[str]:
        return set(map(_INSTRUMENT_ID, self.answers.values()))

    def items(self, wide: WideRows, code: str, gap: str | None) -> str:
        texts = wide.texts
        missing = wide._fallback(code, gap)[0]
        return ",".join(
            [
                m if a is None else (_S if a.status == "skipped" else texts[a.value])
                for a, m in zip(map(self.answers.get, wide.item_ids), missing, strict=True)
            ]
        )

    def computed(self, study: Study) -> dict[str, ScoreValue]:
        return score_answers(study, self.answers)


class _CellAnswers:
    """A session's current answers as SQLite's cells of whole runs of columns (`SessionLines`):
    `blocks` by run (see `WideRows.runs`), `present` the instruments they are of."""

    __slots__ = ("blocks", "present")
    forked = False

    def __init__(self, blocks: dict[int, str], present: set[str]) -> None:
        self.blocks = blocks
        self.present = present

    @property
    def empty(self) -> bool:
        return not self.blocks

    def instruments(self) -> set[str]:
        return self.present

    def items(self, wide: WideRows, code: str, gap: str | None) -> str:
        blocks = self.blocks
        return ",".join(
            [blocks.get(k, missing) for k, missing in enumerate(wide._run_fallback(code, gap))]
        )

    def computed(self, study: Study) -> dict[str, ScoreValue]:
        raise _NeedsRows  # scoring needs the values: the subject is read as rows


_Answers = _RowAnswers | _CellAnswers
_NO_ANSWERS = _CellAnswers({}, set())


class WideRows:
    """Makes the visits_wide records of one subject after another (see the module).

    `items` are (item id, instrument id) in column order; `texts` gives the CSV text of a value
    (`csv_export.cell`, memoised); `quoted` a field as RFC 4180 needs it (`csv_export._quoted`).
    """

    def __init__(
        self,
        study: Study,
        items: Sequence[tuple[str, str]],
        texts: Mapping[object, str],
        quoted: Callable[[str], str],
    ) -> None:
        self.study = study
        self.items = tuple(items)
        self.item_ids = tuple(item_id for item_id, _ in items)
        # runs of adjacent columns of one instrument: (instrument, first column, end)
        self.runs: list[tuple[str, int, int]] = []
        for k, (_, instrument) in enumerate(self.items):
            if self.runs and self.runs[-1][0] == instrument:
                self.runs[-1] = (instrument, self.runs[-1][1], k + 1)
            else:
                self.runs.append((instrument, k, k + 1))
        # each run's columns as `SessionLines.positions` has them
        self.run_positions = ["".join(chr(48 + k) for k in range(a, b)) for _, a, b in self.runs]
        self.run_at = {chars[0]: k for k, chars in enumerate(self.run_positions)}
        self.present: dict[str, tuple[int, ...] | None] = {}
        self.run_fallbacks: dict[tuple[str, str | None], list[str]] = {}
        self.texts = texts
        self.quoted = quoted
        codes = study.visit_codes
        self.numbers = {c: texts[k + 1] for k, c in enumerate(codes)}
        self.given = {c: frozenset(study.visit(c).instruments) for c in codes}
        self.baseline_code = study.endpoint.baseline_visit
        self.loaded: dict[str, dict[str, ScoreValue]] = {}
        self.fallbacks: dict[tuple[str, str | None], tuple[list[str], list[str], list[str]]] = {}
        self.empty: dict[tuple[str, str | None], str] = {}
        self.session_days: dict[str, date] = {}
        self.endpoints: Memo = {}

    # -- the missing parts, by visit code and reason ---------------------------------------

    def _fallback(self, code: str, gap: str | None) -> tuple[list[str], list[str], list[str]]:
        """The text of each item, score and endpoint cell of a visit when its value is missing."""
        key = (code, gap)
        found = self.fallbacks.get(key)
        if found is None:
            given = self.given.get(code, frozenset())
            baseline = code == self.baseline_code
            found = self.fallbacks[key] = (
                [_N if instrument not in given else (gap or _S) for _, instrument in self.items],
                [
                    _N if _SCORE_INSTRUMENT[name] not in given else (gap or _U)
                    for name in SCORE_NAMES
                ],
                [_N if baseline else (gap or _D) for _ in ENDPOINT_NAMES],
            )
        return found

    def _run_fallback(self, code: str, gap: str | None) -> list[str]:
        """`_fallback`'s item texts of a visit, joined run by run."""
        key = (code, gap)
        found = self.run_fallbacks.get(key)
        if found is None:
            items = self._fallback(code, gap)[0]
            found = self.run_fallbacks[key] = [",".join(items[a:b]) for _, a, b in self.runs]
        return found

    def _empty(self, code: str, gap: str | None) -> str:
        """The values text of a visit without answers, scores or endpoints."""
        key = (code, gap)
        found = self.empty.get(key)
        if found is None:
            items, scores, ends = self._fallback(code, gap)
            found = self.empty[key] = ",".join([*items, *scores, *ends])
        return found

    # -- scores -----------------------------------------------------------------------------

    def _stored(self, text: str) -> dict[str, ScoreValue] | None:
        """The values of a stored score row; None if its text is not an object of numbers and
        nulls (a damaged row: the session is then scored from its answers)."""
        values = self.loaded.get(text)
        if values is None:
            if len(self.loaded) >= 8192:  # the unique SF-36 texts would fill it: memory flat
                self.loaded.clear()
            values = self.loaded[text] = _score_values(text)
        return values or None

    def _scores(
        self, answers: _Answers, stored: Mapping[tuple[str, str], str | None] | None
    ) -> dict[str, ScoreValue]:
        """The score columns of a submitted session (see the module: stored, else computed)."""
        if not answers.forked and stored is not None:
            out = dict(_NO_SCORES)
            for instrument in answers.instruments():
                methods = _SCORE_COLUMNS_OF.get(instrument)
                if methods is None:
                    break
                for method, names, keys in methods:
                    text = stored.get((instrument, method))
                    if text is None:
                        break
                    values = self._stored(text)
                    if values is None:
                        break
                    out.update(zip(names, map(values.get, keys), strict=True))
                else:
                    continue
                break
            else:
                return out
        return answers.computed(self.study)

    # -- the records --------------------------------------------------------------------------

    def subject(
        self, record: SubjectRecord, given: Sequence[AnswerLine] | None = None
    ) -> tuple[str, set[str]]:
        """The subject's records, and the ids of the current answers of its visits' chosen
        sessions (answers_long's ``counted`` column). Its answers are `given` if given (what a
        record read with ``answer_lines`` has), else ``record.answers``. Of two current rows of
        an item (a fork), the one written last counts (`AnswerLine.written`, else
        `SubjectRecord.written`; without either, the later in the export's order)."""
        rows: Sequence[AnswerFields] = record.answers if given is None else given
        by_session, answered = _by_session(rows)
        counted: set[str] = set()
        order = record.written
        rank: Callable[[Any], int] | None = _WRITTEN if given is not None else None
        if given is None and order:
            rank = lambda a: order[a.id]  # noqa: E731

        def current(session: Session) -> _Answers:
            rows = by_session.get(session.id, [])
            answers, forked = _current(rows)
            if forked and rank is not None:
                superseded = {a.supersedes for a in rows}
                answers = last_written((a for a in rows if a.id not in superseded), rank)
            counted.update(map(_ID, answers.values()))
            return _RowAnswers(answers, forked)

        return self._records(record, answered, current), counted

    def subject_from_sessions(self, record: SubjectRecord) -> str | None:
        """`subject`'s records of a subject read with ``session_lines`` (`SessionLines`), or
        None if they may not be those: unless every session is alone at its visit (so no
        conflict, and each is its visit's chosen one), and each session with answers has no row
        that supersedes another and rows of whole runs of columns (each item once, of its
        column's instrument, none of no column), with cells SQLite wrote as Python does; and
        unless every submitted one's scores are its stored rows (`_scores`). Then each
        session's current answers are all its rows, and its cells those of `subject`."""
        codes = [s.visit_code for s in record.sessions]
        if len(set(codes)) != len(codes):
            return None
        rows = {row.session_id: row for row in record.session_lines}
        if not rows.keys() <= {s.id for s in record.sessions}:
            return None
        blocks_of = self._blocks

        def current(session: Session) -> _Answers:
            row = rows.get(session.id)
            if row is None:
                return _CellAnswers({}, set())
            found = blocks_of(row)
            if found is None:
                raise _NeedsRows
            return found

        try:
            return self._records(record, frozenset(), current)
        except _NeedsRows:
            return None

    def _blocks(self, row: SessionLines) -> _CellAnswers | None:
        """A session's cells by run of columns (see `subject_from_sessions`), or None."""
        if row.superseding or type(row.cells) is not str or "\n" in row.cells:
            return None
        present = self.present.get(row.positions, ())
        if present == ():
            if type(row.positions) is not str:
                return None
            present = self._present(row.positions)
        if present is None:
            return None
        blocks = row.cells.split("\x1e")
        if blocks[0] or len(blocks) != len(present) + 1:
            return None
        return _CellAnswers(
            dict(zip(present, blocks[1:], strict=True)), {self.runs[k][0] for k in present}
        )

    def _present(self, positions: str) -> tuple[int, ...] | None:
        """The runs whose columns `positions` is, each whole and once, in the order given (a
        session's rows come in the order of its index of items, not of the columns), or
        None."""
        runs: list[int] = []
        at = 0
        found: tuple[int, ...] | None = None
        while at < len(positions):
            k = self.run_at.get(positions[at])
            if k is None or k in runs or not positions.startswith(self.run_positions[k], at):
                break
            runs.append(k)
            at += len(self.run_positions[k])
        else:
            found = tuple(runs) if runs else None
        if len(self.present) >= 4096:
            self.present.clear()
        self.present[positions] = found
        return found

    def _records(
        self,
        record: SubjectRecord,
        answered: Set[str],
        current: Callable[[Session], _Answers],
    ) -> str:
        """The subject's records; `answered` the sessions with an answered row, `current` a
        session's current answers."""
        study = self.study
        texts = self.texts
        quoted = self.quoted
        subject = record.subject
        day0 = subject.day0
        w = record.withdrawal
        withdrawn_on = w.withdrawn_on if w is not None else None
        who = f"{quoted(subject.code)},{quoted(texts[subject.site_code])}"
        born = f"{texts[day0]},{texts[subject.year_of_birth]}"
        tail = f"{texts[withdrawn_on]},{quoted(texts[w.reason if w is not None else None])}"
        by_visit: dict[str, list[Session]] = {}
        for s in record.sessions:
            by_visit.setdefault(s.visit_code, []).append(s)
        stored: dict[str, dict[tuple[str, str], str | None]] = {}
        for row in record.current_scores:
            rows = stored.setdefault(row.session_id, {})
            key = (row.instrument_id, row.method)
            rows[key] = None if key in rows else row.scores  # two current rows: recompute
        baseline: Mapping[str, ScoreValue] | None = None
        out: list[str] = []
        for planned in record.schedule:
            code = planned.code
            sessions = by_visit.get(code, [])
            session = choose_session(sessions)
            status: str = planned.status
            if sum(1 for s in sessions if s.id in answered) > 1:
                status = CONFLICT
            elif withdrawn_on is not None and _withdrawn(planned, withdrawn_on):
                status = WITHDRAWN
            answers: _Answers = _NO_ANSWERS
            scores = _NO_SCORES
            started: date | None = None
            if session is not None:
                answers = current(session)
                if session.state == "submitted":
                    scores = self._scores(answers, stored.get(session.id, {}))
                started = self._session_day(session.started_at)
            ends: Mapping[str, object] | None = None
            if code == self.baseline_code:
                baseline = scores
            elif baseline is not None:
                ends = fast_endpoint_values(study, baseline, scores, self.endpoints)
            gap = _gap(status, session)
            if answers.empty and scores is _NO_SCORES:
                values = self._empty(code, gap)  # no endpoint without a score here
            else:
                values = self._values(code, gap, answers.items(self, code, gap), scores, ends)
            when = planned.actual_date or started
            out.append(
                ",".join(
                    [
                        who,
                        quoted(code),
                        self.numbers.get(code, ""),
                        born,
                        texts[planned.actual_date],
                        texts[(when - day0).days if when is not None else None],
                        quoted(session.id) if session is not None else "",
                        texts[started],
                        quoted(status),
                        tail,
                        values,
                    ]
                )
                + "\r\n"
            )
        return "".join(out)

    def _session_day(self, started_at: str) -> date:
        day = self.session_days.get(started_at[:10])
        if day is None:
            day = self.session_days[started_at[:10]] = date.fromisoformat(started_at[:10])
        return day

    def _values(
        self,
        code: str,
        gap: str | None,
        items: str,
        scores: Mapping[str, ScoreValue],
        ends: Mapping[str, object] | None,
    ) -> str:
        """The item, score and endpoint cells of a visit with answers or scores (`items`: the
        item cells' text)."""
        texts = self.texts
        _, score_gaps, end_gaps = self._fallback(code, gap)
        cells = [items] if self.item_ids else []
        cells += [
            missing if value is None else texts[value]
            for value, missing in zip(map(scores.get, SCORE_NAMES), score_gaps, strict=True)
        ]
        if ends is None:
            cells += end_gaps
        else:
            cells += [
                missing if value is None else texts[value]
                for value, missing in zip(map(ends.get, ENDPOINT_NAMES), end_gaps, strict=True)
            ]
        return ",".join(cells)
