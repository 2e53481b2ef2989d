"""CSV export for SAS/R/Stata: ``answers_long.csv``, ``visits_wide.csv`` and ``codebook.csv``.

* ``answers_long.csv``: one row per answer version (superseded ones included, with the id of the
  row that replaced them), so the whole answer history can be analysed;
* ``visits_wide.csv``: one row per subject × scheduled visit with the current item values, the
  scores (SF-36 standard with PCS/MCS and RAND-36 under distinct names), change from baseline,
  MCID flags and responder status (see `visit_values` for the rules);
* ``codebook.csv``: every column of the files, every code and its label (see `codebook`);
* ``audit_trail.csv``: every audit entry (see `audit_trail`).

UTF-8 without BOM, comma separated, RFC 4180 quoting and CRLF line ends. Numbers: codes as
integers, decimals in full double precision (shortest text that reads back to the same double),
flags 1/0; a missing value in visits_wide says why (`missing_codes`: .S skipped, .N not due,
.M missed, .U uncomputable, .D undetermined, .I incomplete), empty = not applicable. Rows are
written subject by subject as they are read. Free text a
person typed (the reason of a correction) that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return gets a leading ``'`` (`free_text`), so that a spreadsheet opening the file shows
it as text instead of running it as a formula; numbers are never changed, and the raw text stays
in the ODM export.

The visits_wide records are made by `wide_rows.WideRows` (the rules of `visit_values` and
`missing_codes`, the same text, in a fraction of the time: stored current scores where they are
sure to equal a recomputation, endpoints in integer arithmetic, missing parts joined once).
The cyclic garbage collector is paused while the rows are made (`collector.paused`).

The two large files are written through `csv_line` rather than `csv.writer`: Python 3.11's
writer processes each character in turn (about 30 µs for a 300-byte answer row here), which
alone would take a minute for the 1.8 million answer rows of a 10,000-subject study; `csv_line`
checks a whole line at once and quotes only the fields that need it (same RFC 4180 output).

The answers_long records and the audit trail's are built by SQLite (`storage._answer_lines`,
`storage._audit_lines`), each text checked before it is used (`sql_lines`, `session_text`,
`audit_trail.write_audit_lines`: a field that needs quoting, or a part SQLite cannot make as
Python does, shows in a count of quotes, commas and line breaks); a subject or an entry that
fails the check is read again and written by the per-row Python path (`_long_lines`,
`audit_trail._line`), so the files are the same text whichever path wrote a record.

A worker reads the subjects a row per session (`SessionLines`: the session's answers_long
lines joined, its visits_wide item cells) and makes both records from those rows when they are
sure to be the text of the subject's answer rows (`WideRows.subject_from_sessions`,
`session_text`: no correction or fork, one session a visit, whole instruments, sessions one
after the other, ...); any other subject's answer rows are read (`subject_answer_lines`) and
written as before (`_by_rows`).
"""

from __future__ import annotations

import contextlib
import csv
import math
import multiprocessing
import re
from collections.abc import Callable, Mapping, Sequence, Set
from dataclasses import dataclass
from datetime import date
from functools import cache
from operator import attrgetter
from pathlib import Path
from typing import Any

from respine_desktop import collector, files, schedule, storage
from respine_desktop.exports.audit_trail import write_audit_lines
from respine_desktop.exports.codebook import (
    ANSWERS_LONG,
    AUDIT_TRAIL,
    CODEBOOK,
    CODEBOOK_HEADER,
    VISITS_WIDE,
    answers_long_columns,
    codebook_rows,
    item_instruments,
    visits_wide_columns,
)
from respine_desktop.exports.errors import ExportError
from respine_desktop.exports.files import output_folder, partial_text
from respine_desktop.exports.missing_codes import visit_number
from respine_desktop.exports.progress import Progress, Ticker
from respine_desktop.exports.subject_parts import (
    PartJob,
    Tick,
    Written,
    default_workers,
    finish_interrupted_set,
    part_files,
    write_parts,
)
from respine_desktop.exports.wide_rows import WideRows
from respine_desktop.instruments import instrument_ids, load_instrument, shipped_texts
from respine_desktop.storage import (
    Answer,
    SnapshotChanged,
    StudyDb,
    check_intact,
    read_snapshot,
    state_stamp,
)
from respine_desktop.storage.export_reads import (
    AnswerFields,
    AnswerLine,
    AuditLines,
    LineTexts,
    SessionLines,
    SubjectRecord,
    count_audit_entries,
    count_subject_records,
    iter_subject_records,
    prepare_answer_lines,
    read_mapped,
    subject_answer_lines,
    subject_answers,
    subject_ranges,
)
from respine_desktop.study import Study
from respine_desktop.write_behind import writing_behind


@dataclass(frozen=True)
class CsvExport:
    """What `export_csv` wrote."""

    directory: Path
    files: tuple[Path, ...]
    subjects: int
    answer_rows: int
    visit_rows: int
    workers: int = 1


_NEEDS_QUOTES = re.compile(r'[",\r\n]')
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def free_text(text: str) -> str:
    """A free-text cell made safe from spreadsheet formula injection: a leading ``'`` when it
    starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return (OWASP's rule)."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def _quoted(field: str) -> str:
    if _NEEDS_QUOTES.search(field) is None:
        return field
    return '"' + field.replace('"', '""') + '"'


def csv_line(fields: Sequence[str], end: str = "\r\n") -> str:
    """One RFC 4180 record: fields with a comma, quote or line break quoted, quotes doubled."""
    line = ",".join(fields)
    if line.count(",") == len(fields) - 1 and '"' not in line and "\n" not in line:
        return line + end if "\r" not in line else ",".join(map(_quoted, fields)) + end
    return ",".join(map(_quoted, fields)) + end


def _float(value: float) -> str:
    return repr(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)


_CELL: dict[type, Callable[[Any], str]] = {
    type(None): lambda _: "",
    bool: lambda v: "1" if v else "0",
    int: str,
    float: _float,
    str: str,
    date: date.isoformat,
}


def cell(value: object) -> str:
    """The CSV text of a value: '' for None, 1/0 for flags, integers plain, doubles round-trip."""
    return _CELL.get(type(value), str)(value)


class _Cells(dict[object, str]):
    """`cell` of each distinct value, computed once (codes, VAS tenths, subscale scores and
    flags repeat on every visit row). Values that compare equal have the same text below 10**15
    (1, 1.0 and True are all "1"), so keying by value is exact there; a number from 10**15 up is
    not kept (10**16 and 1e16 are equal, of two texts: "10000000000000000", "1e+16"). Emptied
    when it grows past `limit` (the unique PCS/MCS values would otherwise fill it), to keep
    memory flat."""

    limit = 8192

    def __missing__(self, key: object) -> str:
        text = cell(key)
        if isinstance(key, int | float) and not abs(key) < 1e15:
            return text
        if len(self) >= self.limit:
            self.clear()
        self[key] = text
        return text


@cache
def _option_texts() -> dict[tuple[str, int], Mapping[str, str]]:
    return {
        (item.id, c.code): c.text
        for instrument_id in instrument_ids()
        for item in load_instrument(instrument_id).items
        for c in item.choices
    }


def _label(item_id: str, code: float | None, language: str) -> str:
    """The text of a choice answer's option in `language` ('' for the VAS or a skip, and for
    a value no option has: an infinite one too, which only an edit behind the program's back
    can store)."""
    if code is None or not math.isfinite(code):
        return ""
    text = _option_texts().get((item_id, int(code)))
    if text is None:
        return ""
    # An installed translation's text is left out: the label is the same whichever process
    # (kiosk, command line, worker) writes it; the language column names the language.
    return shipped_texts(text).get(language) or text.get("en") or ""


def _answer_fields(a: Answer) -> str:
    """The middle of an answers_long record, instrument ... language (few distinct values)."""
    fields = (
        a.instrument_id,
        a.instrument_version,
        a.instrument_checksum,
        a.item_id,
        cell(a.value),
        _label(a.item_id, a.value, a.language),
        a.language,
    )
    return ",".join(map(_quoted, fields))


def vas_calibration(a: Answer) -> str:
    """The ``vas_calibration`` cell: the calibration id of a VAS answer drawn on a line, or
    ``uncalibrated`` when the device had none (or the answer predates calibrations); empty for
    other rows."""
    return a.vas_calibration or ("uncalibrated" if a.vas_line_mm is not None else "")


class _Quoted(dict[str | None, str]):
    """Each distinct text's quoted form ('' for None), computed once: for the fields with few
    values in a whole study (devices, statuses, staff ids), which repeat on most records."""

    def __missing__(self, key: str | None) -> str:
        text = self[key] = "" if key is None else _quoted(key)
        return text


def _long_lines(
    code: str,
    visits: Mapping[str, str],
    answers: Sequence[Answer],
    replaced_by: Mapping[str, str],
    memo: dict[tuple[object, ...], str],
    quoted: _Quoted,
    counted: Set[str] = frozenset(),
) -> str:
    """The answers_long records of one subject (`code` and `visits` quoted already).

    The repetitive middle fields with the device come from `memo`, keyed by every field they
    show (the instrument id and version too: a forged row may pair a checksum with another
    version, tests/exports/test_exports_csv_lines_fuzz.py), and so do status and staff id (keys
    of 7 and 3 values, apart from `_long_lines_checked`'s 6); the many-valued ones (answer ids,
    times, replacing ids) are checked all at once and, if one of them needs it, record by
    record and field by field.
    """
    if not answers:
        return ""
    ids = "".join([a.id for a in answers])
    raw = ids + "".join([a.given_at for a in answers]) + "".join(replaced_by.values())
    if _NEEDS_QUOTES.search(raw) is not None:
        return _long_lines_checked(code, visits, answers, replaced_by, memo, counted)
    head = {sid: f"{code},{visits.get(sid, ',')}," for sid in {a.session_id for a in answers}}
    session = {sid: _quoted(sid) for sid in head}
    out: list[str] = []
    append = out.append
    memo_get = memo.get
    replacing = replaced_by.get
    for a in answers:
        # one unpacking instead of a dozen attribute reads (the fields of `Answer`, in order)
        (a_id, sid, _, _, checksum, item, value, status, language, _, dev, at, by, _, reason,
         line_mm, calibration) = a  # fmt: skip
        key = (a[2], a[3], checksum, item, value, language, dev)  # (instrument id, version)
        middle = memo_get(key)
        if middle is None:
            middle = memo[key] = f"{_answer_fields(a)},{quoted[dev]}"
        pair = (status, by, calibration or ("uncalibrated" if line_mm is not None else ""))
        tail = memo_get(pair)
        if tail is None:
            tail = memo[pair] = f"{quoted[status]},{quoted[by]},{quoted[pair[2]]}"
        append(
            f"{head[sid]}{middle},{session[sid]},{at},{replacing(a_id, '')},"
            f"{'1' if a_id in counted else '0'},"
            f"{_quoted(free_text(reason)) if reason else ''},{a_id},{tail}\r\n"
        )
    return "".join(out)


def _long_lines_checked(
    code: str,
    visits: Mapping[str, str],
    answers: Sequence[Answer],
    replaced_by: Mapping[str, str],
    memo: dict[tuple[object, ...], str],
    counted: Set[str] = frozenset(),
) -> str:
    """`_long_lines` when a many-valued field may need quoting: each record checked."""
    out = []
    for a in answers:
        key = (
            a.instrument_id,
            a.instrument_version,
            a.instrument_checksum,
            a.item_id,
            a.value,
            a.language,
        )
        middle = memo.get(key)
        if middle is None:
            middle = memo[key] = _answer_fields(a)
        rest = (
            a.device_id,
            a.session_id,
            a.given_at,
            replaced_by.get(a.id, ""),
            "1" if a.id in counted else "0",
            free_text(a.reason or ""),
            a.id,
            a.status,
            a.given_by or "",
            vas_calibration(a),
        )
        text = ",".join(rest)
        if text.count(",") != 8 or _NEEDS_QUOTES.search(text) is not None:
            text = ",".join(map(_quoted, rest))
        out.append(f"{code},{visits.get(a.session_id, ',')},{middle},{text}\r\n")
    return "".join(out)


def line_texts(study: Study) -> LineTexts:
    """What SQLite cannot know of the answers_long lines (`storage._answer_lines`), as
    `_long_lines` writes it: each option's label field in each language its texts have, and
    under "" the one of any other language (`_label`); each visit's two first fields."""
    labels = {
        (item, code, language): _quoted(_label(item, code, language))
        for (item, code), text in _option_texts().items()
        for language in ("", *shipped_texts(text))
    }
    visits = {v: f"{_quoted(v)},{cell(visit_number(study, v))}" for v in study.visit_codes}
    return LineTexts(labels, visits, item_instruments(study))


_LINE = attrgetter("line")
_MARKS = attrgetter("marks")
_FIELDS = len(answers_long_columns())
_SPECIAL = b'",\r\n'


def csv_marks(data: bytes) -> int:
    """How many quotes, commas, carriage returns and line feeds the UTF-8 text `data` holds
    (one pass; UTF-8 has these bytes for these characters only): the characters that separate
    CSV fields and records, or make a field need quoting."""
    return len(data) - len(data.translate(None, _SPECIAL))


def sql_lines(
    lines: Sequence[AnswerLine], replaced_by: Mapping[str, str], counted: Set[str]
) -> bytes | None:
    """The answers_long records of one subject (UTF-8) from the lines SQLite wrote
    (`storage._answer_lines`), or None if `_long_lines` may write another text.

    Its check: in records whose fields need no quotes, the only quotes, commas, carriage
    returns and line feeds are the separators, the line ends and the labels' quotes and commas
    (`AnswerLine.marks`); any other one (in a field that needs quoting, or the line feed SQLite
    puts for a part it cannot make) makes their count over the subject's text larger. Counted
    in one pass over the bytes (UTF-8 has these bytes for these characters only). The
    superseded-by and counts fields (SQLite left them "" and 1) are then set on the rows they
    differ on.
    """
    texts = list(map(_LINE, lines))
    data = "".join(texts).encode("utf-8")
    n = len(texts)
    expected = (_FIELDS + 1) * n + sum(map(_MARKS, lines))  # 19 commas, CR and LF a record
    if csv_marks(data) != expected:
        return None
    if not replaced_by and len(counted) == n:  # ids are unique: every row counts
        return data
    for k, a in enumerate(lines):
        by = replaced_by.get(a.id, "")
        if by or a.id not in counted:
            if _NEEDS_QUOTES.search(by) is not None:
                return None
            # the fields after counts need no quotes (checked): the last 7 commas are theirs
            head, _, _, *tail = texts[k].rsplit(",", 7)
            texts[k] = ",".join([head, by, "1" if a.id in counted else "0", *tail])
    return "".join(texts).encode("utf-8")


def session_text(record: SubjectRecord, scheduled: Set[str]) -> bytes | None:
    """The answers_long records of a subject read with ``session_lines`` whose visits_wide
    records `WideRows.subject_from_sessions` made (UTF-8), or None if `sql_lines` may write
    another text.

    Those records were made only if every session is alone at its visit and each session with
    answers, when its visit is `scheduled` (the chosen session of a visit of the schedule),
    has no row superseding another nor two rows of one item: then if every session with
    answers is of a scheduled visit, all their rows are current and counted, none superseded
    (the fields SQLite left "" and 1 are right). Each session's lines are oldest first; if the
    sessions' times do not overlap (each ends before the next one starts) their lines in that
    order are the subject's, oldest first. Then `sql_lines`'s check of the text.
    """
    if not {s.visit_code for s in record.sessions} <= scheduled:
        return None
    if not all(
        type(r.first_at) is str and type(r.last_at) is str and type(r.lines) is str
        for r in record.session_lines
    ):
        return None  # (a time stored as a number or bytes: compared by SQLite's rules)
    rows = sorted(record.session_lines, key=_first_at)
    last = ""
    for row in rows:
        if str(row.first_at) <= last:
            return None
        last = str(row.last_at)
    data = "".join([row.lines for row in rows]).encode("utf-8")
    expected = sum((_FIELDS + 1) * row.rows + row.marks for row in rows)
    return data if csv_marks(data) == expected else None


def _first_at(row: SessionLines) -> str:
    return str(row.first_at)


def _replaced_by(answers: Sequence[AnswerFields]) -> dict[str, str]:
    """The ids of the rows that replaced each superseded one; a fork (two rows superseding
    one) lists both, space separated."""
    replaced_by: dict[str, str] = {}
    for a in answers:
        if a.supersedes is not None:
            prior = replaced_by.get(a.supersedes)
            replaced_by[a.supersedes] = f"{prior} {a.id}" if prior else a.id
    return replaced_by


def export_csv(
    db: StudyDb, out: str | Path, *, progress: Progress | None = None, workers: int | None = None
) -> CsvExport:
    """Write the four CSV files into the directory `out` (created if missing; files replaced).

    The subjects are written by `workers` processes in parallel (default: `default_workers`,
    one per core for a large study, this process alone for a small one); the files are the same
    whatever the number. With workers, the first writes the audit trail after its subjects
    (this process writes the codebook), each run's share of the subjects set so that they end
    together (`_shares`). The four files replace earlier ones together, once all are complete.
    Worker processes are spawned: the program's main module must guard its start with
    ``if __name__ == "__main__"`` (see `subject_parts`).

    A database opened without its integrity check (``open_database(check=False)``, as the
    ``export csv`` command does) is checked here (`storage.check_intact`): by the last worker
    first, while the others write, so that the check, a pass over the whole file, is not waited
    for before they start (and reads the file through the worker's memory map); in one process
    before anything is written. A damaged file raises
    `DatabaseCorrupt` with nothing written: no file changed, no part left, not even the folder
    if the export created it.
    """
    with read_snapshot(db):
        total = count_subject_records(db)
        parts = max(1, min(workers or default_workers(total), total))
        runs = subject_ranges(db, parts, None if parts == 1 else _shares(db, parts, total))
        stamp = state_stamp(db)
    if len(runs) == 1 and not db.checked:
        check_intact(db)  # one process: nothing to check beside, so before anything is written
    with output_folder(Path(out)) as directory:  # (removed again if made here and refused)
        finish_interrupted_set(directory)  # an earlier export killed while replacing its files
        finals = (directory / ANSWERS_LONG, directory / VISITS_WIDE)
        codebook = directory / CODEBOOK
        audit = directory / AUDIT_TRAIL
        for path in (*finals, codebook, audit):
            if files.check_target(path).is_dir():
                raise ExportError(f"{path}: is a directory")
        ticker = Ticker(progress, total, "CSV export")
        on = schedule.today()
        try:
            counts = _write_files(db, runs, stamp, on, finals, (codebook, audit), ticker)
        except SnapshotChanged:
            # A write came in while the workers started: their snapshots may differ. One process
            # reads one snapshot.
            with read_snapshot(db):
                runs = subject_ranges(db, 1)
                stamp = state_stamp(db)
            counts = _write_files(db, runs, stamp, on, finals, (codebook, audit), ticker)
        subjects, answer_rows, visit_rows = counts
        ticker.done(
            f"CSV export: {subjects} subjects, {answer_rows} answers written to {directory}"
        )
        paths = (*finals, codebook, audit)
        return CsvExport(directory, paths, subjects, answer_rows, visit_rows, len(runs))


# The check of a file (`storage.check_intact`, through a worker's memory map) costs about as
# much per 4 KiB of file as the CSV rows cost per 0.003 subject: measured at 10,000 subjects
# (a 1.26 GB file), 1.1-1.4 s of check against 13 s for the subjects' rows.
_CHECK_COST = 0.003
# The audit trail (`write_audit_lines`, through a worker's memory map) costs about as much per
# entry as the rows per 0.009 subject: 2.2-2.4 s for the 232,000 entries of that study.
_AUDIT_COST = 0.009


def _shares(db: StudyDb, parts: int, subjects: int) -> list[float]:
    """Each run's share of the subjects, so that every worker has about as much to do: the first
    writes the audit trail after its subjects, the last checks the file first (one opened
    without its check); with a and c their costs in the rows' (`_AUDIT_COST`, `_CHECK_COST`),
    each worker has (1 + a + c) / parts of the work, its rows that less what else it does."""
    rows = max(1, subjects)
    a = min(0.5, _AUDIT_COST * count_audit_entries(db) / rows)
    c = 0.0 if db.checked else min(0.5, _CHECK_COST * db.path.stat().st_size / 4096 / rows)
    each = (1 + a + c) / parts
    extra = [a, *[0.0] * (parts - 2), c]
    return [max(0.0, each - e) for e in extra]


def _write_files(
    db: StudyDb,
    runs: list[tuple[str, str | None]],
    stamp: tuple[int, ...],
    on: date,
    finals: tuple[Path, Path],
    also: tuple[Path, Path],
    ticker: Ticker,
) -> tuple[int, ...]:
    """The codebook, the audit trail (in a snapshot of the state `stamp` names) and the two
    large files by `runs` (see `export_csv`)."""
    codebook, audit = also
    workers = len(runs) > 1
    part_stamp = stamp if workers else None
    # The check of a file opened without it, by the last worker (first thing, through its
    # memory map: no read call and copy per page, 0.6 s less CPU than here at 10,000 subjects);
    # its failure stops the others before any output is complete. The audit trail by the first,
    # after its subjects, likewise through its memory map (0.4 s less CPU than here, where the
    # pages are read by a call each), and beside the other workers rather than as a third
    # process on the cores. One run: both here.
    checker = len(runs) - 1 if workers and not db.checked else None
    jobs = [
        PartJob(
            k,
            db.path,
            db.study,
            on,
            after,
            through,
            files,
            part_stamp,
            check=k == checker,
            also=(audit,) if workers and k == 0 else (),
        )
        for k, ((after, through), files) in enumerate(
            zip(runs, part_files(finals, len(runs)), strict=True)
        )
    ]

    def small_files() -> None:
        # While the workers write the subjects: the codebook; in one process, the check of a
        # file opened without it and the audit trail first.
        if not db.checked and checker is None:
            check_intact(db)
        with partial_text(codebook) as f_book:
            book = csv.writer(f_book)
            book.writerow(CODEBOOK_HEADER)
            book.writerows(codebook_rows(db.study))
        if not workers:
            with collector.paused(), read_snapshot(db, expect=stamp):
                _write_audit(db, audit)

    counts = write_parts(
        _write_part,
        jobs,
        finals,
        ticker.tick,
        "CSV export",
        also=also,
        before_commit=lambda: ticker.checkpoint("replacing the files"),
        meanwhile=small_files,
    )
    db.checked = True  # (by a worker: it would have raised)
    return counts


def _write_part(job: PartJob, tick: Tick, written: Written) -> tuple[int, int, int]:
    """Write one run of subjects into `job.files` (answers_long, visits_wide); the counts of
    subjects, answer rows and visit rows written. Run 0 writes the header lines.

    Subjects are read a row per session (``session_lines``): both records are made from those
    rows when they are sure to be the text of the answer rows' path
    (`WideRows.subject_from_sessions`, `session_text`); otherwise the subject's answer rows
    are read (`subject_answer_lines`), its answers_long records are SQLite's lines
    (`sql_lines`), and if these may differ from `_long_lines`'s text, its answers are read
    again whole and written by `_long_lines`. Once they are complete (`written`), the first
    run of several writes the audit trail (`PartJob.also`), in the same snapshot."""
    study = job.study
    with (
        collector.paused(),
        storage.open_database(job.db_path, readonly=True, study=study, check=False) as db,
    ):
        if multiprocessing.parent_process() is not None:
            # A worker process reads the file through a memory map: no read call and copy per
            # page (0.5-1 s of system time for a whole 10,000-subject study). Not in the
            # caller's process: a file cut short under a map stops the process (SIGBUS),
            # which for a worker is an export that fails (`subject_parts`), not the app.
            read_mapped(db)
        if job.check:
            check_intact(db)  # the file opened without its check (`export_csv`)
        prepare_answer_lines(db, line_texts(study))  # before the snapshot (query-only)
        with read_snapshot(db, expect=job.stamp):
            counts = _write_rows(db, job, tick, written)
            for path in job.also:  # the audit trail, in the same snapshot
                _write_audit(db, path)
    return counts


def _write_audit(db: StudyDb, path: Path) -> None:
    """The audit trail, as `path`'s ``.partial`` (complete and fsynced)."""
    with partial_text(path) as f_audit:
        write_audit_lines(f_audit, AuditLines(db))


def _write_rows(db: StudyDb, job: PartJob, tick: Tick, written: Written) -> tuple[int, int, int]:
    """The subjects of `job` written into its part files (see `_write_part`), then said
    complete (`written`: the caller may append them, and the next run's to them, from then)."""
    study = job.study
    items = item_instruments(study)
    subjects = answer_rows = visit_rows = 0
    memo: dict[tuple[object, ...], str] = {}
    quoted = _Quoted()
    texts = _Cells()
    with (
        files.open_new(job.files[0], "wb") as f_long,  # UTF-8 bytes: see `sql_lines`
        files.open_new(job.files[1], "w", encoding="utf-8", newline="") as f_wide,
        # the first run's parts are the files renamed into place: their disk writes start as
        # they are written (`write_behind`); the others' parts are copied and removed
        writing_behind(f_long, f_wide) if job.index == 0 else contextlib.nullcontext(),
    ):
        written(f_long, f_wide, complete=False)  # (the caller may append them as they grow)
        if job.index == 0:
            f_long.write(csv_line([c.name for c in answers_long_columns()]).encode("utf-8"))
            f_wide.write(csv_line([c.name for c in visits_wide_columns(study)]))
        records = iter_subject_records(
            db,
            on=job.on,
            history=False,
            after=job.after,
            through=job.through,
            current_scores=True,
            session_lines=True,
        )
        wide = WideRows(study, items, texts, _quoted)
        scheduled = frozenset(study.visit_codes)
        for record in records:
            code = record.subject.code
            wide_lines = wide.subject_from_sessions(record)
            long_text = None if wide_lines is None else session_text(record, scheduled)
            if wide_lines is not None and long_text is not None:
                answer_rows += sum(row.rows for row in record.session_lines)
            else:
                long_text, wide_lines, rows = _by_rows(db, record, wide, memo, quoted)
                answer_rows += rows
            f_long.write(long_text)
            f_wide.write(wide_lines)
            visit_rows += len(record.schedule)
            subjects += 1
            tick(subjects, code)
        f_long.flush()
        f_wide.flush()
        written(f_long, f_wide)
    return subjects, answer_rows, visit_rows


def _by_rows(
    db: StudyDb,
    record: SubjectRecord,
    wide: WideRows,
    memo: dict[tuple[object, ...], str],
    quoted: _Quoted,
) -> tuple[bytes, str, int]:
    """A subject's answers_long records (UTF-8) and visits_wide records from its answer rows,
    and how many rows (see `_write_part`)."""
    lines = subject_answer_lines(db, record.subject.id)
    wide_lines, counted = wide.subject(record, lines)
    replaced_by = _replaced_by(lines)
    long_text = sql_lines(lines, replaced_by, counted)
    if long_text is None:
        study = db.study
        visit_of = {s.id: s.visit_code for s in record.sessions}
        quoted_visits = {
            k: f"{_quoted(v)},{cell(visit_number(study, v))}" for k, v in visit_of.items()
        }
        answers = subject_answers(db, record.subject.id)
        code = _quoted(record.subject.code)
        long_text = _long_lines(
            code, quoted_visits, answers, replaced_by, memo, quoted, counted
        ).encode("utf-8")
    return long_text, wide_lines, len(lines)
