"""Study databases with rows written behind the program's back, for the CSV export's fuzz
(`tests/exports/test_exports_csv_lines_fuzz.py`).

A `Forgery` says what to add to (or change in) a small real study (`scenario_db`: three subjects,
corrections, a missed and a parked visit): subjects, sessions, answer rows, edits of stored answer
rows and audit entries, each field drawn from values an inspector would try (`forgeries`).
Everything it writes is schema-valid (the export refuses a file whose CHECK constraints fail:
`quick_check`), so only what the schema lets through is tried: any text in a TEXT column
(quotes, commas, CR, LF, NUL, formula starts, unicode, long), any double or integer in
``answers.value`` (texts and blobs for choice items only: a VAS value stored as a text or a blob
makes the export raise TypeError in `csv_export._label`, whichever way it writes the lines), any
JSON or non-JSON payload. Most answers go into sessions that are not submitted: a submitted one
whose current answers changed other than by one chain of supersessions is scored again, and the
export refuses (`ExportError`) an answer its instrument's rule forbids (a quarter of the
examples; the fuzz then checks that both ways refuse).

Rows refer to the stored ones by position (`Ref`), not by id: the template's ids are new UUIDs
each time it is made, and an `@example` must name rows that exist.
"""

from __future__ import annotations

import json
import math
import shutil
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

from respine_desktop.instruments import load_instruments

# --- the values ----------------------------------------------------------------------------

MARKS = ['"', ",", "\r", "\n", "\r\n", '""', '","', "\n\r", '"\r\n"']
"""Characters that separate CSV fields and records or make a field need quoting."""
ODD = [
    "\x00",
    "=",
    "+",
    "-",
    "@",
    "'",
    "\t",
    " ",
    "é",
    "e\u0301",  # e + combining acute
    "\U0001f600",  # astral (a surrogate pair in UTF-16, 4 bytes in UTF-8)
    "\U00010348",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\u200b",
    "\x7f",
    "\x1b",
    "\x85",
    "ß",
    "İ",
    "\\",
    ";",
    "{}",
    "null",
    '{"x": 1}',
    "=1+1",
    "@SUM(A1)",
    "-2",
    "+33 1",
]
LONG = ["x" * 5000, "é" * 2000, "\U0001f600" * 1200, "=" + "a" * 3000]
_NO_MARKS = st.characters(exclude_characters='",\r\n', exclude_categories=["Cs"])


def _texts(fragments: list[str], alphabet: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(
        st.one_of(st.sampled_from(fragments), st.text(alphabet, max_size=6)), max_size=4
    ).map("".join)


CLEAN_TEXTS = _texts(ODD + LONG, _NO_MARKS)
"""Texts without a quote, comma or line break: SQLite writes the line itself."""
ANY_TEXTS = _texts(ODD + MARKS + LONG, st.characters(exclude_categories=["Cs"]))
"""Any text (no lone surrogate: Python cannot store one)."""


@st.composite
def sometimes(draw: st.DrawFn, usual: st.SearchStrategy[Any], *odd: st.SearchStrategy[Any]) -> Any:
    """Mostly `usual`, now and then one of `odd` (shrinks towards `usual`)."""
    k = draw(st.integers(0, 5 + len(odd)))
    return draw(odd[k - 6]) if k >= 6 else draw(usual)


def odd_text(usual: Any) -> st.SearchStrategy[Any]:
    """A field's usual value, or now and then a clean or any text."""
    return sometimes(st.just(usual), CLEAN_TEXTS, ANY_TEXTS)


SPECIAL_DOUBLES = [
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    2.225073858507201e-308,  # the largest subnormal
    2.2250738585072014e-308,  # the smallest normal
    1e-308,
    1e308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    math.inf,
    -math.inf,
    0.1 + 0.2,
    0.3,
    1 / 3,
    -2 / 3,
    66.1,
    99.95,
    55.0,
    100.0,
    1e-4,
    math.nextafter(1e-4, 0),
    9.999e-5,
    5e-5,
    1e15,
    -1e15,
    1e15 - 1,
    1e15 - 0.5,
    math.nextafter(1e15, 0),
    1e15 + 1,
    1e16,
    1e17,
    2.0**53,
    2.0**53 + 2,
    -(2.0**53),
    1e22,
    1e23,
    123_456_789_012_345.6,
    12_345_678_901_234.56,
    0.123456789012345,
    0.1234567890123456,
    math.pi,
    math.e,
]


def _decimal(mantissa: int, exponent: int) -> float:
    return float(f"{mantissa}e{exponent}")


DOUBLES: st.SearchStrategy[float | int] = st.one_of(
    st.sampled_from(SPECIAL_DOUBLES),
    st.integers(-(10**6), 10**6).map(float),  # integers stored as REAL
    st.integers(-(2**63), 2**63 - 1),  # bound as INTEGER, stored as REAL by the column
    st.builds(_decimal, st.integers(-(10**15) + 1, 10**15 - 1), st.integers(-24, 20)),
    st.builds(_decimal, st.integers(10**15, 10**17), st.integers(-25, 2)),  # 16-17 digits
    st.floats(1e15, 1e17) | st.floats(-1e17, -1e15),
    st.floats(min_value=-2.3e-308, max_value=2.3e-308),  # subnormals
    st.floats(allow_nan=False),
)
"""Values of every kind a REAL column holds (NaN is stored as NULL, a skip)."""
CHOICE_ODD: st.SearchStrategy[Any] = st.sampled_from(
    ["3", "3.7", "abc", "", " 2 ", "0x10", "1e3", "-0", b"\x00\xff", b""]
)
"""What else a choice item's value may hold (text that is no number, a blob): both paths read
it cast to an integer by SQLite."""

VAS = "vas_pain"
ITEMS = [VAS, "odi_01", "odi_03", "odi_10", "sf36_01", "sf36_20", "sf36_36", "zz_99"]
LANGUAGES = ["en", "fr", "xx", "", "EN", "en-GB", "fr-CA"]
TIMES = [
    "2025-01-26T09:01:00.000Z",  # an M0 answer's time of the template: a tie
    "2026-01-01T00:00:00.000Z",
    "2026-03-02T09:30:00.000Z",
    "1999-12-31T23:59:59.999Z",
    "2099-01-01T00:00:00.000Z",
]
VISITS = ["M0", "M1", "M3", "M6", "M12", "M24", "X9", "m3", "M 3"]
ACTIONS = ["answer.corrected", "visit.missed", "session.submitted", "conflict.resolved", "x"]


# --- what a forgery holds ------------------------------------------------------------------


@dataclass(frozen=True)
class Ref:
    """A row by position: ``template`` (the template's rows, in rowid order; subjects by code),
    ``new`` (this forgery's), or ``text`` (an id no row has: `text` itself)."""

    kind: str
    index: int = 0
    text: str = ""


Instrument = Ref | tuple[str | Ref, str | Ref, str | Ref]
"""A template triple (id, version, checksum of its rows) by position, or three parts, each a text
or a `Ref`: that part of the template's triple."""


@dataclass(frozen=True)
class NewSession:
    subject: Ref
    visit_code: str
    state: str = "in_progress"  # a submitted one is scored, and its answers validated
    id_suffix: str = ""


@dataclass(frozen=True)
class NewAnswer:
    session: Ref  # template sessions (rowid order) or this forgery's
    item_id: str
    value: Any  # None: skipped
    instrument: Instrument = Ref("template")
    language: str = "en"
    device_id: str | None = None  # None: the template's device
    given_at: str = "2026-01-01T00:00:00.000Z"
    given_by: str | None = None
    supersedes: Ref | None = None  # answer rows
    reason: str | None = None
    vas_line_mm: float | None = None
    vas_calibration: str | None = None
    id_suffix: str = ""


@dataclass(frozen=True)
class Edit:
    """A stored answer row's column set to another value (the append-only trigger dropped)."""

    row: int  # template answers, rowid order (modulo their number)
    column: str
    value: Any


@dataclass(frozen=True)
class NewEntry:
    device_id: str | None = None  # None: the template's device
    seq: Any = None  # None: a fresh integer
    at: str = "2026-01-01T00:00:00.000Z"
    actor: str | None = None
    action: str = "answer.corrected"
    entity: str = "answers"
    entity_id: str | None = None
    subject: Ref | None = None  # template subjects by code, "new": the bundle alias, "subject":
    # this forgery's new subject
    payload: str = "{}"


@dataclass(frozen=True)
class Forgery:
    subjects: tuple[str, ...] = ()  # codes of new subjects
    sessions: tuple[NewSession, ...] = ()
    answers: tuple[NewAnswer, ...] = ()
    edits: tuple[Edit, ...] = ()
    entries: tuple[NewEntry, ...] = ()
    aliases: tuple[int, ...] = field(default=())  # template subjects a bundle import aliased


# --- the strategies ------------------------------------------------------------------------

TEMPLATE_SUBJECTS = 3
TEMPLATE_SESSIONS = 7
PARKED = Ref("template", 6)  # RSP-01-002's M3: not submitted, its answers are not scored
ODI, SF36, VAS_INSTRUMENT = (Ref("template", k) for k in range(3))  # the template's triples


def _instruments(checksums_named: bool) -> st.SearchStrategy[Instrument]:
    """A template instrument, or odd texts. `checksums_named`: every checksum comes with one
    instrument id and version (the odd ones derived from it), as the program writes them; else
    a template checksum may come with another id or version."""
    template = st.builds(Ref, st.just("template"), st.integers(0, 2))
    if checksums_named:
        odd = ANY_TEXTS.map(lambda c: (f"i{len(c) % 3}", f"v{len(c) % 2}", "sum:" + c))
        return sometimes(template, odd)
    part = sometimes(template, CLEAN_TEXTS, ANY_TEXTS)
    return sometimes(template, st.tuples(part, part, part))


def accepted_values(item_id: str) -> st.SearchStrategy[Any]:
    """Values of `item_id` a way in stores (the others stop an export: `storage.stored_values`):
    a VAS on its 0.1 mm grid (as a kiosk computes it, binary noise included: 0.1 * 3), a choice
    code (as the column holds it, a REAL, or bound as an integer)."""
    item = _ITEMS[item_id]
    if item.type != "choice":
        tenths = st.integers(0, 1000)
        return tenths.map(lambda n: n / 10) | tenths.map(lambda n: n * 0.1) | st.integers(0, 100)
    return st.sampled_from(item.codes).flatmap(lambda c: st.sampled_from([float(c), c]))


_ITEMS = {item.id: item for inst in load_instruments().values() for item in inst.items}


@st.composite
def _answer(draw: st.DrawFn, sessions: int, earlier: int, checksums_named: bool) -> NewAnswer:
    item = draw(sometimes(st.sampled_from(ITEMS), CLEAN_TEXTS, ANY_TEXTS))
    values: st.SearchStrategy[Any] = DOUBLES if item == VAS else DOUBLES | CHOICE_ODD
    # mostly a value an export accepts (its lines then compared), now and then any other (the
    # export then refuses the file, both ways)
    usual = accepted_values(item) if item in _ITEMS else values
    value = draw(st.none() | sometimes(usual, values))
    supersedes = draw(
        st.none()
        | st.builds(Ref, st.just("template"), st.integers(0, 400))
        | st.builds(Ref, st.just("text"), st.just(0), odd_text("dangling"))
        | (st.builds(Ref, st.just("new"), st.integers(0, earlier - 1)) if earlier else st.none())
    )
    # Mostly sessions that are not submitted: a submitted session whose current answers
    # changed other than by one chain of supersessions is scored again, and the export refuses
    # an answer its instrument's rule forbids (`visit_values.score_answers`).
    unscored = st.just(PARKED)
    if sessions:
        unscored |= st.builds(Ref, st.just("new"), st.integers(0, sessions - 1))
    return NewAnswer(
        session=draw(
            sometimes(
                unscored, st.builds(Ref, st.just("template"), st.integers(0, TEMPLATE_SESSIONS - 1))
            )
        ),
        item_id=item,
        value=value,
        instrument=draw(_instruments(checksums_named)),
        language=draw(sometimes(st.sampled_from(LANGUAGES), CLEAN_TEXTS, ANY_TEXTS)),
        device_id=draw(sometimes(st.none(), CLEAN_TEXTS, ANY_TEXTS)),
        given_at=draw(sometimes(st.sampled_from(TIMES), CLEAN_TEXTS, ANY_TEXTS)),
        given_by=draw(st.none() | st.just("staff-1") | CLEAN_TEXTS | ANY_TEXTS),
        supersedes=supersedes,
        reason=draw(st.none() | CLEAN_TEXTS | ANY_TEXTS),
        vas_line_mm=draw(st.none() | st.just(100.0) | st.floats(allow_nan=False)),
        vas_calibration=draw(
            st.none() | st.sampled_from(["", "cal-1", "uncalibrated"]) | ANY_TEXTS
        ),
        id_suffix=draw(sometimes(st.just(""), CLEAN_TEXTS, ANY_TEXTS)),
    )


_EDITABLE = {
    "reason": st.none() | CLEAN_TEXTS | ANY_TEXTS,
    "given_by": st.none() | CLEAN_TEXTS | ANY_TEXTS,
    "language": st.sampled_from(LANGUAGES) | CLEAN_TEXTS | ANY_TEXTS,
    "vas_calibration": st.none() | st.just("") | ANY_TEXTS,
    "vas_line_mm": st.none() | st.floats(allow_nan=False),
    "device_id": CLEAN_TEXTS | ANY_TEXTS,
    "given_at": st.sampled_from(TIMES) | ANY_TEXTS,
    "supersedes": st.none() | ANY_TEXTS,
}


@st.composite
def _edit(draw: st.DrawFn) -> Edit:
    column = draw(st.sampled_from(sorted(_EDITABLE)))
    return Edit(draw(st.integers(0, 400)), column, draw(_EDITABLE[column]))


@st.composite
def _reason(draw: st.DrawFn) -> Any:
    leaf = st.none() | st.booleans() | st.integers(-(2**70), 2**70) | st.floats() | ANY_TEXTS
    return draw(leaf | st.lists(leaf, max_size=2) | st.dictionaries(CLEAN_TEXTS, leaf, max_size=2))


@st.composite
def payloads(draw: st.DrawFn) -> str:
    """An audit entry's payload: mostly a JSON object with a reason of any JSON type (and row
    images, which the export leaves out), else any JSON or no JSON at all."""
    k = draw(st.integers(0, 9))
    if k < 7:
        obj: dict[str, Any] = {}
        for key in draw(st.lists(st.sampled_from(["reason", "k", "rows_after", "x"]), unique=True)):
            obj[key] = draw(_reason()) if key != "rows_after" else {"answers": [1, 2]}
        for key in draw(st.lists(ANY_TEXTS, max_size=2)):
            obj[key] = draw(ANY_TEXTS)
        text = json.dumps(obj, ensure_ascii=draw(st.booleans()))
        return text if k < 6 else text.replace(":", " : ").replace(",", " ,\n ")  # spacing
    return draw(
        st.sampled_from(
            ["{}", "[]", "[1, 2]", '"a string"', "42", "null", "{", '{"reason": 1}x', "{a: 1}"]
        )
        | ANY_TEXTS
    )


@st.composite
def _entry(draw: st.DrawFn, aliases: int, new_subjects: int) -> NewEntry:
    subjects = st.none() | st.builds(Ref, st.just("template"), st.integers(0, 2))
    subjects |= st.builds(Ref, st.just("text"), st.just(0), ANY_TEXTS)
    if aliases:
        subjects |= st.builds(Ref, st.just("new"), st.integers(0, aliases - 1))
    if new_subjects:
        subjects |= st.builds(Ref, st.just("subject"), st.integers(0, new_subjects - 1))
    return NewEntry(
        device_id=draw(sometimes(st.none(), CLEAN_TEXTS, ANY_TEXTS)),
        seq=draw(sometimes(st.none(), st.just(2.5), st.sampled_from(["x", "10", 2**62]))),
        at=draw(sometimes(st.sampled_from(TIMES), CLEAN_TEXTS, ANY_TEXTS)),
        actor=draw(st.none() | st.just("staff-1") | CLEAN_TEXTS | ANY_TEXTS),
        action=draw(sometimes(st.sampled_from(ACTIONS), CLEAN_TEXTS, ANY_TEXTS)),
        entity=draw(odd_text("answers")),
        entity_id=draw(st.none() | CLEAN_TEXTS | ANY_TEXTS),
        subject=draw(subjects),
        payload=draw(payloads()),
    )


@st.composite
def forgeries(draw: st.DrawFn, *, checksums_named: bool = True) -> Forgery:
    """What to write into the template (see the module). `checksums_named=False` lets a
    checksum come with another instrument id or version than its other rows have."""
    # (codes are unique; an empty one is never exported, by either path: `code > ''`)
    subjects = tuple(dict.fromkeys(draw(st.lists(odd_text("RSP-01-900"), max_size=2))))
    owners = st.builds(Ref, st.just("template"), st.integers(0, TEMPLATE_SUBJECTS - 1))
    if subjects:
        owners |= st.builds(Ref, st.just("new"), st.integers(0, len(subjects) - 1))
    sessions = tuple(
        draw(
            st.lists(
                st.builds(
                    NewSession,
                    owners,
                    sometimes(st.sampled_from(VISITS), ANY_TEXTS),
                    sometimes(st.sampled_from(["in_progress", "parked"]), st.just("submitted")),
                    sometimes(st.just(""), CLEAN_TEXTS, ANY_TEXTS),
                ),
                max_size=3,
            )
        )
    )
    answers: list[NewAnswer] = []
    for _ in range(draw(st.integers(0, 12))):
        answers.append(draw(_answer(len(sessions), len(answers), checksums_named)))
    aliases = tuple(draw(st.lists(st.integers(0, 2), max_size=2)))
    return Forgery(
        subjects=subjects,
        sessions=sessions,
        answers=tuple(answers),
        edits=tuple(draw(st.lists(_edit(), max_size=3))),
        entries=tuple(draw(st.lists(_entry(len(aliases), len(subjects)), max_size=10))),
        aliases=aliases,
    )


# --- the writer ----------------------------------------------------------------------------


def _row(conn: sqlite3.Connection, table: str, where: str = "1") -> dict[str, Any]:
    cursor = conn.execute(f"SELECT * FROM {table} WHERE {where} ORDER BY rowid LIMIT 1")
    names = [d[0] for d in cursor.description]
    return dict(zip(names, cursor.fetchone(), strict=True))


def _insert(conn: sqlite3.Connection, table: str, row: dict[str, Any]) -> None:
    conn.execute(
        f"INSERT INTO {table} ({', '.join(row)}) VALUES ({', '.join('?' for _ in row)})",
        list(row.values()),
    )


def _column(conn: sqlite3.Connection, sql: str) -> list[Any]:
    return [r[0] for r in conn.execute(sql)]


def forge(template: Path, path: Path, *forgeries: Forgery) -> Path:
    """A copy of `template` at `path` with `forgeries` written into it (module docstring), one
    after the other: their new rows' ids and sequences apart, their `Ref`s to the template's
    rows (the new subjects' codes are theirs to keep apart)."""
    shutil.copyfile(template, path)
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute("DROP TRIGGER answers_no_update")
            rows = _Template(conn)
            for tag, forgery in enumerate(forgeries):
                _write(conn, rows, forgery, tag)
    finally:
        conn.close()
    return path


class _Template:
    """The template's rows that a forgery refers to (read before any is written)."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.subject_ids = _column(conn, "SELECT id FROM subjects ORDER BY code")
        self.session_ids = _column(conn, "SELECT id FROM sessions ORDER BY rowid")
        self.answer_ids = _column(conn, "SELECT id FROM answers ORDER BY rowid")
        self.triples = conn.execute(
            "SELECT DISTINCT instrument_id, instrument_version, instrument_checksum "
            "FROM answers ORDER BY instrument_id"
        ).fetchall()
        self.subject = _row(conn, "subjects")
        self.visit = _row(conn, "visits")
        self.session = _row(conn, "sessions")
        self.entry = _row(conn, "audit_log", "subject_id IS NOT NULL")


def _resolved(ref: Ref, pools: dict[str, Any]) -> str:
    """The id a `Ref` names: its text, or the row it picks from the pool of its kind."""
    return ref.text if ref.kind == "text" else _pick(pools[ref.kind], ref.index)


def _pick(rows: Sequence[Any], index: int) -> Any:
    return rows[index % len(rows)]


def _write(conn: sqlite3.Connection, t: _Template, f: Forgery, number: int) -> None:
    tag = f"fz{number}"
    subject_ids = t.subject_ids
    answer_ids = t.answer_ids
    triples = t.triples
    subject = t.subject
    device = subject["device_id"]
    new_subjects = []
    for k, code in enumerate(f.subjects):
        new_subjects.append(f"{tag}-subject-{k}")
        _insert(conn, "subjects", {**subject, "id": new_subjects[-1], "code": code})

    def subject_of(ref: Ref) -> str:
        return str(_pick(subject_ids if ref.kind == "template" else new_subjects, ref.index))

    visit = t.visit
    session = t.session
    new_sessions = []
    for k, s in enumerate(f.sessions):
        owner = subject_of(s.subject)
        found = conn.execute(
            "SELECT id FROM visits WHERE subject_id = ? AND visit_code = ?", [owner, s.visit_code]
        ).fetchone()
        visit_id = found[0] if found else f"{tag}-visit-{k}"
        if not found:
            _insert(
                conn,
                "visits",
                {**visit, "id": visit_id, "subject_id": owner, "visit_code": s.visit_code},
            )
        new_sessions.append(f"{tag}-session-{k}{s.id_suffix}")
        _insert(
            conn,
            "sessions",
            {
                **session,
                "id": new_sessions[-1],
                "visit_id": visit_id,
                "subject_id": owner,
                "visit_code": s.visit_code,
                "state": s.state,
            },
        )
    template_sessions = t.session_ids
    new_answers: list[str] = []
    for k, a in enumerate(f.answers):
        sessions = template_sessions if a.session.kind == "template" else new_sessions
        if isinstance(a.instrument, Ref):
            instrument = _pick(triples, a.instrument.index)
        else:
            instrument = [
                _pick(triples, p.index)[k] if isinstance(p, Ref) else p
                for k, p in enumerate(a.instrument)
            ]
        supersedes = None
        if a.supersedes is not None:
            supersedes = _resolved(a.supersedes, {"template": answer_ids, "new": new_answers})
        new_answers.append(f"{tag}-{k}{a.id_suffix}")
        _insert(
            conn,
            "answers",
            {
                "id": new_answers[-1],
                "session_id": _pick(sessions, a.session.index),
                "instrument_id": instrument[0],
                "instrument_version": instrument[1],
                "instrument_checksum": instrument[2],
                "item_id": a.item_id,
                "value": a.value,
                "status": "skipped" if a.value is None else "answered",
                "language": a.language,
                "app_version": "0.1.0",
                "device_id": device if a.device_id is None else a.device_id,
                "given_at": a.given_at,
                "given_by": a.given_by,
                "supersedes": supersedes,
                "reason": a.reason,
                "vas_line_mm": a.vas_line_mm,
                "vas_calibration": a.vas_calibration,
            },
        )
    for edit in f.edits:
        conn.execute(
            f"UPDATE answers SET {edit.column} = ? WHERE id = ?",
            [edit.value, _pick(answer_ids, edit.row)],
        )
    entry = t.entry
    aliases = [f"{tag}-kiosk-subject-{k}" for k in range(len(f.aliases))]
    if aliases:
        subject_map = {
            alias: _pick(subject_ids, k) for alias, k in zip(aliases, f.aliases, strict=True)
        }
        _insert(
            conn,
            "audit_log",
            {
                **entry,
                "id": f"{tag}-import",
                "seq": 50_000 + number,
                "action": "bundle.imported",
                "subject_id": None,
                "payload": json.dumps({"subject_map": subject_map}),
            },
        )
    for k, e in enumerate(f.entries):
        subject_id = None
        if e.subject is not None:
            ids = {"template": subject_ids, "new": aliases, "subject": new_subjects}
            subject_id = _resolved(e.subject, ids)
        # (device, seq) is unique: each entry's own ("10..." reads as an integer, "x..." not)
        seq = 100_000 if e.seq is None else e.seq
        seq = f"{seq}{number:03d}{k:03d}" if isinstance(seq, str) else seq + 1000 * number + k
        _insert(
            conn,
            "audit_log",
            {
                **entry,
                "id": f"{tag}-entry-{k}",
                "device_id": device if e.device_id is None else e.device_id,
                "seq": seq,
                "at": e.at,
                "actor": e.actor,
                "action": e.action,
                "entity": e.entity,
                "entity_id": e.entity_id,
                "subject_id": subject_id,
                "payload": e.payload,
            },
        )
