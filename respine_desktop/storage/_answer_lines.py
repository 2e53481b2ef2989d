"""The answers_long.csv lines of the CSV export as SQLite builds them, one text per answer row.

The CSV export read the 17 columns of every answer row into Python values and formatted each
record with a Python f-string; SQLite builds the same text (``concat_ws``, about 1 µs a row
here) and only 7 of the columns become Python values (about 1.2 s of CPU less at 10,000
subjects, of some 13 s a worker spends). The CSV rules stay the export's
(`exports.csv_export`): what SQLite cannot know comes from it, already in its CSV form
(`LineTexts`: the label of each option by item, code and language; the first fields of each
visit), and the export checks each subject's text before using it (`csv_export.sql_lines`, which
counts the quotes, commas, carriage returns and line feeds: a field that needs quoting has more
of them than the record expects). So that the check finds every text that the export's rules
would have written otherwise, a part SQLite cannot make as Python does is a line feed (the
visit's a line feed and a comma: the comma of its two fields is expected), which only adds to
the count:

* a value other than a choice code or a double that SQLite writes as Python does (an integer
  below 10^15, or a double whose 15 significant digits read back to the same double, between
  10^-4 and 10^15: Python's shortest round-trip text is then the same);
* the session of a visit that `LineTexts.visits` does not list;
* a NULL where the schema says NOT NULL (a file written by something else).

The superseded-by and counts fields are left ``""`` and ``1`` (the few rows they differ on are
the export's to change); the reason of a correction gets its leading ``'`` here already
(`csv_export.free_text`). Texts are joined byte for byte (``concat_ws`` keeps a NUL, where
``printf('%s')`` would stop at it).

Each row also carries what the visits_wide rows read of an answer (`AnswerLine`, the fields of
`Answer` of the same names), and the number of quotes and commas of its label (`marks`), for
the export's check. The texts are kept in temporary tables of the connection
(`prepare_answer_lines`), made before the read snapshot (whose connection is query-only).

The same lines come a session at a time too (`session_lines_sql`, `SessionLines`: one row per
session, its lines joined oldest first), with what the visits_wide rows need of the session in
text: its rows' cells in column order and the column of each (a third temporary table, the
visits_wide item columns), for the export to make both files without a Python value per answer
when those texts are sure to be its (`exports.wide_rows`, `exports.csv_export.session_text`).

Reads only (the temporary tables are the connection's own).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple, Protocol

from respine_desktop.instruments import load_instruments
from respine_desktop.storage._database import StudyDb
from respine_desktop.storage._records import AnswerStatus, AnswerValue
from respine_desktop.storage.stored_values import suspect_sql

__all__ = [
    "AnswerFields",
    "AnswerLine",
    "LineTexts",
    "SessionLines",
    "answer_lines_sql",
    "prepare_answer_lines",
    "session_lines_sql",
    "value_text",
]


class AnswerFields(Protocol):
    """What the visits_wide rows read of an answer: `Answer` and `AnswerLine` both have it."""

    @property
    def id(self) -> str: ...
    @property
    def session_id(self) -> str: ...
    @property
    def instrument_id(self) -> str: ...
    @property
    def item_id(self) -> str: ...
    @property
    def value(self) -> AnswerValue | None: ...
    @property
    def status(self) -> AnswerStatus: ...
    @property
    def supersedes(self) -> str | None: ...


class AnswerLine(NamedTuple):
    """One answer row as `answer_lines_sql` reads it: the fields the visits_wide rows read
    (those of `Answer`, the value cast as `Answer`'s is), the quotes and commas of its label
    (`marks`), its answers_long line as SQLite wrote it, and when it was written (`written`:
    its rowid; the rows only grow, so a later row has a greater one: of two current rows of an
    item, a fork, the last written counts)."""

    id: str
    session_id: str
    instrument_id: str
    item_id: str
    value: AnswerValue | None
    status: AnswerStatus
    supersedes: str | None
    marks: int
    line: str
    written: int


class SessionLines(NamedTuple):
    """One session's answer rows as `session_lines_sql` reads them, in one row.

    `rows` how many, `superseding` how many supersede another row, `suspects` how many SQLite
    cannot vouch for (`stored_values.suspect_sql`: none in a file only the program wrote),
    `first_at` / `last_at`
    their earliest and latest ``given_at``, `marks` the quotes and commas of their labels
    (`AnswerLine.marks`), `lines` their answers_long lines (`AnswerLine.line`) oldest first.
    In the order SQLite reads the session's rows (its index of items: the same order for both,
    not sorted, which cost a sort of every session's rows twice): `positions` has a character
    per row, ``char(48 + column)`` (`LineTexts.columns`), or ``?`` for an item of no column or
    of another instrument than its column's; `cells` the rows' visits_wide cells (``.S`` for a
    skipped answer, else `value_text`, so a line feed where SQLite's text might not be
    Python's), each after a separator: ``char(30)`` before the first of a run of one
    instrument's adjacent columns, else a comma. So when `positions` is the characters of whole
    runs' columns, each run in order and once (the runs in any order), `cells` split at
    ``char(30)`` is those runs' cells, in the same order (`WideRows._present`)."""

    subject_id: str
    session_id: str
    rows: int
    superseding: int
    suspects: int
    first_at: str | None
    last_at: str | None
    marks: int
    positions: str
    cells: str
    lines: str


@dataclass(frozen=True)
class LineTexts:
    """What SQLite cannot know of the lines, as the CSV has it.

    `labels`: the label field of a choice answer by (item id, code, language); (item id, code,
    "") gives the label of any language not listed.
    `visits`: the visit and visit_number fields by visit code ("M3,3").
    `columns`: (item id, instrument id) of the visits_wide item columns, in order (for
    `session_lines_sql`; an item listed twice leaves the table empty: every row is then ``?``)."""

    labels: Mapping[tuple[str, int, str], str]
    visits: Mapping[str, str]
    columns: Sequence[tuple[str, str]] = ()


_LABELS = "csv_answer_labels"
_VISITS = "csv_answer_visits"
_COLUMNS = "csv_answer_columns"


def prepare_answer_lines(db: StudyDb, texts: LineTexts) -> None:
    """The temporary tables `answer_lines_sql` reads, (re)made in `db`'s connection; before
    the read snapshot (the connection is query-only inside it)."""
    conn = db.conn
    query_only = bool(conn.execute("PRAGMA query_only").fetchone()[0])
    # A read-only connection is query-only: lifted for these temporary tables only (as
    # `open_database` does for the temporary views of an older file), then set back.
    conn.execute("PRAGMA query_only = OFF")
    try:
        conn.execute(f"DROP TABLE IF EXISTS temp.{_LABELS}")
        conn.execute(f"DROP TABLE IF EXISTS temp.{_VISITS}")
        conn.execute(f"DROP TABLE IF EXISTS temp.{_COLUMNS}")
        conn.execute(
            f"CREATE TEMP TABLE {_LABELS} (item_id TEXT NOT NULL, code INTEGER NOT NULL, "
            "language TEXT NOT NULL, text TEXT NOT NULL, marks INTEGER NOT NULL, "
            "PRIMARY KEY (item_id, code, language)) WITHOUT ROWID"
        )
        conn.execute(
            f"CREATE TEMP TABLE {_VISITS} (code TEXT PRIMARY KEY, text TEXT NOT NULL) WITHOUT ROWID"
        )
        conn.executemany(
            f"INSERT INTO temp.{_LABELS} VALUES (?, ?, ?, ?, ?)",
            [
                (item, code, language, text, text.count('"') + text.count(","))
                for (item, code, language), text in texts.labels.items()
            ],
        )
        conn.executemany(f"INSERT INTO temp.{_VISITS} VALUES (?, ?)", texts.visits.items())
        conn.execute(
            f"CREATE TEMP TABLE {_COLUMNS} (item_id TEXT PRIMARY KEY, instrument_id TEXT NOT NULL, "
            "position INTEGER NOT NULL, first INTEGER NOT NULL) WITHOUT ROWID"
        )
        items = [item for item, _ in texts.columns]
        if len(set(items)) == len(items):
            conn.executemany(
                f"INSERT INTO temp.{_COLUMNS} VALUES (?, ?, ?, ?)",
                [
                    (item, instrument, k, k == 0 or texts.columns[k - 1][1] != instrument)
                    for k, (item, instrument) in enumerate(texts.columns)
                ],
            )
    finally:
        if query_only:
            conn.execute("PRAGMA query_only = ON")


def value_text(value: str, choice: str = "0") -> str:
    """The SQL expression of the text `csv_export.cell` writes for the value `value` (an SQL
    expression; `choice`: whether it is a choice code, cast to INTEGER), or a line feed where
    SQLite's text might differ (see the module): NULL is "", an integer its digits, a double
    that is an integer below 10^15 its digits (-0.0 is "0"), another double between 10^-4 and
    10^15 its 15 significant digits if they read back to the same double (Python's shortest
    round-trip text is then those digits)."""
    return (
        f"CASE WHEN {value} IS NULL THEN '' "
        f"WHEN {choice} THEN CAST(CAST({value} AS INTEGER) AS TEXT) "
        f"WHEN typeof({value}) = 'integer' THEN CAST({value} AS TEXT) "
        f"WHEN typeof({value}) <> 'real' OR NOT abs({value}) < 1e15 THEN char(10) "
        f"WHEN {value} = CAST({value} AS INTEGER) THEN CAST(CAST({value} AS INTEGER) AS TEXT) "
        f"WHEN abs({value}) >= 1e-4 AND CAST(printf('%.15g', {value}) AS REAL) = {value} "
        f"THEN printf('%.15g', {value}) ELSE char(10) END"
    )


def stored_value_sql(vas: str) -> str:
    """The SQL expression of an answer's value (``a.value``) as the exports read it: a choice
    code stored as a whole REAL cast to INTEGER by SQLite, any other value as stored (`vas`: the
    quoted ids of the items that are not choices). A stored value no way in accepts (2.7, a
    text) is so read as it is, for `stored_values` to refuse, never cast (to 2, to 0)."""
    return (
        f"CASE WHEN a.item_id IN ({vas}) THEN a.value "
        "WHEN a.value = CAST(a.value AS INTEGER) THEN CAST(a.value AS INTEGER) ELSE a.value END"
    )


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


class _Parts(NamedTuple):
    """The SQL pieces of an answer row both queries share (`_parts`)."""

    value: str  # the value as `export_reads` reads it
    choice: str  # whether the row's item is a choice item
    marks: str  # `AnswerLine.marks`
    line: str  # `AnswerLine.line`
    joins: str  # FROM ... (sessions s, subjects j, visits v, answers a, labels l)


@cache
def _parts() -> _Parts:
    vas = ", ".join(
        _sql_text(item.id)
        for instrument in load_instruments().values()
        for item in instrument.items
        if item.type != "choice"
    )
    value = f"({stored_value_sql(vas)})"  # the value as `export_reads` reads it
    choice = f"a.item_id NOT IN ({vas})"
    text = value_text("a.value", choice)
    reason = (
        "CASE WHEN a.reason IS NULL THEN '' WHEN substr(a.reason, 1, 1) IN "
        "('=', '+', '-', '@', char(9), char(13)) THEN '''' || a.reason ELSE a.reason END"
    )
    calibration = (
        "CASE WHEN a.vas_calibration <> '' THEN a.vas_calibration "
        "WHEN a.vas_line_mm IS NOT NULL THEN 'uncalibrated' ELSE '' END"
    )
    label = (
        f"(SELECT d.text FROM temp.{_LABELS} d WHERE d.item_id = a.item_id "
        f"AND d.code = CAST(a.value AS INTEGER) AND d.language = '')"
    )
    marks = label.replace("d.text", "d.marks")

    def strict(column: str) -> str:
        return f"coalesce({column}, char(10))"

    fields = [
        strict("j.code"),
        "coalesce(v.text, char(10, 44))",  # its marker keeps the field's comma
        *map(
            strict,
            ("a.instrument_id", "a.instrument_version", "a.instrument_checksum", "a.item_id"),
        ),
        text,
        f"coalesce(l.text, {label}, '')",
        *map(strict, ("a.language", "a.device_id", "a.session_id", "a.given_at")),
        "''",  # superseded_by
        "'1'",  # counts
        reason,
        strict("a.id"),
        strict("a.status"),
        "coalesce(a.given_by, '')",
        f"{calibration} || char(13, 10)",
    ]
    return _Parts(
        value=value,
        choice=choice,
        marks=f"coalesce(l.marks, {marks}, 0)",
        line=f"concat_ws(',', {', '.join(fields)})",
        # the visit's texts joined before the answers: looked up once a session, not a row
        joins=(
            "FROM sessions s JOIN subjects j ON j.id = s.subject_id "
            f"LEFT JOIN temp.{_VISITS} v ON v.code = s.visit_code "
            "JOIN answers a ON a.session_id = s.id "
            f"LEFT JOIN temp.{_LABELS} l ON l.item_id = a.item_id "
            "AND l.code = CAST(a.value AS INTEGER) AND l.language = a.language "
        ),
    )


@cache
def answer_lines_sql() -> str:
    """The rows (`AnswerLine`) of the answers of some subjects (``{ids}``: their ``?``), in the
    order of `export_reads` (subject by subject, each subject's oldest first)."""
    p = _parts()
    return (
        f"SELECT a.id, a.session_id, a.instrument_id, a.item_id, {p.value}, a.status, "
        f"a.supersedes, {p.marks}, {p.line}, a.rowid {p.joins}"
        "WHERE s.subject_id IN ({ids}) ORDER BY s.subject_id, a.given_at, a.rowid"
    )


@cache
def session_lines_sql(text_columns: tuple[str, ...]) -> str:
    """The rows (`SessionLines`) of the sessions with answers of some subjects (``{ids}``:
    their ``?``), subject by subject; `text_columns` those of the answers declared TEXT in
    this file (`stored_values.text_columns`: the suspects hold bytes in one of them). Grouped in
    the order the subjects' index gives the sessions (no sort of the groups); each aggregate
    orders its own rows. A row's item's instrument and code for `suspect_sql` come from the
    look-ups the lines join anyway (the visits_wide columns, the labels: a language the labels
    lack makes its choice answers suspects, which `stored_values` then checks)."""
    p = _parts()
    suspect = suspect_sql(text_columns, "c.instrument_id", "l.code")
    cell = f"CASE WHEN a.status = 'skipped' THEN '.S' ELSE {value_text('a.value', p.choice)} END"
    # (unordered: in the order the session's rows are read, the same for both)
    positions = (
        "group_concat(CASE WHEN c.instrument_id = a.instrument_id THEN char(48 + c.position) "
        "ELSE '?' END, '')"
    )
    cells = f"group_concat(CASE WHEN c.first THEN char(30) ELSE ',' END || {cell}, '')"
    return (
        f"SELECT s.subject_id, s.id, count(*), count(a.supersedes), sum({suspect}), "
        "min(a.given_at), "
        f"max(a.given_at), sum({p.marks}), {positions}, {cells}, "
        f"group_concat({p.line}, '' ORDER BY a.given_at, a.rowid) {p.joins}"
        f"LEFT JOIN temp.{_COLUMNS} c ON c.item_id = a.item_id "
        "WHERE s.subject_id IN ({ids}) GROUP BY s.subject_id, s.rowid"
    )
