"""A differential fuzz of the CSV export's SQLite-built lines (issue 12): answers_long.csv and
audit_trail.csv, as `export_csv` writes them (SQLite's lines, checked, with the per-subject and
per-entry fallback), are byte for byte the text of the pure Python path (`_long_lines` over
`iter_subject_records`; `write_audit_trail` over `iter_audit_rows`), for any schema-valid rows
written behind the program's back (`tests.support.forged_study`: values of every kind, free
texts with quotes, commas, CR, LF, NUL, formula starts, unicode, long; odd languages, sessions,
subjects, supersessions and forks; audit entries with odd payloads, actors, entities, sequences).
The whole export with SQLite's lines refused (every subject and entry by the Python path) is the
same four files as the export itself. A value no way in stores (off its item's range or step, no
code, a text) stops the export in the same one line both ways (`storage.stored_values`): the
examples draw mostly accepted values, and the refused ones are tried apart.

Each example copies a small real study, writes its forgery, exports twice and compares; a seed
corpus of nasty cases runs first (`@example`), and all of it in one file with two workers. What
differed is kept as an example (`VERSION_UNDER_ONE_CHECKSUM`, `EQUAL_VALUES_OF_TWO_TEXTS`), its
bug fixed. Run with ``--hypothesis-show-statistics`` to see which ways the examples' subjects
and batches took.
"""

from __future__ import annotations

import io
import json
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import replace
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from hypothesis import HealthCheck, event, example, given, settings

from respine_desktop import storage
from respine_desktop.exports import audit_trail, csv_export
from respine_desktop.exports.audit_trail import write_audit_trail
from respine_desktop.exports.csv_export import (
    export_csv,
)
from respine_desktop.exports.errors import ExportError
from respine_desktop.storage.export_reads import (
    iter_audit_rows,
)
from respine_desktop.storage.stored_values import StoredValues, TamperedValue
from tests.exports.test_exports_csv_sql_lines import reference_long
from tests.support.exports import controlled_clock, scenario_db
from tests.support.forged_study import (
    LONG,
    ODI,
    PARKED,
    VAS,
    VAS_INSTRUMENT,
    Edit,
    Forgery,
    NewAnswer,
    NewEntry,
    NewSession,
    Ref,
    forge,
    forgeries,
)

FILES = ("answers_long.csv", "visits_wide.csv", "codebook.csv", "audit_trail.csv")
# Each example writes a database and two exports, whose every file is synced: in memory where
# the system has a RAM folder, so that the syncs (most of an example's time on a disk) are not
# what the run waits for.
SCRATCH = "/dev/shm" if Path("/dev/shm").is_dir() else None


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "template.db"
    scenario_db(path)
    return path


# --- the Python path (the reference) -------------------------------------------------------


def reference_audit(db_path: Path) -> bytes:
    """audit_trail.csv as the export wrote it before SQLite's lines."""
    with storage.open_database(db_path, readonly=True) as db:
        f = io.StringIO(newline="")
        write_audit_trail(f, iter_audit_rows(db))
    return f.getvalue().encode("utf-8")


# --- the export, and the export with SQLite's lines refused --------------------------------

REFUSED = (ExportError, TamperedValue)  # an answer no way in stores: the file refused


def exported(db_path: Path, out: Path) -> dict[str, bytes]:
    with storage.open_database(db_path, readonly=True) as db:
        export_csv(db, out, workers=1)  # in this process: the patches below reach it
    return {name: (out / name).read_bytes() for name in FILES}


@contextmanager
def sqlite_lines_refused() -> Iterator[None]:
    """Every subject's and every entry's SQLite text fails the export's check (its count of
    quotes, commas and line breaks never matches): all goes the Python way, through the
    export's own fallback (`subject_answers`, `AuditLines.rows`)."""
    with mock.patch.object(csv_export, "csv_marks", lambda data: -1):
        yield


WAYS = ("subject: sqlite", "subject: python", "audit batch: checked entry by entry")


@contextmanager
def ways_counted(counts: Counter[str]) -> Iterator[None]:
    """Which way the export's subjects and audit batches went, counted into `counts`."""
    real_sql_lines = csv_export.sql_lines
    real_checked = audit_trail._checked

    def spy_lines(lines: Any, replaced_by: Any, counted: Any) -> bytes | None:
        text = real_sql_lines(lines, replaced_by, counted)
        counts["subject: python" if text is None else "subject: sqlite"] += 1
        return text

    def spy_checked(lines: Any, keys: Any, heads: Any, tails: Any) -> list[str]:
        counts["audit batch: checked entry by entry"] += 1
        return real_checked(lines, keys, heads, tails)

    with (
        mock.patch.object(csv_export, "sql_lines", spy_lines),
        mock.patch.object(audit_trail, "_checked", spy_checked),
    ):
        yield


def check(template: Path, forgery: Forgery, batch: int = 3) -> None:
    """The comparisons of the module docstring on `template` with `forgery` written into it;
    audit batches of `batch` entries (so that clean and checked batches meet in one file)."""
    counts: Counter[str] = Counter()
    with tempfile.TemporaryDirectory(dir=SCRATCH) as tmp, controlled_clock():
        db_path = forge(template, Path(tmp) / "forged.db", forgery)
        try:
            want_long = reference_long(db_path)
        except REFUSED as exc:
            # An answer its instrument's rule forbids (`stored_values`; in a session scored
            # again, `visit_values.score_answers`): the export refuses the file, whichever way
            # it writes the lines, in the same one line.
            event("refused (an answer breaks its instrument's rule)")
            for refused in (nullcontext(), sqlite_lines_refused()):
                with refused, pytest.raises(REFUSED) as caught:
                    exported(db_path, Path(tmp) / "csv")
                assert str(caught.value) == str(exc) and "\n" not in str(exc)
            return
        want_audit = reference_audit(db_path)
        with mock.patch.object(audit_trail, "_BATCH", batch), ways_counted(counts):
            got = exported(db_path, Path(tmp) / "csv")
        with sqlite_lines_refused():
            python = exported(db_path, Path(tmp) / "csv-python")
    for way in WAYS:
        event(f"{way}: {'some' if counts[way] else 'none'}")
    assert got["answers_long.csv"] == want_long, difference(got["answers_long.csv"], want_long)
    assert got["audit_trail.csv"] == want_audit, difference(got["audit_trail.csv"], want_audit)
    for name in FILES:
        assert got[name] == python[name], f"{name}: {difference(got[name], python[name])}"


def difference(got: bytes, want: bytes) -> str:
    """The first record that differs (split at CRLF), as the export wrote it and as the Python
    path writes it."""
    got_lines, want_lines = got.split(b"\r\n"), want.split(b"\r\n")
    for k, (g, w) in enumerate(zip(got_lines, want_lines, strict=False)):
        if g != w:
            return f"record {k}:\n export: {g!r}\n python: {w!r}"
    return f"{len(got_lines)} records, the Python path {len(want_lines)}"


# --- the seed corpus -----------------------------------------------------------------------

NASTY_TEXTS = [
    'said "no"',
    "one, two",
    "two\nlines",
    "crlf\r\nline",
    "\rstarts with CR",
    "a\x00NUL",
    "a\x00,b",  # a mark after a NUL (SQLite's C strings would stop at the NUL)
    "\x00",
    "=1+1",
    "+1",
    "-2",
    "@x",
    "'quoted",
    "\ttab",
    "e\u0301\U0001f600\u2028\u2029\ufeff",
    *LONG,
]
NASTY_VALUES: list[Any] = [
    -0.0,
    5e-324,
    1e-310,
    1e15,
    1e15 - 0.5,
    1e16,
    1e17,
    0.1 + 0.2,
    1e308,
    1e-300,
    float("inf"),
    -float("inf"),
    2**63 - 1,
    66.1,
    12.345678901234,
]
M0 = Ref("template", 0)  # RSP-01-001's first session (submitted)


def _each_alone(answers: list[NewAnswer], first: int, **more: Any) -> Forgery:
    """`answers`, each in a subject of its own (a session in progress of a new subject, codes
    from RSP-01-<1000 + first>), so that the way one subject goes does not hide another's: a
    subject is written by SQLite or by Python whole."""
    n = len(answers)
    return Forgery(
        subjects=tuple(f"RSP-01-{1000 + first + k}" for k in range(n)),
        sessions=tuple(NewSession(Ref("new", k), "M0") for k in range(n)),
        answers=tuple(replace(a, session=Ref("new", k)) for k, a in enumerate(answers)),
        **more,
    )


def _field(name: str, value: Any) -> dict[str, Any]:
    return {name: value}


ODD_CODES: list[Any] = ["abc", b"\x00\xff", "3.7", 2.5, -1, 99]


def _accepted(answers: Iterable[NewAnswer]) -> list[NewAnswer]:
    """The answers whose value an export accepts (`stored_values`); those it refuses are tried
    apart (`test_a_value_no_way_in_stores_stops_the_export_both_ways`)."""
    values, kept = StoredValues(), []
    for answer in answers:
        named = answer.instrument[0] if isinstance(answer.instrument, tuple) else None
        try:
            values.check(
                "forged",
                "forged",
                answer.item_id,
                answer.value,
                named if isinstance(named, str) else None,
            )
        except TamperedValue:
            continue
        kept.append(answer)
    return kept


def _corpus() -> list[Forgery]:
    """The nasty values, each alone; each nasty text alone in each field it may go into; a fork,
    a chain, a dangling supersession, an unscheduled visit, a subject code that needs quoting;
    audit entries of each kind."""
    vas = NewAnswer(PARKED, VAS, 50.5, VAS_INSTRUMENT, vas_line_mm=99.0)
    out = [Forgery()]
    out.append(_each_alone(_accepted(replace(vas, value=v) for v in NASTY_VALUES), 0))
    choices = [NewAnswer(PARKED, "odi_03", v, ODI) for v in (*NASTY_VALUES, *ODD_CODES)]
    out.append(_each_alone(_accepted(choices), 100))
    fields = ("language", "device_id", "given_at", "given_by", "reason", "vas_calibration")
    for n, text in enumerate(NASTY_TEXTS):
        answers = [replace(vas, **_field(name, text)) for name in fields]
        answers.append(replace(vas, id_suffix=text))
        # (an odd version and checksum under the item's own instrument: another instrument's
        # id is refused, `stored_values`)
        answers.append(NewAnswer(PARKED, "odi_01", 2, ("odi", text, "sum:" + text)))
        entries = (
            NewEntry(payload=f'{{"reason": {json.dumps(text)}, "x": {json.dumps(text)}}}'),
            NewEntry(actor=text, entity_id=text, payload=text),
            NewEntry(device_id=text, action=text, entity=text, at=text),
            NewEntry(subject=Ref("text", 0, text)),
        )
        edits = (Edit(5, "reason", text), Edit(40, "given_by", text))
        out.append(_each_alone(answers, 200 + 100 * n, entries=entries, edits=edits))
    out.append(
        Forgery(
            answers=(
                NewAnswer(M0, "odi_03", 1, ODI, supersedes=Ref("template", 5)),  # a fork
                NewAnswer(M0, "odi_03", 2, ODI, supersedes=Ref("template", 5)),
                NewAnswer(M0, "odi_03", 3, ODI, supersedes=Ref("new", 1)),  # a chain
                NewAnswer(M0, "odi_03", 4, ODI, supersedes=Ref("text", 0, "gone")),
                NewAnswer(PARKED, "odi_03", 4, ODI, supersedes=Ref("template", 0)),  # another's
            )
        )
    )
    out.append(
        Forgery(
            subjects=("RSP,01-900", 'RSP"01', "RSP-01-\x00", "=RSP"),
            sessions=(
                NewSession(Ref("new", 0), "M0"),
                NewSession(Ref("template", 1), "X9"),
                NewSession(Ref("new", 1), "M,3", "submitted", id_suffix=',"\r\n'),
                NewSession(Ref("new", 2), "M3", id_suffix="\x00=\U0001f600"),
                NewSession(Ref("new", 3), "M12", "submitted"),
            ),
            answers=tuple(
                NewAnswer(Ref("new", k), VAS, 10.0 * k, VAS_INSTRUMENT) for k in range(5)
            ),
            entries=tuple(NewEntry(subject=Ref("subject", k)) for k in range(4)),
        )
    )
    out.append(
        Forgery(
            entries=(
                NewEntry(seq=2.5),
                NewEntry(seq="x"),
                NewEntry(seq=2**62),
                NewEntry(subject=Ref("new", 0), payload='{"reason": 5}'),
                NewEntry(payload='{"reason": 1.5}'),
                NewEntry(payload='{"reason": 100000000000000000000}'),
                NewEntry(payload='{"reason": -0}'),
                NewEntry(payload='{"reason": true, "rows_after": {"a": 1}}'),
                NewEntry(payload='{"reason": {"a": "b,c"}}'),
                NewEntry(payload='{"reason": null}'),
                NewEntry(payload='{"reason": "a", "reason": "b,c"}'),
                NewEntry(payload="[1, 2]"),
                NewEntry(payload="{}"),
                NewEntry(payload='{ "rows_after" : [] }'),
                NewEntry(payload="{a: 1}"),
                NewEntry(payload='{"a": "x\\u0000y"}'),
                NewEntry(payload='{"reason": "=\\u0000"}'),
                NewEntry(payload='{"reason": "\\ud83d\\ude00,"}'),
                NewEntry(payload='{"a":' * 1100 + "1" + "}" * 1100),  # deeper than SQLite's JSON
                NewEntry(payload='{"reason": ' + "[" * 1100 + "]" * 1100 + "}"),
                NewEntry(payload='{"reason": "\\u2028\\t=", "rows_after": {}}'),
            ),
            aliases=(1,),
        )
    )
    return out


def with_corpus(test: Callable[..., None]) -> Callable[..., None]:
    """`test` with every forgery of the corpus as an explicit example (run first, each in a
    file of its own)."""
    for forgery in reversed(_corpus()):
        test = example(forgery=forgery)(test)
    return test


def test_the_whole_corpus_in_one_file_with_two_workers(template: Path, tmp_path: Path) -> None:
    """Every case of the corpus in one file, written by two worker processes (each its own
    memo and part files; the audit trail beside them): the text of the Python path, and of the
    export with SQLite's lines refused."""
    db_path = forge(template, tmp_path / "corpus.db", *_corpus())
    with controlled_clock():
        want_long = reference_long(db_path)
        want_audit = reference_audit(db_path)
        with storage.open_database(db_path, readonly=True) as db:
            assert export_csv(db, tmp_path / "csv", workers=2).workers == 2
        with sqlite_lines_refused():
            python = exported(db_path, tmp_path / "csv-python")
        counts: Counter[str] = Counter()
        with ways_counted(counts):
            one = exported(db_path, tmp_path / "csv-one")
    assert counts["subject: sqlite"] > 10 and counts["subject: python"] > 10  # both ways met
    got = {name: (tmp_path / "csv" / name).read_bytes() for name in FILES}
    assert got == one
    assert got["answers_long.csv"] == want_long, difference(got["answers_long.csv"], want_long)
    assert got["audit_trail.csv"] == want_audit, difference(got["audit_trail.csv"], want_audit)
    for name in FILES:
        assert got[name] == python[name], f"{name}: {difference(got[name], python[name])}"
    assert want_long.count(b"\r\n") > 500 and want_audit.count(b"\r\n") > 100


# --- the fuzz ------------------------------------------------------------------------------

FUZZ = settings(
    max_examples=25,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@FUZZ
@with_corpus
@given(forgery=forgeries())
def test_sqlite_lines_are_the_python_paths_text(template: Path, forgery: Forgery) -> None:
    check(template, forgery)


@FUZZ
@given(forgery=forgeries())
def test_the_same_with_one_batch_of_audit_entries(template: Path, forgery: Forgery) -> None:
    check(template, forgery, batch=4096)


# --- what the fuzz found -------------------------------------------------------------------

# A forged VAS row of RSP-01-002's parked M3 with the VAS's checksum but version "9.9", valued
# 72.5 as RSP-01-001's M0 VAS is. `_long_lines` took the row's instrument id and version from
# its memo, then keyed by checksum, item, value, language and device, on the word that "the
# checksum names the instrument and its version": the Python path wrote "vas,1.0" (RSP-01-001's
# row, met first) where SQLite wrote the stored "vas,9.9". The memo is now keyed by every field
# it holds.
VERSION_UNDER_ONE_CHECKSUM = Forgery(
    answers=(NewAnswer(PARKED, VAS, 72.5, (VAS_INSTRUMENT, "9.9", VAS_INSTRUMENT)),)
)


@settings(FUZZ, max_examples=15)
@example(forgery=VERSION_UNDER_ONE_CHECKSUM)
@given(forgery=forgeries(checksums_named=False))
def test_a_checksum_with_another_instrument_id_or_version(template: Path, forgery: Forgery) -> None:
    """As the fuzz above, where a checksum may come with another instrument id or version than
    its other rows have (the program always writes one with its own; a forged file need not)."""
    check(template, forgery)


# Met beside the fuzz: a forged choice code of 10**16 and a forged VAS of 1e16 (equal, of two
# texts) were written alike in visits_wide.csv, the code's text given to the VAS by the cache of
# cell texts. No export writes either now: a value no way in stores stops it (`stored_values`).
EQUAL_VALUES_OF_TWO_TEXTS = Forgery(
    subjects=("RSP-01-1000", "RSP-01-1001"),
    sessions=(NewSession(Ref("new", 0), "M0"), NewSession(Ref("new", 1), "M0")),
    answers=(
        NewAnswer(Ref("new", 0), "odi_01", 10**16, ODI),
        NewAnswer(Ref("new", 1), VAS, 1e16, VAS_INSTRUMENT),
    ),
)
REFUSED_VALUES: list[tuple[str, Any, Any]] = [
    *((VAS, v, VAS_INSTRUMENT) for v in NASTY_VALUES),
    *(("odi_03", v, ODI) for v in (*NASTY_VALUES, *ODD_CODES)),
    ("zz_99", 2, ("odi", "1", "sum:zz")),  # an item of no instrument
]


@pytest.mark.parametrize(
    ("item", "value", "instrument"),
    [r for r in REFUSED_VALUES if not _accepted([NewAnswer(PARKED, r[0], r[1], r[2])])],
    ids=repr,
)
def test_a_value_no_way_in_stores_stops_the_export_both_ways(
    template: Path, tmp_path: Path, item: str, value: Any, instrument: Any
) -> None:
    """In a session nobody scores (parked): the export still refuses it in one line naming
    the answer, with SQLite's lines and without."""
    forgery = _each_alone([NewAnswer(PARKED, item, value, instrument)], 0)
    db_path = forge(template, tmp_path / "forged.db", forgery)
    lines: list[str] = []
    with controlled_clock():
        for refused in (nullcontext(), sqlite_lines_refused()):
            with refused, pytest.raises(TamperedValue) as caught:
                exported(db_path, tmp_path / f"csv{len(lines)}")
            lines.append(str(caught.value))
    assert lines[0] == lines[1] and "\n" not in lines[0]
    assert "a stored answer breaks its instrument's rule" in lines[0] and "verify" in lines[0]
    assert not any(p.exists() for p in (tmp_path / "csv0", tmp_path / "csv1"))


def test_equal_values_of_two_texts_no_longer_reach_visits_wide(
    template: Path, tmp_path: Path
) -> None:
    db_path = forge(template, tmp_path / "forged.db", EQUAL_VALUES_OF_TWO_TEXTS)
    with controlled_clock(), pytest.raises(TamperedValue, match="odi_01: answer 10000000000000000"):
        exported(db_path, tmp_path / "csv")
