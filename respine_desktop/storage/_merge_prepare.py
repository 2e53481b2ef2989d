"""A bundle merge's preparation: every check that needs no write lock, made before taking it.

`bundle_merge.merge_bundle` works in two steps so that a kiosk writing to the hub meanwhile
never waits long (the hub's write lock is held only for the second):

1. **prepare** (this module; no lock, the hub read in one snapshot, `read_snapshot`):
   - `load`: every row of every table read once into memory, each of its table's width; then
     `validate`: table by table (`RowChecker.check_many`: each distinct value once);
   - `check_against_hub`: each device's audit chain continues the hub's copy exactly (same
     hashes up to the hub's head, then seq + 1, the right prev_hash and a recomputed hash); the
     new answer entries list new answer rows of the bundle with their digest, and every new
     answer row is listed by exactly one entry, once; the scores of the touched sessions
     recomputed. It returns the hub heads it relied on (`Prepared.heads`). With
     ``defer=True`` the checks that need nothing more of the hub (the new entries' hashes,
     digests, scores) are left in `Prepared.deferred` for `run_deferred`.
   `bundle_merge` runs `validate` and `run_deferred` in a forked child where it can
   (`respine_desktop.meanwhile`) while it binds the answer rows parsed into a TEMP table
   (`_merge_staging`, `Prepared.staged`) and writes every row; their outcome is awaited before
   the write commits (a refusal rolls it back).
2. **write** (`bundle_merge`, ``BEGIN IMMEDIATE``): the heads are read again; if one moved (another
   import of the same kiosk meanwhile), `check_against_hub` runs again on the rows in memory;
   then the rows are compared with the hub's copies (forward-only rules), written, and the
   scores of the touched sessions recomputed from the merged answers.

A new table plugs in with one entry: its columns in `bundle_merge.BUNDLE_COLUMNS` (and its row
tuple in `_bundle_rows`), its field checks in `_validation._FIELDS` (validated here with the
others, no code), and one method of `bundle_merge._Merge` named after it (its write step).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from operator import itemgetter, methodcaller
from typing import Any

from respine_desktop import json_text
from respine_desktop.storage._answers import digest
from respine_desktop.storage._audit import GENESIS, entry_hash
from respine_desktop.storage._bundle_rows import AuditLine, ScoreLine
from respine_desktop.storage._database import (
    StudyDb,
    plain_rows,
    read_snapshot,
    scalar,
    select_list,
)
from respine_desktop.storage._errors import InvalidInput, StorageError
from respine_desktop.storage._merge_rules import first_difference, score_outcome
from respine_desktop.storage._merge_scores import check_score_rows
from respine_desktop.storage._records import Answer
from respine_desktop.storage._validation import RowChecker

__all__ = [
    "ANSWER_ACTIONS",
    "MergeRefused",
    "Prepared",
    "check_against_hub",
    "hub_heads",
    "load",
    "run_deferred",
    "score_stamp",
    "validate",
]

ANSWER_ACTIONS = ("answer.recorded", "answer.corrected")
Head = tuple[int, str]


class MergeRefused(StorageError):
    """The bundle cannot be merged into this database; nothing was written."""


@dataclass
class Prepared:
    """A bundle checked against the hub as a snapshot showed it.

    `rows`: per table, the bundle's rows (the named tuple of the table); `heads`: the hub's head
    (seq, hash) of each device chain the bundle carries (None: a device the hub lacks), which
    must not have moved when the write starts; `new_entries`: per device, the audit entries to
    append, in order; `new_answers`: how many answer rows the hub lacks; `known_answers`: the ids
    of those it has (each compared with the hub's copy); `score_stamp`: the hub's answers and
    scores as the score check saw them (`score_stamp`): unchanged when the write starts, the
    check holds; `lines`: per table of `raw_tables` (`load`), the JSON text of the bundle's
    lines those rows were parsed from, when the source kept it (the answer digests only,
    `_row_texts`); `staged`: the answer rows bound into the TEMP table, to be copied inside the
    lock (`_merge_staging.stage`); `deferred`: the checks `check_against_hub` left for
    `run_deferred`."""

    rows: dict[str, list[Any]]
    heads: dict[str, Head | None] = field(default_factory=dict)
    new_entries: dict[str, list[AuditLine]] = field(default_factory=dict)
    new_answers: int = 0
    known_answers: set[str] = field(default_factory=set)
    score_stamp: tuple[int, int] = (0, 0)
    lines: dict[str, list[str]] = field(default_factory=dict)
    staged: bool = False
    deferred: list[Callable[[], None]] = field(default_factory=list)


_ROW_TYPES = frozenset({list, tuple})


def load(
    columns: Mapping[str, Sequence[str]],
    lines: Mapping[str, type[tuple[Any, ...]]],
    rows: Callable[[str], Iterable[Sequence[Any]]],
    visit_codes: frozenset[str],
    tick: Callable[[], None] | None,
    raw_tables: frozenset[str] = frozenset(),
) -> tuple[dict[str, list[Any]], dict[str, list[str]]]:
    """Every table's rows (as the named tuple `lines[table]`), each of the right width
    (MergeRefused naming the table and row otherwise), not validated yet: `validate` does it,
    as a check run meanwhile. A table that cannot be read first has the tables read before it
    validated, so that the first refusal is the one a table-by-table check names. Also, for the
    tables of `raw_tables` whose source keeps them (a ``lines`` attribute, a list once
    iterated), the JSON text of the lines the rows were parsed from."""
    loaded: dict[str, list[Any]] = {}
    texts: dict[str, list[str]] = {}
    for table, names in columns.items():
        try:
            found, kept = _read_table(table, len(names), lines[table], rows, tick)
        except BaseException:
            validate(columns, loaded, visit_codes)
            raise
        loaded[table] = found
        if table in raw_tables and isinstance(kept, list):
            texts[table] = kept
    return loaded, texts


def _read_table(
    table: str,
    width: int,
    line: type[tuple[Any, ...]],
    rows: Callable[[str], Iterable[Sequence[Any]]],
    tick: Callable[[], None] | None,
) -> tuple[list[Any], object]:
    """One table's rows as named tuples, each of `width` columns, and its source's kept lines."""
    source = rows(table)
    given = list(source)
    if not _ROW_TYPES.issuperset(map(type, given)) or not {width}.issuperset(map(len, given)):
        for n, row in enumerate(given, start=1):
            if not isinstance(row, list | tuple) or len(row) != width:
                raise MergeRefused(f"bundle table {table}, row {n}: expected {width} columns")
    found: list[Any] = list(map(partial(tuple.__new__, line), given))
    if tick is not None:
        for _ in found:
            tick()
    return found, getattr(source, "lines", None)


def _check_table(
    table: str, names: Sequence[str], found: Sequence[Any], visit_codes: frozenset[str]
) -> None:
    try:
        RowChecker(table, names, visit_codes).check_many(found)
    except InvalidInput as exc:
        raise MergeRefused(f"bundle {exc}") from None


def validate(
    columns: Mapping[str, Sequence[str]],
    loaded: Mapping[str, Sequence[Any]],
    visit_codes: frozenset[str],
) -> None:
    """The rows `load` read without checking them, validated table by table in `columns`'
    order (MergeRefused at the first refusal, as a checked load names it)."""
    for table, names in columns.items():
        if table in loaded:
            _check_table(table, names, loaded[table], visit_codes)


def hub_heads(db: StudyDb, devices: Iterable[str]) -> dict[str, Head | None]:
    """The hub's chain head (seq, hash) of each device (None for a device it lacks)."""
    wanted = sorted(set(devices))
    heads: dict[str, Head | None] = dict.fromkeys(wanted)
    for device, seq, head in plain_rows(
        db.conn,
        "SELECT id, audit_seq, audit_head FROM devices "
        "WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps(wanted)],
    ):
        heads[device] = (int(seq), str(head))
    return heads


def check_against_hub(
    db: StudyDb, prepared: Prepared, bundle_devices: Iterable[str], *, defer: bool = False
) -> None:
    """Check the audit chains and the new answers of `prepared.rows` against the hub, in one
    read snapshot; fills `heads`, `new_entries` and `new_answers` (MergeRefused if refused).
    `bundle_devices`: the devices the bundle's ``devices`` table brings.

    With `defer`, the checks that need nothing more of the hub than what was read here (each new
    audit entry's hash recomputed, every new answer entry's digest, the scores recomputed from
    the merged answers) are not run but left in `prepared.deferred`, in order, for
    `run_deferred` (a merge runs them on another core meanwhile); a refusal found while reading
    for them waits its turn there too. A refusal found here after the chains (an answer carried
    twice) comes after the hashes' (checked first then), as when they are checked in line."""
    with read_snapshot(db):
        known = prepared.known_answers = _known_answers(db, prepared.rows["answers"])
        entries: list[AuditLine] = prepared.rows["audit_log"]
        prepared.heads = hub_heads(db, (e.device_id for e in entries))
        prepared.new_entries, hashed = _check_chains(
            db, entries, prepared.heads, set(bundle_devices)
        )
        check_hashes = partial(_check_hashes, hashed)
        try:
            new = _new_answers(prepared, known)
        except MergeRefused:
            check_hashes()
            raise
        prepared.new_answers = len(new)
        prepared.score_stamp = score_stamp(db)
        prepared.deferred = [
            check_hashes,
            partial(_check_answer_entries, prepared, new),
            _merged_scores_check(db, prepared, new),
        ]
    if not defer:
        run_deferred(prepared)


def run_deferred(prepared: Prepared) -> None:
    """The checks `check_against_hub` deferred, in order (MergeRefused at the first refusal)."""
    for check in prepared.deferred:
        check()


# A new audit entry and the hash before it in its chain (its ``prev_hash``, checked): its own
# hash is recomputed by `_check_hashes`.
_Hashed = tuple[AuditLine, str]


def _check_chains(
    db: StudyDb,
    entries: list[AuditLine],
    heads: Mapping[str, Head | None],
    bundle_devices: set[str],
) -> tuple[dict[str, list[AuditLine]], list[_Hashed]]:
    """Each device's entries continue the hub's chain exactly (each new one linked to the hash
    before it); returns the new ones, and each with the hash it follows, for `_check_hashes`
    (their own hashes recomputed, a cost a merge leaves to another core). A refusal found here
    comes after a wrong hash of an earlier entry, checked first then (the order of a check
    made entry by entry)."""
    hashed: list[_Hashed] = []
    try:
        return _linked(db, entries, heads, bundle_devices, hashed), hashed
    except MergeRefused:
        _check_hashes(hashed)
        raise


def _linked(
    db: StudyDb,
    entries: list[AuditLine],
    heads: Mapping[str, Head | None],
    bundle_devices: set[str],
    hashed: list[_Hashed],
) -> dict[str, list[AuditLine]]:
    new: dict[str, list[AuditLine]] = {}
    state: dict[str, Head] = {}
    accepted: dict[tuple[str, int], str] = {}  # (device, seq) -> hash of an entry of this bundle
    start = 0
    while start < len(entries):
        dev = entries[start].device_id
        end = start
        while end < len(entries) and entries[end].device_id == dev:
            end += 1
        group, start = entries[start:end], end
        if dev not in state:
            head = heads.get(dev)
            if head is None:
                if dev not in bundle_devices:
                    raise MergeRefused(f"audit entries of device {dev}, which the bundle lacks")
                head = (0, GENESIS)
            state[dev] = head
        head_seq, head_hash = state[dev]
        hub = _hub_hashes(db, dev, group, head_seq)
        expected = group[0].seq
        for row in group:
            seq = row.seq
            if not isinstance(seq, int) or isinstance(seq, bool):
                raise MergeRefused(f"audit entry {row.id}: seq {seq!r} is not an integer")
            if seq != expected:
                raise MergeRefused(
                    f"the audit chain of device {dev} in the bundle jumps from #{expected - 1} "
                    f"to #{seq}"
                )
            expected += 1
            mine = hub.get(seq) or accepted.get((dev, seq)) if seq <= head_seq else None
            if mine is not None:
                if mine != row.hash:
                    raise MergeRefused(
                        f"audit entry #{seq} of device {dev} differs from this database's copy: "
                        "the chains diverge"
                    )
                continue
            if dev == db.device_id:
                raise MergeRefused(
                    f"the bundle extends this database's own audit chain (#{seq}): refused"
                )
            if seq != head_seq + 1:
                raise MergeRefused(
                    f"the bundle continues the audit chain of device {dev} at #{seq}, but this "
                    f"database has it up to #{head_seq}: import the earlier bundles first"
                )
            if row.prev_hash != head_hash:
                raise MergeRefused(f"audit entry #{seq} of device {dev}: hash chain broken")
            hashed.append((row, head_hash))
            new.setdefault(dev, []).append(row)
            accepted[(dev, seq)] = str(row.hash)
            head_seq, head_hash = seq, str(row.hash)
        state[dev] = (head_seq, head_hash)
    return new


def _check_hashes(hashed: Iterable[_Hashed]) -> None:
    """Each new entry's hash is the one recomputed from its content and the hash before it
    (`_check_chains`), in the bundle's order."""
    for row, before in hashed:
        recomputed = entry_hash(
            before,
            row.id,
            row.device_id,
            row.seq,
            row.at,
            row.actor,
            row.action,
            row.subject_id,
            row.entity,
            row.entity_id,
            row.payload,
        )
        if recomputed != row.hash:
            raise MergeRefused(
                f"audit entry #{row.seq} of device {row.device_id}: hash chain broken"
            )


def _hub_hashes(db: StudyDb, dev: str, group: list[AuditLine], head_seq: int) -> dict[int, str]:
    """The hub's hashes of `dev`'s entries that `group` repeats (seq up to the hub's head), in
    one query."""
    seqs = [r.seq for r in group if isinstance(r.seq, int) and r.seq <= head_seq]
    if not seqs:
        return {}
    return {
        int(seq): str(h)
        for seq, h in plain_rows(
            db.conn,
            "SELECT seq, hash FROM audit_log WHERE device_id=? AND seq BETWEEN ? AND ?",
            [dev, min(seqs), max(seqs)],
        )
    }


def _known_answers(db: StudyDb, answers: list[Answer]) -> set[str]:
    """The ids of the bundle's answers the hub has, each the hub's row exactly (append-only: an
    answer is never changed, even by a bundle whose chain was forged to match), in one query."""
    columns = Answer._fields
    if scalar(db.conn, "SELECT max(rowid) FROM answers") is None:
        return set()  # a hub without answers (a new hub): none to read
    mine: list[tuple[Any, ...]] = plain_rows(
        db.conn,
        f"SELECT {select_list(columns)} FROM answers WHERE id IN (SELECT value FROM json_each(?))",
        [json.dumps([a.id for a in answers])],
    ).fetchall()
    hub_ids = {r[0] for r in mine}
    # Python's equality through a set (equal values hash alike: 3 and 3.0 too), then each row
    # the hub has under another content, in the bundle's order
    same = set(mine)
    for row in (a for a in answers if a.id in hub_ids and a not in same):
        found = next(r for r in mine if r[0] == row.id)
        column = first_difference(columns, found, row)
        if column is not None:
            raise MergeRefused(
                f"bundle answers row {row.id}, field {column}: an answer is never changed "
                "(the hub's copy differs)"
            )
    return hub_ids


def _new_answers(prepared: Prepared, known: set[str]) -> dict[str, Answer]:
    """The bundle's answers the hub lacks, by id (MergeRefused if an id comes twice)."""
    answers: list[Answer] = prepared.rows["answers"]
    fresh = [a for a in answers if a.id not in known] if known else answers
    new = dict(zip(map(itemgetter(0), fresh), fresh, strict=True))
    if len(new) != len(fresh):
        raise MergeRefused("the bundle carries an answer twice (the same id in two rows)")
    return new


def _check_answer_entries(prepared: Prepared, new: Mapping[str, Answer]) -> None:
    """Every new answer entry lists answer rows of the bundle the hub lacks (`new`), with their
    digest, of the session it names and of the subject it names (`_Owners`), and every such
    row is listed by exactly one (once: an answer listed twice would let another go unrecorded
    with the count still right)."""
    answers: list[Answer] = prepared.rows["answers"]
    texts = _row_texts(prepared.lines.get("answers"), answers)
    unlisted = dict(new)  # each row taken out as an entry lists it
    owners = _Owners(prepared)
    for device, entries in prepared.new_entries.items():
        for entry in entries:
            if entry.action not in ANSWER_ACTIONS:
                continue
            payload = json_text.loads(entry.payload)
            session = payload.get("session_id")
            ids = [a[0] for a in payload.get("answers") or []]  # [id, item, value]
            rows = []
            for k, answer_id in enumerate(ids):
                row = unlisted.pop(answer_id, None)
                if row is None:
                    if answer_id not in new:
                        where = "which the bundle does not carry"
                    elif ids.index(answer_id) < k:
                        where = "which it records twice"
                    else:
                        where = "which an earlier audit entry records already"
                    raise MergeRefused(
                        f"audit entry #{entry.seq} of device {device} records answer "
                        f"{answer_id}, {where}"
                    )
                if row.session_id != session and session is not None:
                    raise MergeRefused(
                        f"audit entry #{entry.seq} of device {device} records answer "
                        f"{answer_id} of session {row.session_id} as one of session {session}"
                    )
                rows.append(row)
            owners.check(entry, session, rows)
            wanted = payload.get("digest")
            if texts is not None and _text_digest(texts, ids) == wanted:
                pass  # the rows' own text in the bundle is the canonical text digested
            elif digest(rows) != wanted:
                raise MergeRefused(
                    f"answers recorded by audit entry #{entry.seq} of device {device} do not "
                    "match their digest"
                )
    if unlisted:
        raise MergeRefused(
            f"the bundle carries {len(new)} new answers but its audit entries record "
            f"{len(new) - len(unlisted)}"
        )


class _Owners:
    """Whom a new answer entry may name (its ``subject_id``): the subject of its answers'
    session, in the bundle's ids (its sessions and subjects as it carries them, every one:
    state tables travel whole). An entry naming no subject the bundle carries is not compared
    (a relay's copy of a kiosk's entry whose subject the relay matched by code, and so carries
    under its own id)."""

    def __init__(self, prepared: Prepared) -> None:
        self.sessions = {s.id: s.subject_id for s in prepared.rows["sessions"]}
        self.subjects = {s.id for s in prepared.rows["subjects"]}

    def check(self, entry: AuditLine, session: str | None, rows: Sequence[Answer]) -> None:
        subject = entry.subject_id
        if subject not in self.subjects:
            return
        for row in rows if session is None else rows[:1]:  # one session: its first row says
            owner = self.sessions.get(row.session_id, subject)  # a session it lacks: the FK's
            if owner != subject:
                raise MergeRefused(
                    f"audit entry #{entry.seq} of device {entry.device_id} names subject "
                    f"{subject}, but records answer {row.id} of subject {owner}"
                )


def _row_texts(lines: list[str] | None, answers: list[Answer]) -> dict[str, str] | None:
    """Each answer row's text in the bundle's lines, by id, as the canonical text of a row
    (`_answers.canonical`) would be if the bundle wrote it so (the exporter does: compact JSON,
    the same encoder settings); None when the lines do not split into exactly one text per row.

    Only an equal digest is taken from these texts (`_check_new_answers`): the digested text is
    then the canonical text the kiosk digested, and the rows validated were parsed from it. A
    line split otherwise (a ``],[`` inside a text, spaces) finds more or fewer pieces than rows,
    pieces that do not open with their rows' ids (both at once: shifted), or texts that digest
    otherwise: the digest is then computed from the rows themselves."""
    if lines is None:
        return None
    pieces: list[str] = []
    for line in lines:
        if line.strip() == "[]":
            continue
        parts = line.split("],[")  # the ends trimmed below: no copy of the whole line
        first, last = parts[0], parts[-1].rstrip("\n")
        if not (first.startswith("[[") and last.endswith("]]")):
            return None
        parts[0] = first[2:] if len(parts) > 1 else first[2:-2]
        if len(parts) > 1:
            parts[-1] = last[:-2]
        pieces += parts
    if len(pieces) != len(answers):
        return None
    ids = list(map(itemgetter(0), answers))
    # each piece must open with its own row's id: a ``],[`` inside a text and a ``], [``
    # between two rows leave the count right but shift the pieces (one row would be given the
    # text of another, whose digest an entry could then record for it); a piece opening inside
    # a text cannot read as ``"<id>",`` (its quote would close that text)
    if not all(map(str.startswith, pieces, (f'"{i}",' for i in ids))):
        return None
    # a NULL last column (vas_calibration) is left out: its text ends the row with ",null"
    return dict(zip(ids, map(methodcaller("removesuffix", ",null"), pieces), strict=True))


def _text_digest(texts: Mapping[str, str], ids: Sequence[str]) -> str | None:
    try:
        text = "[[" + "],[".join(texts[i] for i in ids) + "]]" if ids else "[]"
    except KeyError:
        return None
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def score_stamp(db: StudyDb) -> tuple[int, int]:
    """The newest rowids of answers and scores: both tables only grow (a score is superseded
    only with a replacement row), so an equal stamp means the rows a score check reads are
    the same."""
    row = db.conn.execute(
        "SELECT (SELECT coalesce(max(rowid), 0) FROM answers), "
        "(SELECT coalesce(max(rowid), 0) FROM scores)"
    ).fetchone()
    return int(row[0]), int(row[1])


def _merged_scores_check(
    db: StudyDb, prepared: Prepared, new: Mapping[str, Answer]
) -> Callable[[], None]:
    """`check_score_rows` on the scores of every session the bundle touches, recomputed from the
    answers the hub will hold after the merge (its own and the bundle's new ones) and checked
    against the score rows it will hold (`_merge_scores`), before anything is written: what it
    needs of the hub read now, the check itself (or a refusal found while reading) returned."""
    try:
        found = _hub_score_rows(db, prepared, new)
    except MergeRefused as exc:
        return partial(_refuse, exc)
    if found is None:
        return _nothing
    return partial(_check_merged_scores, db.study.odi_min_sections, new, *found)


def _refuse(exc: MergeRefused) -> None:
    raise exc


def _nothing() -> None:
    """No check to run."""


_ANSWER_COLUMNS = ("session_id", "id", "supersedes", "instrument_id", "item_id", "value")
_SCORE_COLUMNS = (
    "id",
    "session_id",
    "instrument_id",
    "method",
    "scores",
    "scoring_version",
    "superseded_by",
)


def _hub_score_rows(
    db: StudyDb, prepared: Prepared, new: Mapping[str, Answer]
) -> tuple[dict[str, ScoreLine], set[str], list[Sequence[Any]], list[Sequence[Any]]] | None:
    """What the score check needs of the hub: the bundle's score rows as merged (new ones, and
    those the bundle supersedes), the sessions touched (by them or by `new`, the answers the hub
    lacks), and the hub's answers (in written order) and score rows of those sessions; None when
    no session is touched, MergeRefused for a score the bundle rewrites."""
    bundle_scores: list[ScoreLine] = prepared.rows["scores"]
    columns = ScoreLine._fields
    hub = {
        r[0]: ScoreLine._make(r)
        for r in plain_rows(
            db.conn,
            f"SELECT {select_list(columns)} FROM scores "
            "WHERE id IN (SELECT value FROM json_each(?))",
            [json.dumps([r.id for r in bundle_scores])],
        )
    }
    sessions = {a.session_id for a in new.values()}
    merged: dict[str, ScoreLine] = {}
    for row in bundle_scores:
        mine = hub.get(row.id)
        if mine is None:
            merged[row.id] = row
            sessions.add(row.session_id)
            continue
        outcome, column = score_outcome(mine, row)
        if outcome == "refused":
            raise MergeRefused(
                f"bundle scores row {row.id}, field {column}: a score is never rewritten "
                "(the hub's copy differs)"
            )
        if outcome == "updated":
            merged[row.id] = mine._replace(
                superseded_at=row.superseded_at, superseded_by=row.superseded_by
            )
            sessions.add(row.session_id)
    if not sessions:
        return None
    wanted = [json.dumps(sorted(sessions))]
    answers: list[Sequence[Any]] = plain_rows(
        db.conn,
        f"SELECT {select_list(_ANSWER_COLUMNS)} FROM answers "
        "WHERE session_id IN (SELECT value FROM json_each(?)) ORDER BY rowid",
        wanted,
    ).fetchall()
    scores = plain_rows(
        db.conn,
        f"SELECT {select_list(_SCORE_COLUMNS)} FROM scores "
        "WHERE session_id IN (SELECT value FROM json_each(?))",
        wanted,
    ).fetchall()
    return merged, sessions, answers, scores


def _check_merged_scores(
    min_sections: int,
    new: Mapping[str, Answer],
    merged: Mapping[str, ScoreLine],
    sessions: set[str],
    hub_answers: list[Sequence[Any]],
    hub_scores: list[Sequence[Any]],
) -> None:
    """`check_score_rows` on the merged answers (the hub's and `new`, the bundle's it lacks)
    and score rows (`_hub_score_rows`)."""
    # (session_id, id, supersedes, instrument_id, item_id, value), by session then as they
    # will be written: the hub's rows (by rowid) before the bundle's new ones, in the bundle's
    # order (inserted after them so), as `verify` reads them (a stable sort; by their clock
    # times, of two current answers of an item the merge counted one and `verify` the other)
    fields = Answer._fields
    pick = itemgetter(*(fields.index(c) for c in _ANSWER_COLUMNS))
    answers = hub_answers + [pick(a) for a in new.values()]
    answers.sort(key=itemgetter(0))
    rows = {r[0]: dict(zip(_SCORE_COLUMNS, r, strict=True)) for r in hub_scores}
    for row in merged.values():
        if row.session_id in sessions:
            rows[row.id] = {c: getattr(row, c) for c in _SCORE_COLUMNS}
    ordered = sorted(
        rows.values(), key=lambda r: (r["session_id"], r["instrument_id"], r["method"])
    )
    try:
        check_score_rows(min_sections, answers, ordered, new)
    except InvalidInput as exc:
        raise MergeRefused(f"bundle {exc}") from None
