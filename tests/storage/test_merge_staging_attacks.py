"""Attacks on the answers staged before the write lock (`_merge_staging`, issue 12).

- Which path each attack of test_merge_raw_attacks.py takes: refused before anything is staged
  (the validation, the digests), or staged (the rows validated bound into the TEMP table) and
  copied; a line whose text says otherwise than the rows validated is not read (the rows are
  staged, and the hub holds them).
- The hub changing between the staging and the write lock: another import of the same bundle
  (nothing written twice), an unrelated answer written (the copy exact, the scores checked
  again inside the lock), a row gained under the id of an answer staged as new (refused, the
  hub's row kept; also when a TEMP trigger on ``answers`` writes elsewhere: the count checked
  is the statement's own, not the connection's total, which such a trigger inflated to pass),
  an ordinary bundle merged with such a trigger present (was refused).
- The TEMP table: a user table of the same name untouched; a hub opened read-only (one
  WriteFailed, as before the staging: was a raw driver error); a connection keeping TEMP
  tables in files (not staged); no SQLite temporary file created during an encrypted merge
  (inotify on the hub's folder and a private SQLITE_TMPDIR, with a control that makes one);
  dropped, and the garbage collector restored, after an interruption (KeyboardInterrupt)
  outside or inside the lock.
- A process killed between the merge's commit and its checkpoint: nothing lost, the next open
  clean (the hub verifies).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import json
import os
import shutil
import signal
import struct
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.storage import _merge_staging, bundle_merge
from respine_desktop.storage._driver import sqlite3
from respine_desktop.storage.bundle_merge import BUNDLE_COLUMNS, merge_bundle
from tests.storage import test_merge_raw_attacks as raw
from tests.storage.test_merge_fast_paths import _hub_and_rows, _lines, _Member, _stored_answers
from tests.storage.test_merge_staging_cells import temp_tables_in_files
from tests.support.encryption import encrypted_db, key_env
from tests.support.merge_modes import merge_mode

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)

__all__ = ["key_env", "merge_mode"]  # fixtures

COLUMNS = BUNDLE_COLUMNS["answers"]
_STAGED = "SELECT 1 FROM sqlite_temp_master WHERE name='merge_staged_answers'"
ROOT = Path(__file__).resolve().parents[2]


def _source(rows: dict[str, list[Sequence[Any]]]) -> Any:
    def source(table: str) -> Any:
        if table == "answers":
            return _Member(rows[table], _lines(rows[table]))
        return rows[table]

    return source


def _merge_with(db: storage.StudyDb, rows: dict[str, list[Sequence[Any]]]) -> Any:
    return merge_bundle(db, _source(rows), bundle={"bundle_id": "test", "device_id": "kiosk"})


def _paths(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Record the path each merge takes: "staged" and "copied" (from the TEMP table), or "not
    staged" then "bound" (a value the driver cannot bind: bound from Python, failing again)."""
    taken: list[str] = []
    stage, insert = _merge_staging.stage, _merge_staging.insert
    bound = bundle_merge._Merge._insert_answers

    def staged(*args: Any) -> bool:
        done = stage(*args)
        taken.append("staged" if done else "not staged")
        return done

    def copied(*args: Any) -> int:
        taken.append("copied")
        return insert(*args)

    def ordinary(self: Any, sql: str, batch: list[Any]) -> None:
        if not taken or taken[-1] != "bound":
            taken.append("bound")
        bound(self, sql, batch)

    monkeypatch.setattr(_merge_staging, "stage", staged)
    monkeypatch.setattr(_merge_staging, "insert", copied)
    monkeypatch.setattr(bundle_merge._Merge, "_insert_answers", ordinary)
    return taken


# (column, text, outcome, path): the attacks of test_merge_raw_attacks.py and the path each
# takes. "refused": before anything is staged (validation, digests: the staging never sees
# them); the others are staged and copied.
ATTACKS = [
    ("app_version", '"\\u0031ORIG"', "refused", []),
    ("reason", '"\\/\\u00e9\\ud83d\\ude00"', "refused", []),
    ("session_id", '"ORIG"', "stored", ["staged", "copied"]),
    ("id", '"\\u0030ORIG"', "refused", []),
    ("reason", '"\\udc00"', "refused", []),
    ("reason", '"a\\u0000b"', "refused", []),
    ("vas_line_mm", "NaN", "refused", []),
    ("vas_line_mm", "Infinity", "refused", []),
    ("vas_line_mm", "1e400", "refused", []),
    ("vas_line_mm", "-0", "refused", []),
    ("vas_line_mm", "-0.0", "refused", []),
    ("vas_line_mm", "12345678901234567890", "refused", []),
    ("vas_line_mm", "true", "refused", []),
    ("vas_line_mm", '"5"', "refused", []),
    ("value", "NaN", "refused", []),
    ("value", "99999999999999999999", "refused", []),
    ("value", "true", "refused", []),
    ("value", "[1]", "refused", []),
    ("value", '{"a":1}', "refused", []),
    ("item_id", '["ORIG"]', "refused", []),
    ("instrument_id", "1", "refused", []),
    ("language", '"en","en"', "refused", []),
    ("vas_line_mm", "ORIGe0", "stored", ["staged", "copied"]),
    ("value", "ORIG0", "stored", ["staged", "copied"]),
]


@pytest.mark.parametrize(("column", "text", "outcome", "path"), ATTACKS)
def test_the_path_each_text_attack_takes(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    merge_mode: str,
    column: str,
    text: str,
    outcome: str,
    path: list[str],
) -> None:
    taken = _paths(monkeypatch)
    assert raw._attack(tmp_path, column, text) == outcome  # (stored: exactly as validated)
    if merge_mode == "forked" and outcome == "refused":
        # the checks run while the answers are staged and the rows written: a refused bundle
        # may have been staged (or not: a value the driver cannot bind) and written inside the
        # write's transaction, never committed (the refusal rolls it back: `_attack` finds the
        # hub unchanged)
        assert taken in (
            [],
            ["not staged"],
            ["staged"],
            ["staged", "copied"],
            ["not staged", "bound"],
        )
    else:
        assert taken == path


@pytest.mark.parametrize("column", raw.UNCOMPARED)
def test_a_line_that_says_otherwise_is_not_read_the_rows_validated_are_staged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str
) -> None:
    """The attack of a JSON reader that reads a column otherwise than Python's: no such reader
    is involved, the rows Python parsed and validated are staged and copied (and the hub holds
    them, not the line's other value: the test it runs)."""
    taken = _paths(monkeypatch)
    raw.test_a_line_that_says_otherwise_in_any_column_is_not_what_the_hub_stores(tmp_path, column)
    assert taken == ["staged", "copied"]


# the hub changing between the staging and the write lock


@contextmanager
def _between_staging_and_lock(monkeypatch: pytest.MonkeyPatch, act: Any) -> Iterator[list[bool]]:
    """Run `act()` once the answers are staged (or not), before the write lock is taken."""
    staged: list[bool] = []
    stage = _merge_staging.stage

    def then(*args: Any) -> bool:
        done = stage(*args)
        staged.append(done)
        act()
        return done

    monkeypatch.setattr(_merge_staging, "stage", then)
    yield staged


def test_the_same_bundle_imported_meanwhile_writes_nothing_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, rows = _hub_and_rows(tmp_path)

    def other_import() -> None:
        monkeypatch.undo()  # (the other import is an ordinary one)
        with storage.open_database(hub) as other:
            _merge_with(other, rows)

    with (
        _between_staging_and_lock(monkeypatch, other_import) as staged,
        storage.open_database(hub) as db,
    ):
        result = _merge_with(db, rows)
        assert db.conn.execute(_STAGED).fetchone() is None
    assert staged == [True]
    assert result.redone == 1  # the heads moved: checked again, every answer known now
    assert result.inserted["answers"] == 0
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    assert storage.verify_database(hub).ok


def _gain(hub: Path, row: Sequence[Any]) -> None:
    """Another writer gives the hub an answer under `row`'s id, another content (foreign keys
    off: its session does not exist yet)."""
    gained = list(row)
    gained[COLUMNS.index("reason")] = "the hub's own row"
    conn = sqlite3.connect(str(hub), isolation_level=None)
    try:
        conn.execute(
            f"INSERT INTO answers ({', '.join(COLUMNS)}) "
            f"VALUES ({', '.join('?' for _ in COLUMNS)})",
            gained,
        )
    finally:
        conn.close()


def test_an_unrelated_answer_written_meanwhile_leaves_the_copy_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer adds an answer of its own (another id) between the staging and the lock: the
    staged copy inserts exactly the bundle's answers, in its order, after it; the score check
    runs again inside the lock (the answers changed since the preparation's)."""
    hub, rows = _hub_and_rows(tmp_path)
    own = list(rows["answers"][0])
    own[0] = "0190aaaa-0000-7000-8000-00000000cafe"
    checked: list[int] = []
    check = bundle_merge.check_scores

    def counted(db: Any, sessions: Any) -> None:
        checked.append(len(sessions))
        check(db, sessions)

    monkeypatch.setattr(bundle_merge, "check_scores", counted)
    taken = _paths(monkeypatch)
    with (
        _between_staging_and_lock(monkeypatch, lambda: _gain(hub, own)),
        storage.open_database(hub) as db,
    ):
        result = _merge_with(db, rows)
    assert taken == ["staged", "copied"]
    assert result.inserted["answers"] == len(rows["answers"])
    assert checked and checked[0] > 0
    stored = _stored_answers(hub)
    assert stored[0][0] == own[0]
    assert stored[1:] == _stored_answers(tmp_path / "kiosk.db")


@pytest.mark.parametrize("staging", [True, False])
@pytest.mark.parametrize("trigger", ["none", "one more change", "one per row"])
def test_an_answer_the_hub_gains_meanwhile_under_a_staged_id_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, staging: bool, trigger: str
) -> None:
    """The hub gains, between the staging and the lock, a row under the id of an answer the
    bundle brings as new: ``OR IGNORE`` skips the bundle's row, and the count of rows inserted
    must fall short. A TEMP trigger writing elsewhere on each insert into ``answers`` does not
    hide it: the connection's total of changes counted the trigger's rows, and one more change
    made up for the row skipped (the merge passed, the hub's row in place of the validated
    one)."""
    hub, rows = _hub_and_rows(tmp_path)
    if not staging:
        monkeypatch.setattr(_merge_staging, "_temp_in_memory", lambda conn: False)
    answers = rows["answers"]
    target, other = answers[5], answers[6]
    with storage.open_database(hub) as db:
        if trigger != "none":
            db.conn.execute("CREATE TEMP TABLE noted (id TEXT)")
            when = f"WHEN NEW.id = '{other[0]}'" if trigger == "one more change" else ""
            db.conn.execute(
                "CREATE TEMP TRIGGER noted_answers AFTER INSERT ON main.answers "
                f"{when} BEGIN INSERT INTO noted VALUES (NEW.id); END"
            )
        with (
            _between_staging_and_lock(monkeypatch, lambda: _gain(hub, target)) as staged,
            pytest.raises(storage.MergeRefused, match="gained some of the bundle's answers"),
        ):
            _merge_with(db, rows)
        assert staged == [staging]
        assert db.conn.execute(_STAGED).fetchone() is None
    stored = _stored_answers(hub)
    assert [r[0] for r in stored] == [target[0]]  # the hub's own row only, nothing merged
    assert stored[0][COLUMNS.index("reason")] == "the hub's own row"


@pytest.mark.parametrize("staging", [True, False])
def test_a_temp_trigger_on_answers_does_not_refuse_an_ordinary_bundle(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, staging: bool
) -> None:
    """A TEMP trigger of the merging connection writing elsewhere on each new answer (as the
    row-image tracking does for other tables): the merge was refused ("gained some of the
    bundle's answers"), its count being the connection's total of changes."""
    hub, rows = _hub_and_rows(tmp_path)
    if not staging:
        monkeypatch.setattr(_merge_staging, "_temp_in_memory", lambda conn: False)
    taken = _paths(monkeypatch)
    with storage.open_database(hub) as db:
        db.conn.execute("CREATE TEMP TABLE noted (id TEXT)")
        db.conn.execute(
            "CREATE TEMP TRIGGER noted_answers AFTER INSERT ON main.answers "
            "BEGIN INSERT INTO noted VALUES (NEW.id); END"
        )
        result = _merge_with(db, rows)
        noted = [r[0] for r in db.conn.execute("SELECT id FROM noted ORDER BY rowid")]
    assert taken == (["staged", "copied"] if staging else ["not staged", "bound"])
    assert result.inserted["answers"] == len(rows["answers"])
    assert noted == [r[0] for r in rows["answers"]]
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    assert storage.verify_database(hub).ok


# the TEMP table


def test_a_user_table_of_the_staging_name_is_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    taken = _paths(monkeypatch)
    with storage.open_database(hub) as db:
        db.conn.execute("CREATE TABLE main.merge_staged_answers (id TEXT, note TEXT)")
        db.conn.execute("INSERT INTO main.merge_staged_answers VALUES ('mine', 'kept')")
        _merge_with(db, rows)
        mine = db.conn.execute("SELECT * FROM main.merge_staged_answers").fetchall()
        assert [tuple(r) for r in mine] == [("mine", "kept")]
        assert db.conn.execute(_STAGED).fetchone() is None
    assert taken == ["staged", "copied"]
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")


def test_a_hub_opened_read_only_refuses_as_before_the_staging(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One WriteFailed (nothing saved), as before the staging: the staging's CREATE raised the
    driver's own OperationalError out of the merge."""
    hub, rows = _hub_and_rows(tmp_path)
    taken = _paths(monkeypatch)
    with storage.open_database(hub, readonly=True) as db:
        with pytest.raises(storage.WriteFailed, match="nothing was saved"):
            _merge_with(db, rows)
        assert db.conn.execute(_STAGED).fetchone() is None
    assert taken == ["not staged"]
    assert _stored_answers(hub) == []


def test_a_connection_set_to_keep_temp_tables_in_files_stages_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    taken = _paths(monkeypatch)
    with storage.open_database(hub) as db:
        temp_tables_in_files(db.conn)
        _merge_with(db, rows)
    assert taken == ["not staged", "bound"]
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    assert storage.verify_database(hub).ok


class _Created:
    """Files created in some folders meanwhile (Linux inotify: seen even when unlinked at
    once, as SQLite's temporary files are)."""

    _IN_CREATE = 0x100

    def __init__(self, folders: Sequence[Path]) -> None:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        self.fd = libc.inotify_init1(os.O_NONBLOCK)
        assert self.fd >= 0
        self.watched: dict[int, Path] = {}
        for folder in {f.resolve() for f in folders if f.is_dir()}:
            wd = libc.inotify_add_watch(self.fd, str(folder).encode(), self._IN_CREATE)
            if wd >= 0:
                self.watched[wd] = folder

    def names(self) -> list[Path]:
        found: list[Path] = []
        while True:
            try:
                data = os.read(self.fd, 65536)
            except BlockingIOError:
                return found
            at = 0
            while at < len(data):
                wd, _, _, size = struct.unpack_from("iIII", data, at)
                name = data[at + 16 : at + 16 + size].rstrip(b"\0").decode()
                found.append(self.watched[wd] / name)
                at += 16 + size

    def close(self) -> None:
        os.close(self.fd)


_MERGE_THEN_CONTROL = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from respine_desktop import storage
    from respine_desktop.storage import _merge_staging
    from respine_desktop.storage._driver import sqlite3
    from respine_desktop.storage.bundle_merge import TABLES, bundle_rows
    from tests.storage.test_merge_staging_attacks import _merge_with

    kiosk, hub = Path(sys.argv[1]), Path(sys.argv[2])
    with storage.open_database(kiosk) as db:
        rows = {t: [tuple(r) for r in bundle_rows(db, t)] for t in TABLES}
    stage = _merge_staging.stage
    _merge_staging.stage = lambda *a: print("staged", stage(*a), flush=True) or True
    with storage.open_database(hub) as db:
        _merge_with(db, rows)
    print("merged", flush=True)
    sys.stdin.readline()
    # the control: a connection keeping its TEMP tables in files, its cache too small
    conn = sqlite3.connect(str(hub.with_name("plain.db")), isolation_level=None)
    conn.execute("PRAGMA temp_store=FILE")
    conn.execute("CREATE TEMP TABLE spill (x)")
    conn.execute("PRAGMA temp.cache_size=2")
    conn.execute(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200) "
        "INSERT INTO spill SELECT randomblob(1000) FROM n"
    )
    conn.close()
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="inotify (Linux)")
def test_an_encrypted_merge_makes_no_temporary_file_anywhere(tmp_path: Path, key_env: Path) -> None:
    """The merge runs in a process whose SQLite temporary folder (``SQLITE_TMPDIR``, the first
    SQLite's unix VFS tries) is a private one, watched with the hub's folder: no file is
    created in either during the merge (a temporary file is unlinked at once: inotify still
    sees it created). The control, in the same process: a connection keeping its TEMP tables
    in files creates one there."""
    _hub_and_rows(tmp_path)
    folder, scratch = tmp_path / "secret", tmp_path / "sqlite-tmp"
    folder.mkdir()
    scratch.mkdir()
    hub = folder / "hub.db"
    encrypted_db(hub).close()
    watch = _Created([folder, scratch])
    mine = {hub.name, f"{hub.name}-wal", f"{hub.name}-shm", f"{hub.name}-journal"}
    env = {**os.environ, "SQLITE_TMPDIR": str(scratch), "TMPDIR": str(scratch)}
    try:
        child = subprocess.Popen(
            [sys.executable, "-c", _MERGE_THEN_CONTROL, str(tmp_path / "kiosk.db"), str(hub)],
            cwd=ROOT,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert child.stdout is not None and child.stdin is not None
        said = [child.stdout.readline(), child.stdout.readline()]
        during = [p for p in watch.names() if p.name not in mine]
        _, err = child.communicate("go\n", timeout=300)
        control = [p for p in watch.names() if p.parent == scratch.resolve()]
    finally:
        watch.close()
    assert child.returncode == 0, err
    assert said == ["staged True\n", "merged\n"]
    assert during == []
    assert control, "the control made no temporary file in SQLite's temporary folder"
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")


@pytest.mark.parametrize("where", ["staging", "insert", "tick"])
@pytest.mark.parametrize("enabled", [True, False])
def test_an_interruption_leaves_no_staged_rows_and_restores_the_collector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str, enabled: bool
) -> None:
    """A KeyboardInterrupt (Ctrl-C at the console) raised while staging (the TEMP table half
    filled), while copying inside the lock, or from the progress callback: the hub unchanged,
    no staged rows left on the connection, the collector as it was; the next merge works."""
    hub, rows = _hub_and_rows(tmp_path)
    stage, insert = _merge_staging.stage, _merge_staging.insert
    lines = _lines(rows["answers"])

    def interrupted_stage(conn: sqlite3.Connection, columns: Any, given: Any) -> bool:
        def half_then_interrupted() -> Iterator[Any]:
            yield from given[: len(given) // 2]  # bound into the TEMP table
            raise KeyboardInterrupt

        return stage(conn, columns, half_then_interrupted())

    def interrupted_insert(*args: Any) -> int:
        insert(*args)  # the rows copied, inside the transaction
        raise KeyboardInterrupt

    ticks = 0

    def tick() -> None:
        nonlocal ticks
        ticks += 1
        if ticks == 10:
            raise KeyboardInterrupt

    if where == "staging":
        monkeypatch.setattr(_merge_staging, "stage", interrupted_stage)
    if where == "insert":
        monkeypatch.setattr(_merge_staging, "insert", interrupted_insert)

    def source(table: str) -> Any:
        return _Member(rows[table], lines) if table == "answers" else rows[table]

    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with storage.open_database(hub) as db:
            with pytest.raises(KeyboardInterrupt):
                merge_bundle(
                    db,
                    source,
                    bundle={"bundle_id": "test", "device_id": "kiosk"},
                    tick=tick if where == "tick" else None,
                )
            assert gc.isenabled() is enabled
            assert db.conn.execute(_STAGED).fetchone() is None
            assert not db.conn.in_transaction
            assert db.conn.execute("SELECT count(*) FROM answers").fetchone()[0] == 0
            monkeypatch.undo()
            _merge_with(db, rows)
            assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    assert storage.verify_database(hub).ok


_KILLED_AFTER_COMMIT = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from respine_desktop import storage
    from respine_desktop.storage import bundle_merge
    from tests.storage.test_merge_staging_attacks import _merge_with
    from respine_desktop.storage.bundle_merge import TABLES, bundle_rows

    kiosk, hub = Path(sys.argv[1]), Path(sys.argv[2])
    with storage.open_database(kiosk) as db:
        rows = {t: [tuple(r) for r in bundle_rows(db, t)] for t in TABLES}

    def killed(db):  # the commit made, the checkpoint not yet: the process dies
        print("committed", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)

    bundle_merge._checkpoint = killed
    with storage.open_database(hub) as db:
        _merge_with(db, rows)
    """
)


def test_a_process_killed_between_the_commit_and_the_checkpoint_loses_nothing(
    tmp_path: Path,
) -> None:
    hub, rows = _hub_and_rows(tmp_path)
    child = subprocess.run(
        [sys.executable, "-c", _KILLED_AFTER_COMMIT, str(tmp_path / "kiosk.db"), str(hub)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert child.stdout == "committed\n"
    wal = Path(f"{hub}-wal")
    assert wal.stat().st_size > 0  # the merge's pages only in the WAL: never checkpointed
    assert _stored_answers(hub) == _stored_answers(tmp_path / "kiosk.db")
    with storage.open_database(hub) as db:
        assert db.conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert db.conn.execute("SELECT count(*) FROM answers").fetchone()[0] == len(rows["answers"])
        assert db.conn.execute(_STAGED).fetchone() is None
    assert storage.verify_database(hub).ok


def _answers_as_stored(hub: Path) -> list[tuple[Any, ...]]:
    """Every answer row as SQLite stores it: rowid, then each column's type and SQL literal."""
    cells = ", ".join(f"typeof({c}), quote({c})" for c in COLUMNS)
    with storage.open_database(hub, readonly=True) as db:
        return [tuple(r) for r in db.conn.execute(f"SELECT rowid, {cells} FROM answers")]


@pytest.mark.parametrize(
    ("column", "text"), [(None, ""), ("value", "ORIG0"), ("vas_line_mm", "ORIGe0")]
)
def test_the_staged_copy_stores_what_binding_stores_cell_for_cell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, column: str | None, text: str
) -> None:
    """The same bundle merged by the staged copy and by binding from Python: the same rowids,
    types and values in every cell (SQL literals, so 1 and 1.0 differ), a number spelled
    otherwise included."""
    empty, given = _hub_and_rows(tmp_path)  # one kiosk, one empty hub: copied for each way
    stored = []
    for staging in (True, False):
        hub = tmp_path / f"hub-{staging}.db"
        shutil.copyfile(empty, hub)
        rows = dict(given)
        answers = rows["answers"]
        lines = _lines(answers)
        if column is not None:
            target = next(n for n, r in enumerate(answers) if r[COLUMNS.index("vas_line_mm")])
            spelled = json.dumps(answers[target][COLUMNS.index(column)])
            parsed, lines = raw._member(
                raw._cell_lines(answers, target, column, text.replace("ORIG", spelled))
            )
            rows["answers"] = parsed
        taken = _paths(monkeypatch)
        with storage.open_database(hub) as db:
            if not staging:
                temp_tables_in_files(db.conn)
            merge_bundle(
                db,
                lambda t, rows=rows, lines=lines: (
                    _Member(rows[t], lines) if t == "answers" else rows[t]
                ),
                bundle={"bundle_id": "test", "device_id": "kiosk"},
            )
        monkeypatch.undo()
        assert taken == (["staged", "copied"] if staging else ["not staged", "bound"])
        assert storage.verify_database(hub).ok
        stored.append(_answers_as_stored(hub))
    assert stored[0] == stored[1]
    assert len(stored[0]) == len(rows["answers"])
