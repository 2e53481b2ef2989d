"""Attacks on the merge's fast paths (issue 12/13): each documents a refusal or a hole closed.

- The line texts against the rows validated: the hub stores the rows Python parsed and
  validated in EVERY column, never a value the line's text says otherwise (the merge once
  inserted the answers from the lines' text as SQLite read it, and compared only the id, the
  value and the VAS line: a line read otherwise in a text column, such as the session, the time
  or the reason, was stored in place of the validated row; `_merge_staging` now binds the rows
  themselves). The texts that Python's JSON reader and SQLite's read differently (a lone UTF-16
  surrogate, NaN, integers beyond 64 bits, ...) are each refused by the validation or stored
  exactly as validated.
- (An ordinary bundle's answers staged and copied, not bound in the lock: test_merge_staging.py
  `test_the_answers_are_staged_outside_the_write_lock_and_copied_inside`.)
- The answer digest taken from the lines' text (`_merge_prepare._row_texts`): a line whose
  pieces are shifted (a ``],[`` inside a text, a ``], [`` between two rows) no longer gives one
  row the text of another.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.exports.bundle import _MemberRows
from respine_desktop.storage import InvalidInput
from respine_desktop.storage._merge_prepare import _row_texts
from respine_desktop.storage._records import Answer
from respine_desktop.storage._validation import RowChecker, check_row
from respine_desktop.storage.bundle_merge import BUNDLE_COLUMNS
from tests.cli.test_cli_db import main, one_line_error
from tests.exports import test_bundle_forged as forged_bundles
from tests.exports.test_bundle_forged import forge, refused, set_value
from tests.storage.test_merge_fast_paths import _hub_and_rows, _lines, _merge, _stored_answers
from tests.storage.test_merge_validation import VISITS, row
from tests.support.exports import table_digest
from tests.support.merge_modes import merge_mode

__all__ = ["merge_mode"]  # a fixture

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)

COLUMNS = BUNDLE_COLUMNS["answers"]
# the forged-bundle tests' fixtures: kiosk A's signed bundle a.1, the site key, an empty hub
site = forged_bundles.site
hub0 = forged_bundles.hub0
_CRAFTED: dict[str, Any] = {
    "language": "fr",
    "app_version": "9.9.9",
    "instrument_version": "0.0-forged",
    "instrument_checksum": "0" * 64,
    "given_at": "2020-01-01T00:00:00.000Z",
    "reason": "forged",
    "vas_calibration": "uncalibrated",
    "device_id": "0190aaaa-0000-7000-8000-00000000dead",
    "given_by": "0190aaaa-0000-7000-8000-00000000beef",
}


def _other_value(rows: Sequence[Sequence[Any]], target: int, column: str) -> Any:
    """A value of `column` other than the target row's: another row's (an id the hub will hold,
    so that no constraint refuses it), else a crafted one."""
    at = COLUMNS.index(column)
    mine = rows[target][at]
    for r in rows:
        if r[at] is not None and r[at] != mine:
            return r[at]
    if column == "supersedes":  # an answer the hub will hold (a foreign key)
        return rows[0][COLUMNS.index("id")]
    return _CRAFTED[column]


# every column the old read-back did not compare (id, value and vas_line_mm were compared)
UNCOMPARED = [c for c in COLUMNS if c not in {"id", "value", "vas_line_mm", "status"}]


@pytest.mark.parametrize("column", UNCOMPARED)
def test_a_line_that_says_otherwise_in_any_column_is_not_what_the_hub_stores(
    tmp_path: Path, column: str
) -> None:
    """The rows validated are one thing, the line's text says another value of `column` (as a
    JSON reader that differs from Python's would read it): the hub stores the validated rows."""
    hub, rows = _hub_and_rows(tmp_path)
    answers = rows["answers"]
    target = (
        1
        if column != "supersedes"
        else next(n for n, r in enumerate(answers) if r[COLUMNS.index("supersedes")] is None)
    )
    changed = [list(r) for r in answers]
    changed[target][COLUMNS.index(column)] = _other_value(answers, target, column)
    _merge(hub, rows, _lines(changed))
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    assert storage.verify_database(hub).ok


def _member(lines: list[str]) -> tuple[list[Sequence[Any]], list[str]]:
    """The rows and kept line texts of an answers member, read by the bundle reader itself."""
    data = "".join(lines).encode("utf-8")
    count = sum(len(json.loads(line)) for line in lines)
    member = _MemberRows(data, "answers", count, keep_lines=True)
    parsed = [tuple(r) for r in member]
    assert member.lines is not None
    return parsed, member.lines


def _cell_lines(answers: Sequence[Sequence[Any]], target: int, column: str, text: str) -> list[str]:
    """Compact lines of `answers`, the cell of `column` in row `target` written as `text`."""
    at = COLUMNS.index(column)
    cells = [[json.dumps(v, ensure_ascii=False, separators=(",", ":")) for v in r] for r in answers]
    cells[target][at] = text
    body = "],[".join(",".join(r) for r in cells)
    return [f"[[{body}]]\n"]


def _attack(tmp_path: Path, column: str, text: str) -> str:
    """Merge a bundle whose answer `column` of one VAS row is spelled `text`: "refused", or
    "stored" when the hub holds exactly the rows Python parsed (and verifies)."""
    hub, rows = _hub_and_rows(tmp_path)
    answers = rows["answers"]
    target = next(n for n, r in enumerate(answers) if r[COLUMNS.index("vas_line_mm")] is not None)
    original = answers[target][COLUMNS.index(column)]
    spelled = json.dumps(original)
    text = text.replace("ORIG", spelled[1:-1] if isinstance(original, str) else spelled)
    parsed, lines = _member(_cell_lines(answers, target, column, text))
    rows["answers"] = parsed  # as the bundle reader gives them (the merge checks the widths)
    before = table_digest(hub)
    try:
        _merge(hub, rows, lines)
    except (storage.InvalidInput, storage.MergeRefused):
        assert table_digest(hub) == before  # nothing written
        return "refused"
    stored = _stored_answers(hub)
    as_bound = [
        tuple(
            float(v) if c in ("value", "vas_line_mm") and v is not None else v
            for c, v in zip(COLUMNS, r, strict=True)
        )
        for r in parsed
    ]
    assert stored == as_bound
    assert storage.verify_database(hub).ok
    return "stored"


@pytest.mark.parametrize(
    ("column", "text", "outcome"),
    [
        # the same text spelled otherwise: read alike by both, stored as validated
        ("app_version", '"\\u0031ORIG"', "refused"),  # another text: its digest differs
        ("reason", '"\\/\\u00e9\\ud83d\\ude00"', "refused"),
        ("session_id", '"ORIG"', "stored"),
        ("id", '"\\u0030ORIG"', "refused"),  # not a UUID any more
        # texts that JSON readers may read otherwise (SQLite's, which the merge once used)
        ("reason", '"\\udc00"', "refused"),  # a lone surrogate: SQLite cannot store it
        ("reason", '"a\\u0000b"', "refused"),
        ("vas_line_mm", "NaN", "refused"),  # not finite (SQLite would store NULL)
        ("vas_line_mm", "Infinity", "refused"),
        ("vas_line_mm", "1e400", "refused"),
        ("vas_line_mm", "-0", "refused"),
        ("vas_line_mm", "-0.0", "refused"),
        ("vas_line_mm", "12345678901234567890", "refused"),  # beyond 64 bits
        ("vas_line_mm", "true", "refused"),
        ("vas_line_mm", '"5"', "refused"),
        ("value", "NaN", "refused"),
        ("value", "99999999999999999999", "refused"),
        ("value", "true", "refused"),
        ("value", "[1]", "refused"),
        ("value", '{"a":1}', "refused"),
        ("item_id", '["ORIG"]', "refused"),
        ("instrument_id", "1", "refused"),
        ("language", '"en","en"', "refused"),  # one column more
    ],
)
def test_texts_json_readers_may_read_otherwise_are_refused_or_stored_as_validated(
    tmp_path: Path, column: str, text: str, outcome: str
) -> None:
    assert _attack(tmp_path, column, text) == outcome


@pytest.mark.parametrize(("column", "text"), [("vas_line_mm", "ORIGe0"), ("value", "ORIG0")])
def test_the_same_number_spelled_otherwise_is_stored_as_validated(
    tmp_path: Path, column: str, text: str
) -> None:
    """Not the canonical text (the digest is computed from the rows), the same values."""
    assert _attack(tmp_path, column, text) == "stored"


def test_a_shifted_line_gives_no_row_the_text_of_another() -> None:
    """A ``],[`` inside a text makes one piece more, a ``], [`` between two rows one fewer: the
    counts agree, but each piece after the first shift is the text of the row before. Such a
    piece must not be taken as its row's canonical text (an audit entry recording the digest
    of row A's text would otherwise pass for row K)."""
    z = ["0190aaaa-0000-7000-8000-000000000001", "a],[b"]
    a = ["0190aaaa-0000-7000-8000-000000000002", "x"]
    k = ["0190aaaa-0000-7000-8000-000000000003", "y"]
    w = ["0190aaaa-0000-7000-8000-000000000004", "z"]
    compact = [json.dumps(r, separators=(",", ":")) for r in (z, a, k, w)]
    line = "[" + ",".join(compact[:3]) + ", " + compact[3] + "]\n"
    text_a = compact[1][1:-1]
    rows = json.loads(line)
    assert len(rows) == 4
    texts = _row_texts([line], [Answer._make(r + [None] * 15) for r in rows])
    # before the fix: texts[k's id] was row a's text
    assert texts is None or all(texts[r[0]] != text_a for r in rows if r[0] != a[0])
    assert texts is None or texts.get(a[0]) in (None, text_a)


@pytest.mark.parametrize(
    ("table", "column", "first", "odd"),
    [
        ("staff", "active", 1, 1.0),  # accepted by the row checker's memory before the fix
        ("staff", "active", 0, -0.0),
        ("staff", "active", 1, True),
        ("answers", "value", 1, True),
        ("answers", "value", 0.0, -0.0),
        ("answers", "value", 67.0, 67),
        ("answers", "vas_line_mm", 100.0, 100),
        ("answers", "vas_line_mm", 100.0, -0.0),
        ("answers", "vas_line_mm", None, True),
        ("answers", "item_id", "1", 1),
    ],
)
def test_values_equal_in_python_but_of_another_type_are_each_checked(
    table: str, column: str, first: Any, odd: Any
) -> None:
    """Column-wise checks (each distinct value once) and the row checker's memory: a check
    passed by `first` covers no `odd` value equal to it in Python (True == 1 == 1.0, -0.0 ==
    0.0) but of another type. Each way refuses exactly what checking the rows alone refuses,
    naming the odd row."""
    ids = [f"0190aaaa-0000-7000-8000-{k:012d}" for k in range(10, 13)]
    columns = BUNDLE_COLUMNS[table]
    rows = [row(table, id=ids[0], **{column: first}), row(table, id=ids[1], **{column: odd})]
    alone = []
    for r in rows:
        try:
            check_row(table, columns, r, VISITS)
        except InvalidInput as exc:
            alone.append(str(exc))
    checker = RowChecker(table, columns, VISITS)
    try:
        for r in rows:
            checker(r)
    except InvalidInput as exc:
        by_row: str | None = str(exc)
    else:
        by_row = None
    try:
        RowChecker(table, columns, VISITS).check_many(rows)
    except InvalidInput as exc:
        by_column: str | None = str(exc)
    else:
        by_column = None
    assert by_row == by_column == (alone[0] if alone else None)


@pytest.mark.parametrize(
    ("column", "text"),
    [("reason", "moved\udc00"), ("app_version", "\ud800"), ("instrument_version", "1\udfff")],
)
def test_a_signed_bundle_with_a_lone_surrogate_is_refused_in_one_line(
    site: Path, hub0: Path, tmp_path: Path, column: str, text: str
) -> None:
    """A real bundle signed with the site key whose answer carries a lone UTF-16 surrogate
    (written as a JSON escape, which Python's reader accepts): refused naming the row and the
    field, the hub unchanged (before: a UnicodeEncodeError out of the merge)."""
    forged = forge(
        site / "a.1",
        site / "site.key",
        tmp_path / "x.bundle",
        set_value("answers", column, text, item_id="vas_pain"),
    )
    assert b"\\ud" in zipfile.ZipFile(forged).read("data/answers.jsonl").lower()
    refused(hub0, forged, f"field {column}", "lone surrogate")
    result = main("import", "bundle", "--db", str(hub0), str(forged))
    one_line_error(result, 2, "lone surrogate")
