"""The one set of validators for every way data enters: kiosk, console, CLI and bundle merge.

Each check takes a value and returns it (as stored) or raises `InvalidInput` naming the rule it
breaks. The local write paths call them (an answer's value: `check_answer_value`; a subject:
`check_site_code`, `check_subject_code`) and the bundle merge runs `check_row` on
every row of every table before it writes anything, so a signed bundle cannot bring in what the
kiosk itself would have refused:

- ids: UUID text (lower-case, 36 characters); the audit sequence an integer >= 1; hashes
  64 hex digits;
- times: the stored format ``YYYY-MM-DDTHH:MM:SS.mmmZ``; dates (day 0, a visit's date) ISO
  ``YYYY-MM-DD``; a year of birth in 1900..2100;
- site codes 2-8 digits or capital letters; subject codes ``RSP-<site>-<NNN>`` of their own site;
  visit codes of the study; staff roles and usernames;
- states: visits ``in_progress | parked | complete | missed`` (a missed visit has a reason, a
  complete one a date); sessions ``in_progress | parked | submitted`` (a submitted session has
  its submission time, an open one no submission);
- answers: a known item of its instrument, ``answered`` with a value or ``skipped`` without one,
  the value one of the item's codes (ODI 0-5, SF-36 per item from the instrument file) or within
  the VAS range on its 0.1 mm step (`Item.validate`, the kiosk's rule); a known language; the
  value and the VAS line as SQLite stores them in their REAL columns (a float, never -0.0: an
  int or -0.0 would be stored as another value than the one the audit digest covers);
- scores: a known instrument and method, the values a JSON object of numbers or nulls, a
  superseded row naming what superseded it;
- texts: no longer than `MAX_TEXT` characters (a reason, a label), JSON payloads parse.

The merge's forward-only rules (what a bundle may change in a row the hub has) are in
`_merge_rules`; this module looks at one row at a time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import cache
from operator import itemgetter
from typing import Any, cast

from respine_desktop import json_text
from respine_desktop.instruments import Item, load_instruments
from respine_desktop.storage._calibrations import UNCALIBRATED
from respine_desktop.storage._database import check_site_code
from respine_desktop.storage._errors import InvalidAnswer, InvalidInput
from respine_desktop.storage._subjects import check_subject_code
from respine_desktop.storage.stored_values import score_number

__all__ = [
    "MAX_TEXT",
    "RowChecker",
    "check_answer_value",
    "check_row",
    "check_site_code",
    "check_subject_code",
]

MAX_TEXT = 2000
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\Z")
_HASH = re.compile(r"^[0-9a-f]{64}\Z")
_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\Z")
# A lone UTF-16 surrogate (a JSON "\udc00" Python's reader accepts): no UTF-8 text, so SQLite
# cannot store it nor a digest hash it (tests/storage/test_merge_raw_attacks.py).
_SURROGATE = re.compile("[\ud800-\udfff]")
_DATE = re.compile(r"^\d{4}-\d\d-\d\d\Z")
_USERNAME = re.compile(r"^[a-z][a-z0-9._-]{1,31}(@[a-z0-9]{2,8}\.[0-9a-f]{6}(\.[0-9]+)?)?\Z")
_LANGUAGE = re.compile(r"^[a-z]{2}(-[A-Z]{2})?\Z")
_ROLES = frozenset({"admin", "investigator", "coordinator"})
_VISIT_STATES = frozenset({"in_progress", "parked", "complete", "missed"})
_SESSION_STATES = frozenset({"in_progress", "parked", "submitted"})
_STATUSES = frozenset({"answered", "skipped"})


def check_answer_value(item: Item, value: object) -> float:
    """A valid answer to `item` as stored (a float), else InvalidAnswer naming the rule broken:
    not a code of the item, outside the range, finer than the step (`Item.validate`)."""
    try:
        return float(item.validate(value))
    except ValueError as exc:
        raise InvalidAnswer(str(exc)) from None


# -- field checks: each returns None or raises InvalidInput -------------------------------------


def _fail(value: object, rule: str) -> InvalidInput:
    shown = repr(value)
    if len(shown) > 60:
        shown = f"{shown[:40]}... ({len(shown)} characters)"
    return InvalidInput(f"{shown} {rule}")


def _id(value: object) -> str:
    if not isinstance(value, str) or not _UUID.match(value):
        raise _fail(value, "is not an id (a UUID)")
    return value


def _opt_id(value: object) -> None:
    if value is not None:
        _id(value)


def _time(value: object) -> str:
    if not isinstance(value, str) or not _TIME.match(value):
        raise _fail(value, "is not a stored time (2026-03-02T09:30:00.000Z)")
    try:
        datetime.fromisoformat(value[:-1])
    except ValueError:
        raise _fail(value, "is not a stored time (2026-03-02T09:30:00.000Z)") from None
    return value


def _opt_time(value: object) -> None:
    if value is not None:
        _time(value)


def _date(value: object) -> str:
    if not isinstance(value, str) or not _DATE.match(value):
        raise _fail(value, "is not a date (YYYY-MM-DD)")
    try:
        date.fromisoformat(value)
    except ValueError:
        raise _fail(value, "is not a date (YYYY-MM-DD)") from None
    return value


def _opt_date(value: object) -> None:
    if value is not None:
        _date(value)


def _text(value: object) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise _fail(value, f"is not a text of 1 to {MAX_TEXT} characters")
    _no_surrogate(value)
    return value


def _no_surrogate(value: str) -> None:
    # an ASCII text has no surrogate (`isascii` reads a flag of the string: no scan)
    if not value.isascii() and _SURROGATE.search(value):
        raise _fail(value, "is not UTF-8 text (a lone surrogate)")


def _withdrawal_reason(value: object) -> str:
    """A withdrawal's reason: a text of 1 to 500 characters (`_withdrawal.MAX_REASON`)."""
    if not isinstance(value, str) or not value.strip() or len(value) > 500:
        raise _fail(value, "is not a reason of 1 to 500 characters")
    _no_surrogate(value)
    return value


def _opt_text(value: object) -> None:
    if value is not None:
        _text(value)


def _calibration(value: object) -> None:
    """An answer's VAS calibration: none, ``uncalibrated`` or a calibration's id."""
    if (
        value is not None
        and value != UNCALIBRATED
        and not (isinstance(value, str) and _UUID.match(value))
    ):
        raise _fail(value, "is not a calibration's id (a UUID) nor 'uncalibrated'")


def _int(value: object, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _fail(value, f"is not an integer in {low}..{high}")
    return value


def _one_of(choices: frozenset[str]) -> Callable[[object], None]:
    def check(value: object) -> None:
        if value not in choices:
            raise _fail(value, f"is not one of {', '.join(sorted(choices))}")

    return check


def _site(value: object) -> None:
    if not isinstance(value, str):
        raise _fail(value, "is not a site code")
    check_site_code(value)


def _opt_site(value: object) -> None:
    if value is not None:
        _site(value)


def _username(value: object) -> None:
    if not isinstance(value, str) or not _USERNAME.match(value):
        raise _fail(value, "is not a username")


def _language(value: object) -> None:
    if not isinstance(value, str) or not _LANGUAGE.match(value):
        raise _fail(value, "is not a language code")


def _opt_language(value: object) -> None:
    if value is not None:
        _language(value)


def _hash(value: object) -> None:
    if not isinstance(value, str) or not _HASH.match(value):
        raise _fail(value, "is not a SHA-256 (64 hex digits)")


def _json_object(value: object) -> Mapping[str, Any]:
    if isinstance(value, str):
        _no_surrogate(value)
    try:
        parsed = json_text.loads(value) if isinstance(value, str) else None
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise _fail(value, "is not a JSON object")
    return parsed


def _any(value: object) -> None:
    """A plain value (text, number or null), checked further with its row (`_ROW_RULES`)."""
    if value is not None and type(value) not in (str, int, float):
        raise _fail(value, "is not a text, a number or null")
    if type(value) is str:
        _no_surrogate(value)


_Field = Callable[[object], object]

# Per table, per column (the bundle's column order): the field's check.
_FIELDS: Mapping[str, Mapping[str, _Field]] = {
    "sites": {"code": _site, "created_at": _time},
    "devices": {"id": _id, "label": _text, "site_code": _opt_site, "registered_at": _time},
    "staff": {
        "id": _id,
        "username": _username,
        "role": _one_of(_ROLES),
        "active": lambda v: _int(v, 0, 1),
        "created_at": _time,
        "created_by": _opt_id,
    },
    "subjects": {
        "id": _id,
        "code": _any,
        "site_code": _site,
        "day0": lambda v: _date(v),
        "year_of_birth": lambda v: v is None or _int(v, 1900, 2100),
        "device_id": _id,
        "created_at": _time,
        "created_by": _opt_id,
    },
    "visits": {
        "id": _id,
        "subject_id": _id,
        "visit_code": _any,
        "state": _one_of(_VISIT_STATES),
        "actual_date": _opt_date,
        "missed_reason": _opt_text,
        "updated_at": _time,
    },
    "sessions": {
        "id": _id,
        "visit_id": _id,
        "subject_id": _id,
        "visit_code": _any,
        "state": _one_of(_SESSION_STATES),
        "position": lambda v: _int(v, 0, 10_000),
        "language": _opt_language,
        "device_id": _id,
        "started_at": _time,
        "started_by": _opt_id,
        "parked_at": _opt_time,
        "parked_by": _opt_id,
        "resumed_at": _opt_time,
        "resumed_by": _opt_id,
        "submitted_at": _opt_time,
        "submitted_by": _opt_id,
    },
    "session_choices": {
        "id": _id,
        "visit_id": _id,
        "session_id": _id,
        "chosen_at": _time,
        "chosen_by": _id,
        "device_id": _id,
        "reason": _text,
    },
    "answers": {
        "id": _id,
        "session_id": _id,
        "instrument_id": _any,
        "instrument_version": _text,
        "instrument_checksum": _text,
        "item_id": _any,
        "value": _any,
        "status": _one_of(_STATUSES),
        "language": _language,
        "app_version": _text,
        "device_id": _id,
        "given_at": _time,
        "given_by": _opt_id,
        "supersedes": _opt_id,
        "reason": _opt_text,
        "vas_line_mm": _any,
        # the calibration in force when a VAS line was drawn: its id, or "uncalibrated"
        "vas_calibration": _calibration,
    },
    "scores": {
        "id": _id,
        "session_id": _id,
        "instrument_id": _any,
        "method": _any,
        "scores": _json_object,
        "scoring_version": _text,
        "computed_at": _time,
        "computed_by": _opt_id,
        "device_id": _id,
        "superseded_at": _opt_time,
        "superseded_by": _opt_id,
    },
    # withdrawals branch: a subject's withdrawal (an optional bundle member)
    "withdrawals": {
        "id": _id,
        "subject_id": _id,
        "withdrawn_on": _date,
        "reason": _withdrawal_reason,
        "recorded_at": _time,
        "recorded_by": _id,
        "device_id": _id,
    },
    "audit_log": {
        "id": _id,
        "device_id": _id,
        "seq": lambda v: _int(v, 1, 2**62),
        "at": _time,
        "actor": _opt_id,
        "action": _text,
        "subject_id": _opt_id,
        "entity": _text,
        "entity_id": _any,
        "payload": _json_object,
        "prev_hash": _hash,
        "hash": _hash,
    },
}


# -- row checks: rules between the fields of one row ---------------------------------------------


@cache
def _items() -> Mapping[str, tuple[str, Item]]:
    return {i.id: (inst.id, i) for inst in load_instruments().values() for i in inst.items}


@cache
def _choice_codes() -> Mapping[str, frozenset[float]]:
    return {
        item_id: frozenset(float(c) for c in item.codes)
        for item_id, (_, item) in _items().items()
        if item.type == "choice"
    }


def _subject(row: Mapping[str, Any], visits: frozenset[str]) -> tuple[str, str] | None:
    code = row["code"]
    if not isinstance(code, str):
        return "code", f"{code!r} is not a subject code"
    try:
        check_subject_code(code, row["site_code"])
    except InvalidInput as exc:
        return "code", str(exc)
    return None


def _visit_code(row: Mapping[str, Any], visits: frozenset[str]) -> tuple[str, str] | None:
    if row["visit_code"] not in visits:
        return "visit_code", f"{row['visit_code']!r} is not a visit of the study"
    return None


def _visit(row: Mapping[str, Any], visits: frozenset[str]) -> tuple[str, str] | None:
    found = _visit_code(row, visits)
    if found:
        return found
    if row["state"] == "missed" and row["missed_reason"] is None:
        return "missed_reason", "a missed visit needs its reason"
    if row["state"] != "missed" and row["missed_reason"] is not None:
        return "missed_reason", f"a visit {row['state']} has no missed reason"
    return None


def _session(row: Mapping[str, Any], visits: frozenset[str]) -> tuple[str, str] | None:
    found = _visit_code(row, visits)
    if found:
        return found
    submitted = row["state"] == "submitted"
    if submitted and row["submitted_at"] is None:
        return "submitted_at", "a submitted session has its submission time"
    for column in ("submitted_at", "submitted_by"):
        if not submitted and row[column] is not None:
            return column, f"a session {row['state']} has none"
    return None


def _as_stored_real(column: str, value: object) -> tuple[str, str] | None:
    """None when a REAL column stores `value` (a number already checked) as it is and reads it
    back the same: a float other than -0.0. SQLite stores an int as a float (3 -> 3.0) and
    -0.0 as 0.0: the hub would hold a value other than the one the bundle's audit digest was
    taken over (the merge checks the digests of the rows as parsed), and fail its own verify.
    The kiosk stores floats (`check_answer_value`, `_sessions`): a bundle of its rows has no
    other."""
    if value.__class__ is float and (value or math.copysign(1.0, value) > 0):
        return None
    stored = float(cast(float, value)) + 0.0  # (-0.0 + 0.0 is 0.0)
    return column, f"{value!r} is not stored as the kiosk stores it ({stored!r})"


def _answer(row: Mapping[str, Any], visits: frozenset[str]) -> tuple[str, str] | None:
    known = _items().get(row["item_id"]) if isinstance(row["item_id"], str) else None
    if known is None:
        return "item_id", f"{row['item_id']!r} is not an item of any instrument"
    if known[0] != row["instrument_id"]:
        return "instrument_id", f"{row['instrument_id']!r} is not the instrument of {known[1].id}"
    line = row["vas_line_mm"]
    if line is not None and (
        known[1].type != "vas"
        or isinstance(line, bool)
        or not isinstance(line, int | float)
        or not math.isfinite(line)
        or not 0 < line <= 1000
    ):
        return "vas_line_mm", f"{line!r} is not a VAS line length"
    if line is not None and (problem := _as_stored_real("vas_line_mm", line)) is not None:
        return problem
    problem = _answer_value(row, known[1])
    if problem is None and line is None and row["vas_calibration"] is not None:
        return "vas_calibration", "an answer not drawn on a VAS line has no calibration"
    return problem


def _answer_value(row: Mapping[str, Any], item: Item) -> tuple[str, str] | None:
    value = row["value"]
    if row["status"] == "skipped":
        return None if value is None else ("value", f"{value!r}: a skipped item has no value")
    codes = _choice_codes().get(row["item_id"])
    if codes is not None and type(value) in (int, float) and value in codes:
        return _as_stored_real("value", value)  # the fast path of a valid code
    if codes is not None and isinstance(value, float) and value.is_integer():
        value = int(value)  # a code stored as REAL is that code (`Item.validate` wants an int)
    try:
        stored = check_answer_value(item, value)
    except InvalidInput as exc:
        return "value", str(exc)
    if stored != value:
        return "value", f"{value!r} is not stored as the kiosk stores it ({stored!r})"
    return _as_stored_real("value", value)


def _score(row: Mapping[str, Any], visits: frozenset[str]) -> tuple[str, str] | None:

    instrument = row["instrument_id"]
    if instrument not in _instrument_ids():
        return "instrument_id", f"{instrument!r} is not an instrument"
    if row["method"] not in _method_names(instrument):
        return "method", f"{row['method']!r} is not a method of {instrument}"
    for key, value in json_text.loads(row["scores"]).items():
        if not score_number(None, value):  # (an integer no double holds too: no OverflowError)
            return "scores", f"{key} = {value!r} is not a number"
    if (row["superseded_at"] is None) != (row["superseded_by"] is None):
        return "superseded_by", "a superseded score names its time and its replacement"
    return None


@cache
def _method_names(instrument: str) -> frozenset[str]:
    from respine_desktop import scoring

    return frozenset(m.name for m in scoring.registry.methods(instrument))


@cache
def _instrument_ids() -> frozenset[str]:
    return frozenset(load_instruments())


_ROW_RULES: Mapping[str, Callable[[Mapping[str, Any], frozenset[str]], tuple[str, str] | None]] = {
    "subjects": _subject,
    "visits": _visit,
    "sessions": _session,
    "answers": _answer,
    "scores": _score,
}
# The columns each row rule reads (its memo key).
_RULE_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "subjects": ("code", "site_code"),
    "visits": ("visit_code", "state", "missed_reason"),
    "sessions": ("visit_code", "state", "submitted_at", "submitted_by"),
    "answers": ("item_id", "instrument_id", "value", "status", "vas_line_mm", "vas_calibration"),
    "scores": ("instrument_id", "method", "scores", "superseded_at", "superseded_by"),
}
# Columns whose values are unique per row: not worth remembering.
_UNIQUE = frozenset({"id", "hash", "prev_hash", "payload", "seq"})
_MEMO_LIMIT = 200_000


class RowChecker:
    """`check_row` for the many rows of one table: it remembers the values (and the value
    combinations its row rule reads) it has accepted, so that a bundle's hundreds of thousands
    of answers, which repeat a few hundred distinct values, cost a set lookup per field."""

    def __init__(self, table: str, columns: Sequence[str], visits: frozenset[str]) -> None:
        fields = _FIELDS[table]
        self.table = table
        self.columns = tuple(columns)
        self.visits = visits
        self.checks = [
            (column, fields[column], None if column in _UNIQUE else set[object]())
            for column in columns
        ]
        self.rule = _ROW_RULES.get(table)
        self.rule_at = [self.columns.index(c) for c in _RULE_COLUMNS.get(table, ())]
        self.rule_seen: set[tuple[object, ...]] = set()

    def _refuse(self, row: Sequence[Any], column: str, problem: str) -> InvalidInput:
        key = row[0]
        shown = key if isinstance(key, str) and len(key) <= 40 else repr(key)[:40]
        return InvalidInput(f"{self.table} row {shown}, field {column}: {problem}")

    def __call__(self, row: Sequence[Any]) -> None:
        """Raise InvalidInput naming the table, the row's id and the field of the first value
        of `row` that breaks a rule."""
        for (column, check, seen), value in zip(self.checks, row, strict=True):
            # remembered with its type: True == 1 == 1.0, but a check passed by 1 says nothing
            # of 1.0 (an integer column) nor of True (tests/storage/test_merge_raw_attacks.py)
            typed = (value.__class__, value)
            try:
                if seen is not None and typed in seen:
                    continue
            except TypeError:  # a list or an object: the check refuses it
                seen = None
            try:
                check(value)
            except InvalidInput as exc:
                raise self._refuse(row, column, str(exc)) from None
            if seen is not None:
                if len(seen) >= _MEMO_LIMIT:
                    seen.clear()
                seen.add(typed)
        if self.rule is None:
            return
        key = tuple(map(_typed, (row[i] for i in self.rule_at)))
        if key in self.rule_seen:
            return
        problem = self.rule(dict(zip(self.columns, row, strict=True)), self.visits)
        if problem is not None:
            raise self._refuse(row, *problem)
        if len(self.rule_seen) >= _MEMO_LIMIT:
            self.rule_seen.clear()
        self.rule_seen.add(key)

    def check_many(self, rows: Sequence[Sequence[Any]]) -> None:
        """Check every row of `rows` (each of this table's width) as `__call__` does, column
        by column: each distinct value of a column once, each distinct combination a row rule
        reads once. On the first refusal the rows are checked again one by one, so that the
        error names the first bad row in the bundle's order, as `__call__` would."""
        try:
            self._check_columns(rows)
        except InvalidInput:
            for row in rows:
                self(row)
            raise  # pragma: no cover - a column check refused what no row check refuses

    def _check_columns(self, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        # one column at a time; a column whose values mix number types (True == 1 == 1.0) is
        # deduplicated by (type, value), so that each type is checked; the others by value
        by_column = [list(map(itemgetter(at), rows)) for at in range(len(self.checks))]
        mixed: list[bool] = []
        zeros: list[bool] = []  # a column that may hold -0.0: it holds a zero
        for (column, check, seen), values in zip(self.checks, by_column, strict=True):
            distinct, mix = _distinct(values) if seen is not None else (values, False)
            mixed.append(mix)
            zeros.append(not isinstance(distinct, set) or 0 in distinct)  # (a set: one lookup)
            if _passes_in_bulk(check, distinct):
                continue
            for value in distinct:
                try:
                    check(value)
                except InvalidInput as exc:
                    raise InvalidInput(f"{column}: {exc}") from None
        if self.rule is None:
            return
        rule_at = self.rule_at
        keys: Iterable[tuple[object, ...]] = zip(*(by_column[i] for i in rule_at), strict=True)
        if any(zeros[i] and _negative_zero(by_column[i]) for i in rule_at):  # -0.0 == 0.0
            keys = (tuple(map(_typed, key)) for key in keys)
        elif any(mixed[i] for i in rule_at):
            keys = (tuple((v.__class__, v) for v in key) for key in keys)
        try:
            distinct_rows: Iterable[Sequence[Any]] = dict(zip(keys, rows, strict=True)).values()
        except TypeError:  # unhashable: refused by the field checks already
            distinct_rows = rows
        columns = self.columns
        for row in distinct_rows:
            problem = self.rule(dict(zip(columns, row, strict=True)), self.visits)
            if problem is not None:
                raise self._refuse(row, *problem)


_NUMBER_TYPES = frozenset({bool, int, float})


def _typed(value: object) -> tuple[object, ...]:
    """A value remembered with its type (True == 1 == 1.0 are three values), and -0.0 apart
    from 0.0 (equal, and of one hash: a rule passed by 0.0 says nothing of -0.0)."""
    if value.__class__ is float and value == 0.0:
        return (float, value, math.copysign(1.0, value))
    return (value.__class__, value)


def _negative_zero(values: list[object]) -> bool:
    """Whether a column holds a float -0.0 (its zeros looked at only: 0 == 0.0 == -0.0)."""
    try:
        zeros = [v for v in values if v == 0]
    except TypeError:  # (a value that cannot be compared: refused by its field check)
        return False
    return any(v.__class__ is float and math.copysign(1.0, cast(float, v)) < 0 for v in zeros)


# A time the stored format allows and `datetime.fromisoformat` reads, its date aside: ASCII
# digits, hours 00-23, minutes and seconds 00-59 (the date is checked once per distinct day).
_TIME_IN_RANGE = re.compile(
    r"^[0-9]{4}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01])"
    r"T(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{3}Z\Z"
)


def _valid_days(values: Iterable[str]) -> bool:
    try:
        for day in {v[:10] for v in values}:
            date.fromisoformat(day)
    except ValueError:
        return False
    return True


# Field checks that are a pattern over texts, with the pattern (and for times the check of each
# distinct day): a column of texts they all match passes without a call per value. Anything else
# (a value they do not match, another type) goes through the field check itself, which names it.
_BULK: Mapping[Callable[..., object], tuple[re.Pattern[str], bool]] = {
    _id: (_UUID, False),
    _opt_id: (_UUID, True),
    _hash: (_HASH, False),
    _time: (_TIME_IN_RANGE, False),
    _opt_time: (_TIME_IN_RANGE, True),
}


def _passes_in_bulk(check: Callable[..., object], values: Collection[object]) -> bool:
    """True when every value of a column passes `check`, known without calling it per value
    (False: not known, the values are checked one by one)."""
    bulk = _BULK.get(check)
    if bulk is None:
        return False
    pattern, optional = bulk
    texts = [v for v in values if v is not None] if optional else values
    try:
        if not all(map(pattern.match, cast(Iterable[str], texts))):
            return False
    except TypeError:  # not a text (None where it is not optional, a number ...)
        return False
    return pattern is not _TIME_IN_RANGE or _valid_days(cast(Iterable[str], texts))


def _distinct(values: list[object]) -> tuple[Collection[object], bool]:
    """A column's distinct values, and whether they mix number types (then each distinct
    (type, value) is kept: 1 and 1.0 and True are each checked). All of them when one is
    unhashable (a list or an object, which the field check refuses)."""
    try:
        distinct = set(values)
    except TypeError:
        return values, False
    if _NUMBER_TYPES.isdisjoint(map(type, distinct)):
        return distinct, False
    if len(_NUMBER_TYPES.intersection(map(type, values))) < 2:
        return distinct, False
    return list({(v.__class__, v): v for v in values}.values()), True


def check_row(
    table: str, columns: Sequence[str], row: Sequence[Any], visits: frozenset[str]
) -> None:
    """Raise InvalidInput naming the table, the row's id and the field when one value of `row`
    (a bundle row of `table`, values in `columns` order) breaks a rule. `visits`: the visit
    codes of the hub's study. (`RowChecker` checks many rows of a table faster.)"""
    RowChecker(table, columns, visits)(row)
