"""The database schema as sqlite-utils migrations: applied in order, each in its own transaction.

Design choices (see also `audit` for the hash chain):

* Keys are UUID text (``uuid4``), so databases of several kiosks merge without collisions.
  Exceptions with a natural study-wide key: ``sites.code`` (the site code is the identity of a
  site on every kiosk) and ``visits.id``, which is ``uuid5(subject id, visit code)`` so that two
  devices that record the same subject's visit produce the same visit id.
* ``answers`` and ``audit_log`` are append-only (triggers reject UPDATE and DELETE). A changed
  answer is a new row whose ``supersedes`` names the previous one; the *current* answer of an item
  is the one no other row supersedes.
* ``session_choices`` is append-only too: a reviewer's choice of the session that counts for a
  visit two kiosks both recorded (`conflict_resolution`); a later choice supersedes an earlier
  one, the visit's *current* choice being its newest row (``chosen_at``, then ``rowid``).
* ``scores`` keeps every computation: a recomputation (after a correction) stamps the old row
  ``superseded_at``/``superseded_by`` and inserts a new one.
* ``visits`` rows exist only once something happened to the visit (session started, visit marked
  missed); the schedule itself comes from the study configuration (`respine_desktop.schedule`).
* Staff ids in ``given_by``, ``started_by`` ... carry no foreign key: imported rows may name
  staff of another kiosk.
* No column holds a name, birth date or contact: subjects are a code, a site, a day 0 and at
  most a year of birth.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respine_desktop.storage._sqlite_utils import LazyMigrations

if TYPE_CHECKING:
    import sqlite3

    from sqlite_utils import Database

MIGRATION_SET = "respine"
# sqlite-utils' migrations, declared without importing sqlite-utils (imported to apply them).
migrations = LazyMigrations(MIGRATION_SET)

_INITIAL = """
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE sites (
    code TEXT PRIMARY KEY,
    created_at TEXT NOT NULL
);
CREATE TABLE devices (
    id TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    site_code TEXT REFERENCES sites(code),
    registered_at TEXT NOT NULL,
    -- head of this device's audit chain, so that removing the last entries is detected
    audit_seq INTEGER NOT NULL DEFAULT 0,
    audit_head TEXT NOT NULL
);
CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL CHECK (role IN ('admin', 'investigator', 'coordinator')),
    pin_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT
);
CREATE TABLE subjects (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    site_code TEXT NOT NULL REFERENCES sites(code),
    day0 TEXT NOT NULL,
    year_of_birth INTEGER,
    device_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT
);
CREATE INDEX subjects_site_code ON subjects(site_code, code);
CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    visit_code TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_progress', 'parked', 'complete', 'missed')),
    actual_date TEXT,
    missed_reason TEXT,
    updated_at TEXT NOT NULL,
    UNIQUE (subject_id, visit_code)
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    visit_id TEXT NOT NULL REFERENCES visits(id),
    subject_id TEXT NOT NULL REFERENCES subjects(id),
    visit_code TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('in_progress', 'parked', 'submitted')),
    position INTEGER NOT NULL DEFAULT 0,
    language TEXT,
    device_id TEXT NOT NULL,
    started_at TEXT NOT NULL,
    started_by TEXT,
    parked_at TEXT,
    parked_by TEXT,
    resumed_at TEXT,
    resumed_by TEXT,
    submitted_at TEXT,
    submitted_by TEXT
);
CREATE INDEX sessions_visit ON sessions(visit_id);
CREATE INDEX sessions_subject ON sessions(subject_id);
CREATE INDEX sessions_open ON sessions(state) WHERE state != 'submitted';
CREATE TABLE answers (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    instrument_id TEXT NOT NULL,
    instrument_version TEXT NOT NULL,
    instrument_checksum TEXT NOT NULL,
    item_id TEXT NOT NULL,
    value REAL,
    status TEXT NOT NULL CHECK (status IN ('answered', 'skipped')),
    language TEXT NOT NULL,
    app_version TEXT NOT NULL,
    device_id TEXT NOT NULL,
    given_at TEXT NOT NULL,
    given_by TEXT,
    supersedes TEXT REFERENCES answers(id),
    reason TEXT,
    vas_line_mm REAL,
    CHECK ((status = 'answered') = (value IS NOT NULL))
);
CREATE INDEX answers_session_item ON answers(session_id, item_id);
CREATE INDEX answers_supersedes ON answers(supersedes) WHERE supersedes IS NOT NULL;
CREATE TABLE scores (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions(id),
    instrument_id TEXT NOT NULL,
    method TEXT NOT NULL,
    scores TEXT NOT NULL,
    scoring_version TEXT NOT NULL,
    computed_at TEXT NOT NULL,
    computed_by TEXT,
    device_id TEXT NOT NULL,
    superseded_at TEXT,
    superseded_by TEXT REFERENCES scores(id)
);
CREATE INDEX scores_session ON scores(session_id);
CREATE TABLE audit_log (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    seq INTEGER NOT NULL CHECK (seq >= 1),
    at TEXT NOT NULL,
    actor TEXT,
    action TEXT NOT NULL,
    subject_id TEXT,
    entity TEXT NOT NULL,
    entity_id TEXT,
    payload TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (device_id, seq)
);
CREATE INDEX audit_subject ON audit_log(subject_id) WHERE subject_id IS NOT NULL;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused'); END;
CREATE TRIGGER answers_no_update BEFORE UPDATE ON answers
BEGIN SELECT RAISE(ABORT, 'answers are append-only: UPDATE refused'); END;
CREATE TRIGGER answers_no_delete BEFORE DELETE ON answers
BEGIN SELECT RAISE(ABORT, 'answers are append-only: DELETE refused'); END;
"""

# The protective triggers `verify` expects to find.
TRIGGERS: tuple[str, ...] = (
    "audit_log_no_update",
    "audit_log_no_delete",
    "answers_no_update",
    "answers_no_delete",
    "session_choices_no_update",
    "session_choices_no_delete",
)
TABLES: tuple[str, ...] = (
    "settings",
    "sites",
    "devices",
    "staff",
    "subjects",
    "visits",
    "sessions",
    "session_choices",
    "answers",
    "scores",
    "audit_log",
)


@migrations(name="0001_initial")
def m0001_initial(db: Database) -> None:
    """Every table, index and trigger of schema 1."""
    # Inside the migration's transaction, sqlite-utils runs the script statement by statement
    # (no implicit COMMIT), so a failure leaves nothing behind.
    db.executescript(_INITIAL)


_WORKLIST = """
ALTER TABLE subjects ADD COLUMN visits_started TEXT NOT NULL DEFAULT ',';
UPDATE subjects SET visits_started = ',' || coalesce(
    (SELECT group_concat(visit_code, ',') FROM visits v WHERE v.subject_id = subjects.id), ''
) || ',' WHERE EXISTS (SELECT 1 FROM visits v WHERE v.subject_id = subjects.id);
UPDATE subjects SET visits_started = ',' WHERE visits_started = ',,';
CREATE TRIGGER visits_started AFTER INSERT ON visits
BEGIN
    UPDATE subjects SET visits_started = visits_started || NEW.visit_code || ','
    WHERE id = NEW.subject_id;
END;
CREATE INDEX subjects_worklist ON subjects(site_code, day0, visits_started);
ALTER TABLE visits ADD COLUMN session_id TEXT;
UPDATE visits SET session_id = (
    SELECT x.id FROM sessions x WHERE x.visit_id = visits.id
    ORDER BY x.state = 'submitted', x.started_at DESC LIMIT 1
);
CREATE INDEX visits_open ON visits(state) WHERE state IN ('in_progress', 'parked');
"""


@migrations(name="0002_worklist")
def m0002_worklist(db: Database) -> None:
    """Make a site's worklist one index scan, without a lookup per subject × visit.

    ``subjects.visits_started`` lists (``,M0,M3,``) the visits that have a ``visits`` row: a
    trigger keeps it, so rows inserted by any code path (the API, an import) are counted. A
    visit with nothing stored yet is then found by a covering index scan over (site, day 0).
    ``visits.session_id`` is the visit's latest session.
    """
    db.executescript(_WORKLIST)


_SESSION_CHOICES = """
CREATE TABLE session_choices (
    id TEXT PRIMARY KEY,
    visit_id TEXT NOT NULL REFERENCES visits(id),
    session_id TEXT NOT NULL REFERENCES sessions(id),
    chosen_at TEXT NOT NULL,
    chosen_by TEXT NOT NULL,
    device_id TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (trim(reason) <> '')
);
CREATE INDEX session_choices_visit ON session_choices(visit_id);
CREATE TRIGGER session_choices_no_update BEFORE UPDATE ON session_choices
BEGIN SELECT RAISE(ABORT, 'session_choices are append-only: UPDATE refused'); END;
CREATE TRIGGER session_choices_no_delete BEFORE DELETE ON session_choices
BEGIN SELECT RAISE(ABORT, 'session_choices are append-only: DELETE refused'); END;
"""


@migrations(name="0003_session_choices")
def m0003_session_choices(db: Database) -> None:
    """A reviewer's choice of the session that counts for a conflicted visit (append-only).

    ``chosen_by`` is a staff id without a foreign key (a choice made on another hub names that
    hub's staff). That the session belongs to the visit is checked by the code that writes a
    choice (`conflict_resolution`, `bundle_merge`) and by `verify`.
    """
    db.executescript(_SESSION_CHOICES)


# Shared SQL as views: every reader asks the same question the same way. Views hold no data:
# bundles, `verify` and table digests cover the tables only (`TABLES`).
_VIEWS_SQL = """
CREATE {temp}VIEW reviewed_sessions AS
SELECT x.rowid AS rowid, x.*, (
    x.id IS (
        SELECT c.session_id FROM session_choices c WHERE c.visit_id = x.visit_id
        ORDER BY c.chosen_at DESC, c.rowid DESC LIMIT 1
    )
) AS chosen_by_review
FROM sessions x;
CREATE {temp}VIEW chosen_sessions AS
SELECT v.id AS visit_id, (
    SELECT x.id FROM reviewed_sessions x WHERE x.visit_id = v.id
    ORDER BY x.chosen_by_review DESC, x.state = 'submitted' DESC, x.submitted_at DESC,
        x.started_at DESC, x.id DESC
    LIMIT 1
) AS session_id
FROM visits v;
"""
VIEWS: tuple[str, ...] = ("reviewed_sessions", "chosen_sessions")
# Migrations that only add views: a read-only open of a file that lacks them makes them as
# temporary views of its connection instead of asking for an upgrade (nothing to convert).
# (0008_device_keys too: a read-only open sees an empty temporary device_keys table.)
VIEW_MIGRATIONS: tuple[str, ...] = ("0004_views", "0008_device_keys")


@migrations(name="0004_views")
def m0004_views(db: Database) -> None:
    """The views of the chosen-session rule (`respine_desktop.storage._chosen_session`).

    ``reviewed_sessions``: every ``sessions`` column (``rowid`` too) and ``chosen_by_review``,
    1 when the session is its visit's current reviewed choice (`conflict_resolution`), else 0.
    ``chosen_sessions``: each visit's chosen session (``visit_id``, ``session_id``).
    """
    db.executescript(_VIEWS_SQL.format(temp=""))


def create_temp_views(conn: sqlite3.Connection) -> None:
    """The views as temporary views of `conn` (a read-only open of a file without them)."""
    for statement in (_VIEWS_SQL.format(temp="TEMP ") + _DEVICE_KEYS_TEMP).split(";"):
        if statement.strip():
            conn.execute(statement)


def migration_names() -> tuple[str, ...]:
    """The names of every migration this version of the application knows."""
    return tuple(m.name for m in migrations._migrations)


_VAS_CALIBRATIONS = """
CREATE TABLE vas_calibrations (
    id TEXT PRIMARY KEY,
    device_id TEXT NOT NULL,
    measured_mm REAL NOT NULL CHECK (measured_mm > 0),
    drawn_factor REAL NOT NULL CHECK (drawn_factor > 0),
    factor REAL NOT NULL CHECK (factor > 0),
    screen_width_px INTEGER NOT NULL,
    screen_height_px INTEGER NOT NULL,
    dpi REAL NOT NULL,
    dpi_source TEXT NOT NULL,
    device_pixel_ratio REAL NOT NULL,
    px_per_mm REAL NOT NULL,
    calibrated_at TEXT NOT NULL,
    calibrated_by TEXT NOT NULL
);
CREATE INDEX vas_calibrations_device ON vas_calibrations(device_id, calibrated_at);
CREATE TRIGGER vas_calibrations_no_update BEFORE UPDATE ON vas_calibrations
BEGIN SELECT RAISE(ABORT, 'vas_calibrations are append-only: UPDATE refused'); END;
CREATE TRIGGER vas_calibrations_no_delete BEFORE DELETE ON vas_calibrations
BEGIN SELECT RAISE(ABORT, 'vas_calibrations are append-only: DELETE refused'); END;
ALTER TABLE answers ADD COLUMN vas_calibration TEXT;
"""


@migrations(name="0005_vas_calibrations")
def m0005_vas_calibrations(db: Database) -> None:
    """Staff measurements of the VAS line (append-only), and the calibration each VAS answer used.

    ``answers.vas_calibration``: the id of the device's calibration in force when a VAS answer
    was drawn on a line, ``uncalibrated`` when the device had none, NULL for other rows and for
    rows written before this migration (their canonical text, hence their audited digest, is
    unchanged: `respine_desktop.storage._answers.canonical` omits a trailing NULL of it).
    """
    db.executescript(_VAS_CALIBRATIONS)


_DEVICE_KEYS = """
CREATE TABLE device_keys (
    role TEXT NOT NULL CHECK (role IN ('own', 'enrolled', 'hub')),
    device_id TEXT NOT NULL,
    label TEXT NOT NULL,
    site_code TEXT NOT NULL,
    sign_public TEXT NOT NULL,
    box_public TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    added_at TEXT NOT NULL,
    revoked_at TEXT,
    PRIMARY KEY (role, device_id)
);
"""


@migrations(name="0008_device_keys")
def m0008_device_keys(db: Database) -> None:
    """Public keys of devices (`respine_desktop.storage._device_keys`): this device's own
    (``own``; its private keys are a wrapped setting), the devices a hub enrolled (``enrolled``)
    and the hub a kiosk encrypts its bundles to (``hub``). Not part of bundles or table digests:
    each database enrols its own peers."""
    db.executescript(_DEVICE_KEYS)


_DEVICE_KEYS_TEMP = _DEVICE_KEYS.replace("CREATE TABLE", "CREATE TEMP TABLE IF NOT EXISTS")


_STAFF_POLICY = """
CREATE TABLE staff_0009 (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL
        CHECK (role IN ('admin', 'investigator', 'coordinator', 'data_manager')),
    pin_hash TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until TEXT,
    created_at TEXT NOT NULL,
    created_by TEXT,
    lockouts INTEGER NOT NULL DEFAULT 0
);
INSERT INTO staff_0009 (id, username, role, pin_hash, active, failed_attempts, locked_until,
    created_at, created_by)
SELECT id, username, role, pin_hash, active, failed_attempts, locked_until, created_at,
    created_by FROM staff ORDER BY rowid;
DROP TABLE staff;
ALTER TABLE staff_0009 RENAME TO staff;
"""


@migrations(name="0009_staff_policy")
def m0009_staff_policy(db: Database) -> None:
    """Staff policy of issue 13: the ``data_manager`` role and escalating lockouts.

    The role CHECK constraint changes, so ``staff`` is rebuilt (SQLite cannot alter a CHECK; no
    table references ``staff``, no trigger or index other than its keys is on it). ``lockouts``
    counts the lockouts since the account's last successful sign-in: each one lasts twice as
    long as the one before (`respine_desktop.storage._staff`).
    """
    db.executescript(_STAFF_POLICY)


_WITHDRAWALS = """
CREATE TABLE withdrawals (
    id TEXT PRIMARY KEY,
    subject_id TEXT NOT NULL UNIQUE REFERENCES subjects(id),
    withdrawn_on TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    recorded_at TEXT NOT NULL,
    recorded_by TEXT NOT NULL,
    device_id TEXT NOT NULL
);
CREATE TRIGGER withdrawals_no_update BEFORE UPDATE ON withdrawals
BEGIN SELECT RAISE(ABORT, 'withdrawals are append-only: UPDATE refused'); END;
CREATE TRIGGER withdrawals_no_delete BEFORE DELETE ON withdrawals
BEGIN SELECT RAISE(ABORT, 'withdrawals are append-only: DELETE refused'); END;
"""


# Migrations a read-only open can do without, so reports and `verify` read an older file as is:
# those that only add a table (its readers see no rows: `_withdrawal`, `report_reads` check that
# the table exists), 0012, which only writes audit entries (the older images it completes are
# replayed as they are), and 0013, 0014 and 0015, which only add an index.
READ_OPTIONAL: tuple[str, ...] = (
    "0010_withdrawal",
    "0011_signatures",
    "0012_pin_digest",
    "0013_scores_superseded_by",
    "0014_audit_entity",
    "0015_audit_calibrations",
)


@migrations(name="0010_withdrawal")
def m0010_withdrawal(db: Database) -> None:
    """A subject's withdrawal from the study: the day, the reason, who recorded it and when
    (`respine_desktop.storage._withdrawal`; one row per subject, append-only, audited as
    ``subject.withdrawn``)."""
    db.executescript(_WITHDRAWALS)


_SIGNATURES = """
CREATE TABLE signatures (
    id TEXT PRIMARY KEY,
    signed_at TEXT NOT NULL,
    device_id TEXT NOT NULL,
    staff_id TEXT NOT NULL,
    username TEXT NOT NULL,
    role TEXT NOT NULL,
    meaning TEXT NOT NULL
        CHECK (meaning IN ('reviewed', 'approved', 'responsibility', 'performed')),
    statement TEXT NOT NULL,
    target_kind TEXT NOT NULL CHECK (target_kind IN ('visit', 'subject', 'document')),
    target_id TEXT NOT NULL,
    subject_id TEXT REFERENCES subjects(id),
    visit_code TEXT,
    title TEXT,
    content_sha256 TEXT NOT NULL CHECK (length(content_sha256) = 64)
);
CREATE INDEX signatures_target ON signatures(target_kind, target_id);
CREATE INDEX signatures_subject ON signatures(subject_id);
CREATE TRIGGER signatures_no_update BEFORE UPDATE ON signatures
BEGIN SELECT RAISE(ABORT, 'signatures are append-only: UPDATE refused'); END;
CREATE TRIGGER signatures_no_delete BEFORE DELETE ON signatures
BEGIN SELECT RAISE(ABORT, 'signatures are append-only: DELETE refused'); END;
"""


@migrations(name="0011_signatures")
def m0011_signatures(db: Database) -> None:
    """21 CFR Part 11 electronic signatures (`respine_desktop.storage._signatures`): who signed
    (staff id, username and role at the time), when (the app's clock), on which device, with
    which meaning and attestation text, what (a subject's visit, a subject, or a document by its
    SHA-256) and the SHA-256 of the canonical text of what was signed (`_signed_content`), so a
    later change shows the signature as broken. Append-only, audited as ``signature.signed``.
    Not part of bundles: signatures are made where the investigator works (the hub)."""
    db.executescript(_SIGNATURES)


@migrations(name="0012_pin_digest")
def m0012_pin_digest(db: Database) -> None:
    """Every staff row imaged once with its PIN hash's digest (`_row_images.DIGESTED`).

    Images written before the PIN hash was evidence leave the column out, and `verify` compares
    a row only with the columns of its last image: without this, a PIN hash swapped on a file
    written by an older version (an account signed into with another's PIN) would go unseen
    until that account's next audited change. Touching the rows (no value changes) makes the
    upgrade's transaction image them (``rows.changed``, `_database.transaction`). The tracking
    is installed again first: an upgrade from before 0009 rebuilt ``staff`` in this same
    transaction, which dropped the temporary triggers on it.
    """
    from respine_desktop.storage import _row_images

    _row_images.install(db.conn)
    db.execute("UPDATE staff SET pin_hash = pin_hash")


@migrations(name="0013_scores_superseded_by")
def m0013_scores_superseded_by(db: Database) -> None:
    """An index of the superseded score rows by their replacement (``superseded_by``, the
    table's reference to itself; partial: only superseded rows have one).

    Without it, inserting a score row while a deferred reference to a score not yet inserted is
    pending (a bundle merge inserts a superseded row before the row that replaced it) made
    SQLite look for that row's referrers by reading the whole table, inside the write lock: the
    score step of the ten 1,000-subject bundles of `bench/exports.py` merged one after the
    other grew from 0.26 s to 3.1 s a bundle; with the index it stays at 0.21 s
    (`bench/hub_lookups.py` measures that insert alone). The planner takes the partial index
    for ``superseded_by = ?``, which implies ``IS NOT NULL``."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS scores_superseded_by ON scores(superseded_by) "
        "WHERE superseded_by IS NOT NULL"
    )


ENTITY_ACTIONS: tuple[str, ...] = ("bundle.mismatch", "conflict.resolved", "subject.withdrawn")
"""The audit actions a merge looks up by entity, one record at a time, inside its write lock:
whether a disagreement was flagged before, the entries of a new session choice or withdrawal
(indexed by migration 0014)."""
ENTITY_ACTIONS_SQL = "action IN (" + ", ".join(f"'{a}'" for a in ENTITY_ACTIONS) + ")"
"""The condition of that partial index: a query takes the index only if it says this very
condition too (beside ``action = ?``: SQLite cannot know a bound value's)."""


@migrations(name="0014_audit_entity")
def m0014_audit_entity(db: Database) -> None:
    """An index of the audit entries a merge looks up by action and entity (`ENTITY_ACTIONS`;
    partial: those entries only, a few per subject at most).

    A merge looks up, inside its write lock, the entry of each new session choice and
    withdrawal and whether each disagreement it found was flagged before (``bundle.mismatch``
    of that record): without an index, each look-up read the whole log (0.15-0.6 s at
    232,000-249,000 entries, `bench/hub_lookups.py`). A 60-subject bundle overlapping a
    10,000-subject hub's codes (252 disagreements) held the lock 45.5 s, longer than a kiosk
    waits for it (30 s), and as long at every re-import; with the index 0.3 s
    (`bench/exports.py`). Partial, so that it costs the other entries nothing: an index of
    every entry made the integrity check of the CSV export and of `verify` 0.3-0.5 s longer at
    232,000 entries."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS audit_entity ON audit_log(action, entity_id) "
        f"WHERE {ENTITY_ACTIONS_SQL}"
    )


CALIBRATION_ENTRIES_SQL = "action = 'vas.calibrated'"
"""The condition of 0015's partial index, which a query must say in these very words (a bound
value is not known to match it)."""


@migrations(name="0015_audit_calibrations")
def m0015_audit_calibrations(db: Database) -> None:
    """An index of the ``vas.calibrated`` audit entries by the calibration they record.

    A hub holds no kiosk's calibration rows (a bundle does not carry them), only the entries
    recording them in each kiosk's chain: the merge checks that each new VAS answer names a
    calibration of its own device (`_answer_calibrations`), and the patient report reads the
    date of the calibration an answer used, from the entry when the row is not in the file.
    Partial: a few entries per device, nothing for the others."""
    db.execute(
        "CREATE INDEX IF NOT EXISTS audit_calibration ON audit_log(entity_id) "
        f"WHERE {CALIBRATION_ENTRIES_SQL}"
    )
