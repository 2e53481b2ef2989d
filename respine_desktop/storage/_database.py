"""Opening and creating the study database: pragmas, settings, schema upgrade, transactions.

One file is shared by the kiosk and the staff console (two processes), so every connection sets:
WAL journal (readers never block the writer), ``synchronous=FULL`` (a committed answer survives a
power cut), ``foreign_keys=ON`` and a 5 s busy timeout. Write transactions start with
``BEGIN IMMEDIATE``: they take the write lock up front, so a second writer waits (busy timeout)
instead of failing with "database is locked" when a deferred transaction tries to upgrade its
read lock. Nested writes use sqlite-utils' ``atomic()`` (savepoints) inside that transaction.

Rows come back as `sqlite3.Row` (the connection's row factory) and are read by column name,
never by position; a bulk read that builds many rows uses `plain_rows` and a named tuple whose
fields are the columns it selects.

``durable=False`` (used only by the synthetic-data generator) sets ``synchronous=NORMAL``: in WAL
mode a commit then survives a crash of the process but not a power cut, and costs no fsync.

Every connection is made by `connect`, through SQLCipher (`_driver`), keyed by
`_encryption.apply_key` before anything is read: an encrypted database (and its WAL) is opened
with its key, found by `_encryption.key_for` unless the caller gives it; a plaintext one (demo and
test databases, created as such) with none. A wrong key raises `WrongKey` ("cannot open ...:
wrong passphrase or key") and nothing is created or written.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from respine_desktop import __version__, private_folders
from respine_desktop.files import no_folder, not_a_file, sync_directory
from respine_desktop.storage import _encryption as encryption
from respine_desktop.storage import _row_images as row_images
from respine_desktop.storage import _schema as schema
from respine_desktop.storage._database_info import DatabaseInfo
from respine_desktop.storage._driver import sqlite3
from respine_desktop.storage._errors import (
    AlreadyExists,
    DatabaseCorrupt,
    DatabaseMissing,
    InvalidInput,
    NotARespineDatabase,
    SchemaTooNew,
    SchemaTooOld,
    SnapshotChanged,
    StorageError,
    WriteFailed,
)
from respine_desktop.storage._sqlite_utils import wrap

if TYPE_CHECKING:
    from sqlite_utils import Database

    from respine_desktop.study import Study

# How long a write waits for the write lock another connection holds (SQLite's busy timeout):
# longer than the longest write of this program, a bundle import's write step (its lock held
# 4.8-5.1 s for a 50 MB bundle of 3,500 subjects on 2 busy cores, bench/merge.py), so that a
# kiosk writing meanwhile waits and writes rather than failing as locked (issue 12). The
# import's own wait for the lock has its own limit (`bundle_merge.LOCK_WAIT_S`).
BUSY_TIMEOUT_MS = 30_000
APP_VERSION = __version__
SITE_CODE = re.compile(r"^[0-9A-Z]{2,8}\Z")
DEFAULT_SITE = "01"


class StudyDb:
    """An open study database: the handle every storage function takes first.

    Use it as a context manager or call `close()`. `device_id` is this installation's device
    (from the ``settings`` table); `study` the study configuration the schedule follows.
    Attributes starting with ``sql`` are for `respine_desktop.storage` only.

    ``sql``, sqlite-utils' `Database` on the connection, and ``study`` (by default the shipped
    configuration) are made the first time they are asked for: opening a database (the kiosk's
    start, up to its lock screen) needs only the connection.
    """

    def __init__(
        self, conn: sqlite3.Connection, path: Path, info: DatabaseInfo, study: Study | None
    ) -> None:
        self._conn = conn
        self._sql: Database | None = None
        self._study = study
        self.path = path
        self.info = info
        self.readonly = False
        # Whether SQLite's quick_check passed on this file since it was opened (`open_database`
        # with `check`, or `check_intact`).
        self.checked = False
        self.sql_key: bytes | None = None  # the database key, for backups (storage only)

    @property
    def device_id(self) -> str:
        return self.info.device_id

    @property
    def site_code(self) -> str:
        return self.info.site_code

    @property
    def study_id(self) -> str:
        return self.info.study_id

    @property
    def study(self) -> Study:
        if self._study is None:
            from respine_desktop.study import load_study

            self._study = load_study()
        return self._study

    @property
    def sql(self) -> Database:
        if self._sql is None:
            self._sql = wrap(self._conn)
        return self._sql

    @property
    def conn(self) -> sqlite3.Connection:
        return self._conn

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> StudyDb:
        return self

    def __exit__(self, kind: object, exc: object, tb: object) -> None:
        self.close()
        if isinstance(exc, sqlite3.DatabaseError) and is_corruption(exc):
            # A damaged page met while reading: one line for the user instead of a traceback.
            raise corrupt_error(self.path, exc) from exc

    def __repr__(self) -> str:
        return f"<StudyDb {self.path} site {self.site_code} device {self.device_id[:8]}>"


@contextlib.contextmanager
def transaction(db: StudyDb) -> Iterator[None]:
    """One write transaction: ``BEGIN IMMEDIATE`` ... ``COMMIT``, or a savepoint when nested.

    Everything inside commits together or not at all (an exception rolls it back and
    propagates). Audit entries are written inside the same transaction as the change.
    """
    conn = db.conn
    if conn.in_transaction:
        try:
            with db.sql.atomic():
                yield
        except sqlite3.OperationalError as exc:  # e.g. inside a read_snapshot: query-only
            raise WriteFailed(f"{db.path}: could not write, nothing was saved ({exc})") from exc
        return
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            if not db.readonly and not row_images.installed(conn):
                # The row-image triggers are TEMP objects, which SQLite deletes when the
                # connection's ``temp_store`` changes: put back before anything is written.
                row_images.install(conn)
            yield
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        try:
            if row_images.pending(conn):  # rows changed without an audit entry: give them one
                from respine_desktop.storage import _audit as audit

                audit.append_pending(db)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
    except sqlite3.OperationalError as exc:
        # Locked past the busy timeout, disk full, I/O error, read-only file: the callers (kiosk,
        # console, commands) handle StorageError, so the user learns that nothing was saved.
        raise WriteFailed(f"{db.path}: could not write, nothing was saved ({exc})") from exc


# The tables an export reads. Every change of a record writes an audit entry in its own
# transaction (DESIGN §3) and the other tables only grow or are updated alongside an audit entry,
# so their newest rowids identify a state of the study.
_STAMPED = ("subjects", "visits", "sessions", "answers", "scores", "audit_log")


def state_stamp(db: StudyDb) -> tuple[int, ...]:
    """What identifies the study's current state for a reader (see `read_snapshot`)."""
    return tuple(
        int(db.conn.execute(f"SELECT coalesce(max(rowid), 0) AS n FROM {table}").fetchone()["n"])
        for table in _STAMPED
    )


@contextlib.contextmanager
def read_snapshot(db: StudyDb, *, expect: tuple[int, ...] | None = None) -> Iterator[None]:
    """One read transaction: every query inside sees the database as it was at the first one.

    For the long reads of an export: a bundle imported or a subject registered meanwhile (WAL
    lets writers go on) appears in none of its rows rather than in some. Writing inside is
    refused (`WriteFailed`: the connection is query-only meanwhile). With `expect` (a
    `state_stamp` taken in another connection's snapshot), `SnapshotChanged` is raised unless
    this snapshot shows the same state, so that several processes can read one state. Inside a
    transaction already (a caller's own), it reads in that one.
    """
    conn = db.conn
    if conn.in_transaction:
        if expect is not None and state_stamp(db) != expect:
            raise SnapshotChanged(f"{db.path}: the database changed while it was being read")
        yield
        return
    was_query_only = bool(conn.execute("PRAGMA query_only").fetchone()["query_only"])
    conn.execute("BEGIN DEFERRED")
    conn.execute("PRAGMA query_only = ON")
    try:
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()  # the snapshot starts here
        if expect is not None and state_stamp(db) != expect:
            raise SnapshotChanged(f"{db.path}: the database changed while it was being read")
        yield
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")  # nothing to keep: a read transaction
        if not was_query_only:
            conn.execute("PRAGMA query_only = OFF")


_SQLITE_CORRUPT = 11  # primary result code (extended codes keep it in the low byte)


def is_corruption(exc: sqlite3.DatabaseError) -> bool:
    """Whether SQLite raised `exc` because the file is damaged (SQLITE_CORRUPT)."""
    code = getattr(exc, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF == _SQLITE_CORRUPT


def corrupt_error(path: Path, exc: BaseException | str) -> DatabaseCorrupt:
    """The one-line error for a damaged database file."""
    first = (str(exc).splitlines() or ["malformed"])[0]
    return DatabaseCorrupt(
        f"{path}: the database file is damaged ({first}); nothing was written to it; "
        "run `verify` to name the problem and restore the last backup"
    )


def integrity_problem(conn: sqlite3.Connection, *, full: bool = False) -> str | None:
    """The first problem SQLite's ``quick_check`` (``integrity_check`` if `full`) reports, with
    the count of the others, or None if the file is intact. The check reads every page once;
    ``quick_check`` skips comparing each index with its table."""
    rows = conn.execute(f"PRAGMA {'integrity_check' if full else 'quick_check'}").fetchall()
    lines = [line for row in rows for line in str(row[0]).splitlines()]
    if lines == ["ok"]:
        return None
    problems = [line for line in lines if not line.startswith("*** in database")] or lines
    more = f" (+{len(problems) - 1} more problems)" if len(problems) > 1 else ""
    return f"{problems[0]}{more}"


def check_intact(db: StudyDb) -> None:
    """SQLite's ``quick_check`` of an open database (opened with ``check=False``): raises
    `DatabaseCorrupt` as `open_database` would, else marks it checked (`StudyDb.checked`).

    For a long read-only job that opens without the check to run it beside its other work (the
    CSV export's worker processes) and stops before committing any output if it fails."""
    _refuse_damaged(db.conn, db.path)
    db.checked = True


def _refuse_damaged(conn: sqlite3.Connection, path: Path) -> None:
    """`DatabaseCorrupt` if ``quick_check`` finds a problem (or meets a damaged page)."""
    try:
        problem = integrity_problem(conn)
    except sqlite3.DatabaseError as exc:
        if not is_corruption(exc):
            raise
        problem = str(exc)
    if problem is not None:
        raise corrupt_error(path, problem)


def new_id() -> str:
    """A new UUID version 7 (RFC 9562) as text: the key of every record.

    48 bits of Unix time in milliseconds then 74 random bits: unique across devices like a
    random UUID, but ids made one after the other sort together, so index inserts append to the
    same B-tree pages instead of touching a random page per row (commits write far fewer pages).
    The embedded time is the system's and is not a record time; record times come from `clock`.
    """
    h = f"{time.time_ns() // 1_000_000 & 0xFFFFFFFFFFFF:012x}{os.urandom(10).hex()}"
    # Version 7 in the 13th hex digit, variant 10xx in the 17th.
    return f"{h[:8]}-{h[8:12]}-7{h[13:16]}-{_VARIANT[h[16]]}{h[17:20]}-{h[20:]}"


_VARIANT = {d: "89ab"[int(d, 16) & 3] for d in "0123456789abcdef"}


def media_writable(path: Path) -> bool:
    """Whether this process may write the file `path` and create files beside it."""
    return os.access(path, os.W_OK) and os.access(path.resolve().parent, os.W_OK)


def refuse_read_only(path: Path) -> None:
    """`WriteFailed` if this user cannot write the database at `path` or create files beside
    it: SQLite would open it read-only all the same and fail at the first write."""
    if not media_writable(path):
        raise WriteFailed(
            f"{path}: cannot be written by this user (the file or its folder is read-only), "
            "and this needs to write to it: nothing changed; copy it to a folder you may write"
        )


def readonly_uri(path: Path, *, writable: bool) -> str:
    """The URI a read-only connection opens `path` with; it never creates the file.

    On writable media: ``mode=rw`` (with ``query_only``), so that closing the last connection
    removes the ``-wal``/``-shm`` files like any last connection does. On read-only media (a
    write-protected stick, a read-only folder) a WAL database cannot create its ``-shm``: when no
    ``-wal`` file holds changes the file alone is the database and nothing can change it, so it
    is opened ``immutable=1`` (no locks, no ``-shm``); a ``-wal`` file there is read with
    ``mode=ro`` (SQLite needs its ``-shm`` beside it).
    """
    target = f"file:{quote(os.fsencode(path.resolve()))}"  # the bytes of any name
    if writable:
        return f"{target}?mode=rw"
    wal = Path(f"{path}-wal")
    if not wal.exists() or wal.stat().st_size == 0:
        return f"{target}?mode=ro&immutable=1"
    return f"{target}?mode=ro"


def connect(
    path: Path, *, readonly: bool = False, durable: bool = True, key: bytes | None = None
) -> sqlite3.Connection:
    """A raw connection with the project's pragmas (WAL is set once, at creation), keyed with
    `key` (None: a plaintext database) before anything is read."""
    if readonly:
        uri = readonly_uri(path, writable=media_writable(path))
        conn = sqlite3.connect(uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    else:
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None)
    try:
        encryption.apply_key(conn, key)
    except BaseException:
        conn.close()
        raise
    if readonly:
        conn.execute("PRAGMA query_only=ON")
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
    return conn


def plain_rows(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
    """`sql` run on a cursor whose rows are plain tuples, for the bulk reads only.

    Building a `sqlite3.Row` per row costs a hot read (an export's answers, a merge) measurably;
    such a read selects the fields of a named tuple, in their order (`select_list`), and builds
    the named tuple from each plain row, so that its rows are still read by name.
    """
    cursor = conn.cursor()
    cursor.row_factory = None
    return cursor.execute(sql, params)


def scalar(conn: sqlite3.Connection, sql: str, params: Sequence[Any] = ()) -> Any:
    """The one value of a query that selects one column (None if it finds no row)."""
    row = conn.execute(sql, params).fetchone()
    if row is None:
        return None
    (value,) = row  # one column: refused otherwise
    return value


def select_list(fields: Iterable[str], prefix: str = "") -> str:
    """The SELECT list of the named-tuple fields `fields` (columns of the same names)."""
    return ", ".join(f"{prefix}{f}" for f in fields)


def _enable_wal(conn: sqlite3.Connection) -> None:
    """WAL journal mode (as sqlite-utils' ``enable_wal``, without importing it)."""
    if str(conn.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
        with conn:
            conn.execute("PRAGMA journal_mode=wal")


def _unreadable_part(path: Path) -> str:
    """Which of the database's files this user cannot read, or which of its side files SQLite
    refuses to open (a link, planted to send its writes elsewhere, or no regular file: it will
    not follow one), as ``: NAME cannot be read by this user`` or ``: NAME is a link ...``
    (SQLite says only "unable to open database file"); empty if none is."""
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        if part != path and (part.is_symlink() or (part.exists() and not part.is_file())):
            kind = "a link" if part.is_symlink() else "not a regular file"
            return (
                f": {part.name} is {kind}, which SQLite will not open as its side file; "
                "nothing was changed: remove it if no program of yours made it"
            )
        if part.exists() and not os.access(part, os.R_OK):
            return f": {part.name} cannot be read by this user"
    return ""


def inspect_database(path: Path, *, key: bytes | None = None) -> tuple[str, ...]:
    """The migrations applied to the RESPINE database at `path`, read without writing anything.

    Raises `DatabaseMissing` if there is no such file and `NotARespineDatabase` if it is not a
    SQLite file or not one of ours; for an encrypted file, `WrongKey` if `key` (default: the one
    `_encryption.key_for` finds) does not open it and `KeyUnavailable` if no key is at hand.
    """
    if not path.is_file():
        raise DatabaseMissing(not_a_file(path, "database file"))
    if key is None:
        key = encryption.key_for(path)
    try:
        conn = connect(path, readonly=True, key=key)
    except sqlite3.OperationalError as exc:
        raise DatabaseMissing(f"{path}: cannot open ({exc}{_unreadable_part(path)})") from exc
    except sqlite3.DatabaseError as exc:
        raise _unreadable(path, exc, key) from exc
    try:
        tables = {
            r["name"] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        if not {"settings", schema.migrations.migrations_table} <= tables:
            raise NotARespineDatabase(f"{path}: not a RESPINE database")
        study = conn.execute("SELECT value FROM settings WHERE key='study_id'").fetchone()
        applied = tuple(
            r["name"]
            for r in conn.execute(
                f"SELECT name FROM {schema.migrations.migrations_table} "
                "WHERE migration_set=? ORDER BY rowid",
                [schema.MIGRATION_SET],
            )
        )
    except sqlite3.DatabaseError as exc:
        if is_corruption(exc):
            raise corrupt_error(path, exc) from exc
        raise _unreadable(path, exc, key) from exc
    finally:
        conn.close()
    if study is None or not applied:
        raise NotARespineDatabase(f"{path}: not a RESPINE database")
    unknown = [name for name in applied if name not in schema.migration_names()]
    if unknown:
        raise SchemaTooNew(
            f"{path}: written by a newer RESPINE Desktop (schema {unknown[-1]}); "
            f"this is version {APP_VERSION}"
        )
    return applied


def _unreadable(path: Path, exc: sqlite3.DatabaseError, key: bytes | None) -> StorageError:
    """The error for a file SQLite refuses to read: a wrong key, or not one of ours."""
    if key is not None and encryption.is_wrong_key(exc):
        return encryption.wrong_key(path)
    if not encryption.has_plaintext_header(path):
        return NotARespineDatabase(
            f"{path}: not a RESPINE database, or an encrypted one whose key file "
            f"{path.name}.key is missing ({exc})"
        )
    return NotARespineDatabase(f"{path}: not a RESPINE database ({exc})")


def _settings(conn: sqlite3.Connection) -> dict[str, str]:
    return {r["key"]: r["value"] for r in conn.execute("SELECT key, value FROM settings")}


def _info(path: Path, conn: sqlite3.Connection) -> DatabaseInfo:
    s = _settings(conn)
    applied = tuple(
        r["name"]
        for r in conn.execute(
            f"SELECT name FROM {schema.migrations.migrations_table} "
            "WHERE migration_set=? ORDER BY rowid",
            [schema.MIGRATION_SET],
        )
    )
    return DatabaseInfo(
        path=str(path),
        study_id=s["study_id"],
        site_code=s["site_code"],
        device_id=s["device_id"],
        app_version=s["app_version"],
        created_at=s["created_at"],
        migrations=applied,
    )


def setting(db: StudyDb, key: str, default: str | None = None) -> str | None:
    """One value of the ``settings`` table."""
    row = db.conn.execute("SELECT value FROM settings WHERE key=?", [key]).fetchone()
    return str(row["value"]) if row else default


def open_database(
    path: str | Path,
    *,
    readonly: bool = False,
    durable: bool = True,
    study: Study | None = None,
    check: bool = True,
    key: bytes | None = None,
) -> StudyDb:
    """Open an existing RESPINE database, applying pending schema migrations (unless `readonly`)
    after a verified backup of it as it was (`_upgrade`).

    An encrypted database is opened with `key`, by default the one found for it (this process's
    unlocked keys, the OS store): `KeyUnavailable` when none is at hand, `WrongKey` when it does
    not open the file.

    Never creates a file: a missing path raises `DatabaseMissing`, a file that is not a RESPINE
    database raises `NotARespineDatabase` (and is not modified). With `check` (the default),
    SQLite's ``quick_check`` runs first and a damaged file raises `DatabaseCorrupt` before
    anything is written or read (a process that opens a file its caller just checked passes
    ``check=False``); a damaged page met later, inside ``with db:``, raises it too.
    """
    path = Path(path)
    if key is None:
        key = encryption.key_for(path)
    applied = inspect_database(path, key=key)
    if not readonly:
        refuse_read_only(path)
    conn = connect(path, readonly=readonly, durable=durable, key=key)
    try:
        if check:
            _refuse_damaged(conn, path)
        pending = len(schema.migration_names()) - len(applied)
        missing = set(schema.migration_names()) - set(applied)
        if readonly and missing and missing <= {*schema.VIEW_MIGRATIONS, *schema.READ_OPTIONAL}:
            if missing & set(schema.VIEW_MIGRATIONS):
                conn.execute("PRAGMA query_only=OFF")
                schema.create_temp_views(conn)
                conn.execute("PRAGMA query_only=ON")
        elif readonly and pending > 0:
            raise SchemaTooOld(
                f"{path}: written by an older version ({pending} schema upgrade(s) pending); "
                "open it once with the application (`python main.py --db FILE`) to upgrade it"
            )
        if not readonly:
            _enable_wal(conn)
            if pending > 0:
                db0 = StudyDb(conn, path, _info(path, conn), study)
                from respine_desktop.storage._upgrade import backup_before_upgrade

                backup_before_upgrade(db0, path, applied)  # verified, or nothing is migrated
                with transaction(db0):
                    row_images.install(conn)  # rows a migration changes are audited too
                    schema.migrations.apply(db0.sql)
                    row_images.install(conn)  # tables it created
        db = StudyDb(conn, path, _info(path, conn), study)
        db.readonly = readonly
        db.checked = check
        if not readonly:
            row_images.install(conn)  # every later change carries its rows into the audit log
        db.sql_key = key
        return db
    except BaseException:
        conn.close()
        raise


def check_site_code(site_code: str) -> str:
    """`site_code` if it is a valid site code (2-8 digits or capital letters), else InvalidInput."""
    if not isinstance(site_code, str) or not SITE_CODE.match(site_code):
        raise InvalidInput(
            f"site code {site_code!r} must be 2 to 8 digits or capital letters"
        ).keyed("site_code", code=site_code)
    return site_code


def create_database(
    path: str | Path,
    *,
    admin_pin: str,
    site_code: str = DEFAULT_SITE,
    admin_username: str = "admin",
    device_label: str = "kiosk",
    durable: bool = True,
    study: Study | None = None,
    key: bytes | None = None,
    plaintext_purpose: str = "test",
) -> StudyDb:
    """Create a new RESPINE database at `path` with its first administrator account.

    With `key`, the file (and its WAL) is encrypted with it (SQLCipher 4) and records
    ``encryption=sqlcipher4``; the caller keeps the key (a key file, the OS store). Without, it is
    a plaintext database that records what it is for, `plaintext_purpose` ("test" or "demo"),
    which ``status`` shows as NOT ENCRYPTED.

    Refuses an existing path (`AlreadyExists`). The file is made under a temporary name in the
    same folder and appears under `path` only complete: a failure, or a process killed
    meanwhile, leaves nothing under `path`.
    """
    from respine_desktop.storage import _staff as staff

    path = Path(path)
    from respine_desktop.study import load_study

    study = study or load_study()
    check_site_code(site_code)
    if path.exists():
        raise AlreadyExists(f"{path}: the file exists already")
    if not path.parent.is_dir():
        raise InvalidInput(no_folder(path.parent))
    check_no_orphan_journal(path)
    if key is None and plaintext_purpose not in encryption.PLAINTEXT_PURPOSES:
        raise InvalidInput(
            f"a plaintext database is for {' or '.join(encryption.PLAINTEXT_PURPOSES)}"
        )
    encryption_setting = encryption.ENCRYPTED if key else f"plaintext:{plaintext_purpose}"
    pin_hash = staff.hash_pin(staff.check_pin_format(admin_pin))
    staff.check_username(admin_username)
    # Built under a temporary name in a new folder beside it, then linked into place: a process
    # killed meanwhile never leaves a half-made (or empty) file under `path`, and the link, which
    # refuses an existing name, lets only one of two processes creating the same file have it.
    # The folder is one only this user may write into (`private_folders`: SQLite opens the file
    # by its name, following a link, which nobody else can put there); one a killed run left is
    # removed first.
    building = (path.parent, f".{path.name}.", ".creating")
    private_folders.remove_abandoned(*building)
    with contextlib.ExitStack() as stack:
        try:
            private = stack.enter_context(private_folders.private(*building))
        except OSError as exc:
            raise InvalidInput(f"{path}: cannot create ({exc.strerror})") from None
        temp = private / path.name
        _fill_new_database(
            temp,
            study,
            site_code,
            admin_username,
            device_label,
            pin_hash,
            durable=durable,
            key=key,
            encryption_setting=encryption_setting,
        )
        _link_into_place(temp, path)
    sync_directory(path.parent)
    return open_database(path, durable=durable, study=study, check=False, key=key)


def check_no_orphan_journal(path: Path) -> None:
    """`InvalidInput` if a WAL or rollback journal is left at `path` without its database:
    SQLite would replay another file's pages into the one made there (a damaged database)."""
    for suffix in ("-wal", "-journal"):
        journal = Path(f"{path}{suffix}")
        if os.path.lexists(journal):
            raise InvalidInput(
                f"{journal}: a journal left without its database {path.name} (it would be "
                "replayed into a new one): put its database back beside it, or move it away"
            )


def _fill_new_database(
    path: Path,
    study: Study,
    site_code: str,
    admin_username: str,
    device_label: str,
    pin_hash: str,
    *,
    durable: bool,
    key: bytes | None = None,
    encryption_setting: str = "plaintext:test",
) -> None:
    """Schema, settings, site, device, first audit entry and administrator, in one transaction;
    the connection is closed after (WAL checkpointed into the file, which then stands alone)."""
    from respine_desktop import clock
    from respine_desktop.storage import _audit as audit
    from respine_desktop.storage import _staff as staff

    conn = connect(path, durable=durable, key=key)
    try:
        _enable_wal(conn)
        now = clock.now_iso()
        device_id = new_id()
        info = DatabaseInfo(str(path), study.id, site_code, device_id, APP_VERSION, now, ())
        db = StudyDb(conn, path, info, study)
        with transaction(db):
            schema.migrations.apply(db.sql)
            row_images.install(conn)
            conn.executemany(
                "INSERT INTO settings (key, value) VALUES (?, ?)",
                [
                    ("study_id", study.id),
                    ("site_code", site_code),
                    ("device_id", device_id),
                    ("app_version", APP_VERSION),
                    ("created_at", now),
                    ("encryption", encryption_setting),
                ],
            )
            conn.execute("INSERT INTO sites (code, created_at) VALUES (?, ?)", [site_code, now])
            conn.execute(
                "INSERT INTO devices (id, label, site_code, registered_at, audit_head) "
                "VALUES (?, ?, ?, ?, ?)",
                [device_id, device_label, site_code, now, audit.GENESIS],
            )
            audit.append(
                db,
                action="database.created",
                entity="database",
                entity_id=device_id,
                payload={
                    "study_id": study.id,
                    "site_code": site_code,
                    "app_version": APP_VERSION,
                    "device_label": device_label,
                },
            )
            staff.insert_staff(db, None, admin_username, "admin", pin_hash)
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
    if Path(f"{path}-wal").exists():  # pragma: no cover - the last connection removes it
        raise WriteFailed(f"{path}: the new database could not be checkpointed")


def _link_into_place(temp: Path, path: Path) -> None:
    """`temp` under the name `path`, which must not exist (`AlreadyExists`)."""
    try:
        os.link(temp, path)
        return
    except FileExistsError:
        raise AlreadyExists(f"{path}: the file exists already") from None
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise InvalidInput(f"{path}: cannot create ({exc.strerror})") from None
    # A file system without hard links (FAT on a USB stick): claim the name, then replace it.
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
    except FileExistsError:
        raise AlreadyExists(f"{path}: the file exists already") from None
    os.replace(temp, path)  # the name claimed is an empty regular file
