"""The staged copy (`_merge_staging.stage` then `insert`) against binding each row into
``answers`` as the merge does without staging (`bundle_merge._Merge._insert_answers`'s
statement), on real hub files: every kind of value a row may carry when it is bound (the
staging binds the rows before the merge's checks have refused them, in the forked mode), in
every kind of column (REAL, TEXT, a NULL-able id). The same rowids, the same count of rows the
statement inserted, and in every cell the same SQLite type, SQL literal and Python value (a
float by its bits: -0.0 is not 0.0 there, and NaN is compared).

A value the driver cannot bind is refused alike staged or not, both ways of running the checks.
A staging that fails half-way (a value the driver cannot bind, SQLite interrupted, a
KeyboardInterrupt) leaves no staged table, no savepoint, the transaction as it was."""

from __future__ import annotations

import math
import shutil
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.storage import _merge_staging, _row_images
from respine_desktop.storage._driver import sqlite3
from respine_desktop.storage.bundle_merge import BUNDLE_COLUMNS, merge_bundle
from tests.storage.test_merge_fast_paths import _hub_and_rows, _lines, _Member, _merge
from tests.storage.test_merge_staging import stages_recorded
from tests.support.exports import table_digest
from tests.support.merge_modes import merge_mode

__all__ = ["merge_mode"]  # a fixture

COLUMNS = BUNDLE_COLUMNS["answers"]
_STAGED = "SELECT 1 FROM sqlite_temp_master WHERE name='merge_staged_answers'"
_BIND = (
    f"INSERT OR IGNORE INTO answers ({', '.join(COLUMNS)}) "
    f"VALUES ({', '.join('?' for _ in COLUMNS)})"
)

NUMBERS: list[Any] = [
    0,
    3,
    -7,
    2**53 + 1,  # no float has it
    2**63 - 1,
    -(2**63),
    3.0,
    -0.0,
    0.0,
    0.1 + 0.2,
    1e-300,
    5e-324,  # the smallest subnormal
    2.2250738585072014e-308,
    1.7976931348623157e308,
    -1.7976931348623157e308,
    math.inf,
    -math.inf,
    math.nan,
    True,
    False,
    "",
    "5",
    " 5 ",
    "5.0",
    "1e3",
    "-0.0",
    "9223372036854775808",
    "0x10",
    "abc",
    "a\x00b",
    "\U0001f600",
    b"",
    b"\x00\xff",
]
TEXTS: list[Any] = [
    "",
    " ",
    "a\x00b",
    "\x00",
    "\U0001f600\U00010348",
    "é" * 3,
    "\ufeffBOM",
    "x" * 10_000,
    5,
    -0.0,
    1e-300,
    2**63 - 1,
    True,
    1.7976931348623157e308,
    b"\x00bytes",
]


def temp_tables_in_files(conn: sqlite3.Connection) -> None:
    """Make `conn` keep its TEMP tables in files (the merge then binds its answers inside the
    lock: not staged). Changing ``temp_store`` deletes every TEMP object of the connection,
    among them the row-image triggers of the audit (`_row_images`): the merge's transaction
    puts them back (`_database.transaction`; without them it would write rows no audit entry
    records, and the hub would no longer verify, which these tests check)."""
    conn.execute("PRAGMA temp_store=FILE")
    assert not _row_images.installed(conn)  # (SQLite's rule: the TEMP objects deleted)


def _rows(template: Sequence[Any]) -> list[tuple[Any, ...]]:
    """New answers (fresh ids) of the session of `template`, each with one cell set to one of
    the values; a value in ``value`` keeps the status ``answered`` (NaN, bound as NULL,
    breaks the CHECK of ``answers``: ignored both ways)."""
    rows: list[tuple[Any, ...]] = []
    targets = [(c, NUMBERS) for c in ("value", "vas_line_mm")] + [
        (c, TEXTS) for c in ("reason", "app_version", "given_by")
    ]
    for column, values in targets:
        for value in [*values, None]:
            row = list(template)
            row[COLUMNS.index("id")] = str(uuid.uuid4())
            row[COLUMNS.index("supersedes")] = None
            row[COLUMNS.index(column)] = value
            if column == "value":
                row[COLUMNS.index("status")] = "answered" if value is not None else "skipped"
            rows.append(tuple(row))
    return rows


def _cell(value: Any) -> tuple[str, Any]:
    if isinstance(value, float):
        return ("float", value.hex())  # its bits (the sign of zero, NaN)
    return (type(value).__name__, value)


def _stored(db: storage.StudyDb) -> list[tuple[Any, ...]]:
    cells = ", ".join(f"typeof({c}), quote({c}), {c}" for c in COLUMNS)
    return [
        tuple(_cell(v) for v in r)
        for r in db.conn.execute(f"SELECT rowid, {cells} FROM answers ORDER BY rowid")
    ]


@pytest.fixture(scope="module")
def merged_hub(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Sequence[Any]]]:
    """A hub holding one kiosk's bundle (its sessions exist: the new answers' references)."""
    folder = tmp_path_factory.mktemp("cells")
    hub, rows = _hub_and_rows(folder)
    _merge(hub, rows, _lines(rows["answers"]))
    return hub, rows["answers"]


@pytest.mark.parametrize("known", [False, True], ids=["a first import", "some known"])
def test_every_kind_of_value_is_stored_the_same_staged_or_bound(
    tmp_path: Path, merged_hub: tuple[Path, list[Sequence[Any]]], known: bool
) -> None:
    hub, answers = merged_hub
    template = next(r for r in answers if r[COLUMNS.index("vas_line_mm")] is not None)
    new = _rows(template)
    # with "some known": the bundle also carries answers the hub has (left out of the copy)
    given = [*answers[:5], *new] if known else new
    known_ids = {r[0] for r in answers[:5]} if known else set()
    stored, counts = [], []
    for staged in (True, False):
        copy = tmp_path / f"hub-{staged}.db"
        shutil.copyfile(hub, copy)
        with storage.open_database(copy) as db:
            if staged:
                assert _merge_staging.stage(db.conn, COLUMNS, given) is True
            db.conn.execute("BEGIN IMMEDIATE")
            if staged:
                counts.append(_merge_staging.insert(db.conn, COLUMNS, known_ids))
            else:
                rows = [r for r in given if r[0] not in known_ids]
                counts.append(db.conn.executemany(_BIND, rows).rowcount)
            db.conn.execute("COMMIT")
            _merge_staging.drop(db.conn)
            stored.append(_stored(db))
    assert counts[0] == counts[1]
    # every row inserted but two, ignored both ways: the NaN value (bound as NULL, answered:
    # the CHECK) and the NULL app_version (NOT NULL)
    assert counts[0] == len(new) - 2
    assert len(stored[0]) == len(answers) + counts[0]
    assert len(stored[0]) == len(stored[1])
    for staged_row, bound_row in zip(stored[0], stored[1], strict=True):
        assert staged_row == bound_row


# A value the driver cannot bind: the merge's outcome staged (nothing staged, bound in the
# lock) is the outcome without staging (a connection keeping TEMP tables in files), both ways
# of running the checks: the same refusal, the hub unchanged, nothing left on the connection.
UNBINDABLE = [
    ("value", [1]),
    ("value", {"a": 1}),
    ("value", 2**70),
    ("vas_line_mm", -(2**64)),
    ("reason", "\udc00"),
    ("instrument_version", "a\ud83dz"),
    ("given_by", 2**63),
]


@pytest.mark.parametrize("first", [True, False], ids=["first row", "last row"])
@pytest.mark.parametrize(("column", "value"), UNBINDABLE)
def test_a_value_the_driver_cannot_bind_is_refused_alike_staged_or_not(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    merge_mode: str,
    column: str,
    value: Any,
    first: bool,
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    answers = [list(r) for r in rows["answers"]]
    answers[0 if first else -1][COLUMNS.index(column)] = value
    rows["answers"] = [tuple(r) for r in answers]
    lines = _lines(rows["answers"])
    staged = stages_recorded(monkeypatch)
    before = table_digest(hub)
    outcomes = []
    for staging in (True, False):
        with storage.open_database(hub) as db:
            if not staging:
                temp_tables_in_files(db.conn)
            try:
                merge_bundle(
                    db,
                    lambda t: _Member(rows[t], lines) if t == "answers" else rows[t],
                    bundle={"bundle_id": "test", "device_id": "kiosk"},
                )
            except Exception as exc:  # (the outcome compared, whatever it is)
                outcomes.append((type(exc), str(exc)))
            else:
                outcomes.append((None, "merged"))
            assert db.conn.execute(_STAGED).fetchone() is None
            assert not db.conn.in_transaction
        assert table_digest(hub) == before
        assert storage.verify_database(hub).ok
    assert outcomes[0] == outcomes[1]
    assert outcomes[0][0] in (storage.InvalidInput, storage.MergeRefused)
    # forked: staged while the checks ran, and not (the value); here: refused before any staging
    assert staged == ([False, False] if merge_mode == "forked" else [])


def _interrupted_once(conn: Any) -> Any:
    """SQLite interrupts the statement running once (a progress handler: as
    ``sqlite3_interrupt`` from another thread would), then lets every statement run."""
    done: list[bool] = []

    def handler() -> int:
        if done:
            return 0
        done.append(True)
        return 1

    conn.set_progress_handler(handler, 1)
    return done


FAILURES = ["int beyond 64 bits", "lone surrogate", "list", "interrupted", "KeyboardInterrupt"]


@pytest.mark.parametrize("outer", [False, True], ids=["autocommit", "inside a transaction"])
@pytest.mark.parametrize("failure", FAILURES)
def test_a_failed_staging_leaves_nothing_staged_and_the_transaction_as_it_was(
    tmp_path: Path, merged_hub: tuple[Path, list[Sequence[Any]]], failure: str, outer: bool
) -> None:
    """Half the rows bound, then the staging fails: no staged table left, no savepoint of the
    staging, the connection's transaction as it was (none, or the caller's, its own write
    kept; but an interruption of SQLite rolls back the whole transaction it runs in, SQLite's
    rule), the hub unchanged; the next staging works."""
    hub, answers = merged_hub
    copy = tmp_path / "hub.db"
    shutil.copyfile(hub, copy)
    before = table_digest(copy)
    template = next(r for r in answers if r[COLUMNS.index("vas_line_mm")] is not None)
    new = _rows(template)[:40]
    bad = {
        "int beyond 64 bits": ("vas_line_mm", 2**64),
        "lone surrogate": ("reason", "\udc00"),
        "list": ("value", [1]),
    }
    with storage.open_database(copy) as db:
        conn = db.conn

        def given() -> Any:
            for n, row in enumerate(new):
                if n == len(new) // 2:
                    if failure in bad:
                        column, value = bad[failure]
                        changed = list(row)
                        changed[COLUMNS.index(column)] = value
                        row = tuple(changed)
                    elif failure == "interrupted":
                        _interrupted_once(conn)
                    else:
                        raise KeyboardInterrupt
                yield row

        if outer:
            conn.execute("BEGIN")
            conn.execute("CREATE TABLE main.callers_own (x)")
        if failure == "KeyboardInterrupt":
            with pytest.raises(KeyboardInterrupt):
                _merge_staging.stage(conn, COLUMNS, _Rows(given))
        else:
            assert _merge_staging.stage(conn, COLUMNS, _Rows(given)) is False
        conn.set_progress_handler(None, 1)
        assert conn.execute(_STAGED).fetchone() is None
        # (SQLite's rule: an interruption rolls back the whole transaction it runs in)
        kept = outer and failure != "interrupted"
        assert conn.in_transaction is kept
        with pytest.raises(sqlite3.OperationalError, match="no such savepoint"):
            conn.execute("RELEASE merge_staging")
        if kept:
            assert tuple(conn.execute("SELECT count(*) FROM main.callers_own").fetchone()) == (0,)
            conn.execute("ROLLBACK")
        assert _merge_staging.stage(conn, COLUMNS, new) is True
        _merge_staging.drop(conn)
    assert table_digest(copy) == before


class _Rows(list[Any]):
    """Rows a generator gives, as `stage` iterates them (a Sequence: its one iteration)."""

    def __init__(self, make: Callable[[], Any]) -> None:
        super().__init__()
        self._make = make

    def __iter__(self) -> Any:
        return iter(self._make())
