"""The study database (the only code that touches SQLite): schema, repositories, audit chain.

Public API (every function takes an open `StudyDb` first, except the ones opening a file)::

    create_database(path, admin_pin=..., site_code="01") -> StudyDb
    open_database(path, readonly=False) -> StudyDb          # never creates a file
    verify_database(path, study=None) -> VerifyResult       # read-only; scores recomputed
    backup_database(db, out) -> VerifyResult
    counts(db) -> Counts

    authenticate(db, username, pin) -> Staff                # lockout after 5 wrong PINs / 5 min
    create_staff / disable_staff / enable_staff / reset_pin (admin only), list_staff, get_staff

    register_subject(db, code, day0=..., staff=...) -> Subject
    get_subject, list_subjects(db, site_code=None)
    subject_visits(db, code, on=None) -> [VisitRecord]     # schedule + status
    worklist(db, site_code=None, on=None, statuses=ACTIONABLE) -> [WorklistEntry]
    mark_missed(db, code, visit, staff=..., reason=...)

    start_session(db, code, visit, staff=...) -> Session
    record_answer(db, session_id, item_id, value | SKIPPED, language=..., vas_line_mm=None,
                  position=None) -> Answer
    record_answers(db, session_id, {item_id: value}, language=...) -> [Answer]
    park_session(db, session_id, position=...) / resume_session(db, session_id, staff=...)
    submit_session(db, session_id) -> Session               # scores stored, session locked
    correct_answer(db, session_id, item_id, value, staff=..., reason=...) -> Answer
    get_session, open_sessions, open_session_for, subject_sessions
    current_answers(db, session_id) -> {item_id: Answer}; answer_history(db, session_id)
    session_scores(db, session_id); subject_scores(db, code) -> {visit: [Score]}
    chosen_session(db, code, visit) -> session id | None    # the one session a visit stands for
    audit_entries(db, subject_code=None, action=None) -> [AuditEntry]
    log_event(db, action, entity=..., ...)                 # an event that changes no record
    set_position(db, session_id, position)                 # where the sitting stands (no audit)
    audit_chain_head(db) -> ChainHead                       # what reports print
    iter_study_scores(db) -> iter[SubjectScoreSet]; count_subjects(db)   # streaming, bulk
    visit_status_counts(db, on=None) -> [VisitCount]        # subjects by status per visit
    iter_subject_records(db) -> iter[SubjectRecord]         # exports: one subject at a time
    subject_ranges(db, parts) -> [(after, through)]         # subjects split for parallel work
    merge_bundle(db, rows, bundle=...) -> MergeResult; list_conflicts(db) -> [Conflict]
    review_conflicts(db) -> [ConflictReview]                # each conflict's versions side by side
    resolve_conflict(db, code, visit, session_id, staff=..., reason=...) -> SessionChoice
    get_site_key(db) / ensure_site_key(db) / install_site_key(db, key, replace=False)

    with transaction(db): ...                              # group calls: one commit
    with read_snapshot(db, expect=None): ...               # long reads: one consistent view
    state_stamp(db) -> tuple                                # what read_snapshot(expect=) compares

Errors are `StorageError` subclasses (see `errors`), each with a one-line message; a refused
call has written nothing (except a refused login, which records the attempt).
"""

from __future__ import annotations

from respine_desktop.schedule import ACTIONABLE, VISIT_STATUSES, VisitState, VisitStatus
from respine_desktop.storage.answers import answer_history, current_answers, get_answer
from respine_desktop.storage.audit import audit_entries, log_event
from respine_desktop.storage.backup import backup_database
from respine_desktop.storage.bundle_merge import (
    Conflict,
    MergeRefused,
    MergeResult,
    list_conflicts,
    merge_bundle,
)
from respine_desktop.storage.chain_head import ChainHead, audit_chain_head
from respine_desktop.storage.chosen_session import choose_session, chosen_session
from respine_desktop.storage.conflict_resolution import (
    RESOLUTION_ROLES,
    SessionChoice,
    resolve_conflict,
    visit_choices,
)
from respine_desktop.storage.conflict_review import (
    ConflictReview,
    ConflictVersion,
    ItemComparison,
    review_conflict,
    review_conflicts,
)
from respine_desktop.storage.counts import counts
from respine_desktop.storage.database import (
    APP_VERSION,
    DEFAULT_SITE,
    StudyDb,
    create_database,
    open_database,
    read_snapshot,
    state_stamp,
    transaction,
)
from respine_desktop.storage.errors import (
    AccountDisabled,
    AccountLocked,
    AlreadyExists,
    AuthenticationError,
    BackupFailed,
    DatabaseMissing,
    InvalidAnswer,
    InvalidInput,
    NotARespineDatabase,
    NotFound,
    PermissionDenied,
    SchemaTooNew,
    SchemaTooOld,
    SessionIncomplete,
    SessionStateError,
    SnapshotChanged,
    StorageError,
    UnknownSession,
    UnknownStaff,
    UnknownSubject,
    UnknownVisit,
    VisitNotAvailable,
    WriteFailed,
    WrongPin,
)
from respine_desktop.storage.export_reads import (
    SubjectRecord,
    iter_subject_records,
    subject_ranges,
)
from respine_desktop.storage.records import (
    ROLES,
    SESSION_STATES,
    SKIPPED,
    Answer,
    AnswerStatus,
    AnswerValue,
    AuditEntry,
    Counts,
    DatabaseInfo,
    Role,
    Score,
    Session,
    SessionCounts,
    SessionState,
    Skipped,
    Staff,
    Subject,
    VerifyResult,
    VisitRecord,
    WorklistEntry,
)
from respine_desktop.storage.scores import session_scores, subject_scores
from respine_desktop.storage.sessions import (
    correct_answer,
    get_session,
    open_session_for,
    open_sessions,
    park_session,
    record_answer,
    record_answers,
    resume_session,
    set_language,
    set_position,
    start_session,
    subject_sessions,
    submit_session,
)
from respine_desktop.storage.site_key import ensure_site_key, get_site_key, install_site_key
from respine_desktop.storage.staff import (
    CORRECTION_ROLES,
    LoginPolicy,
    authenticate,
    create_staff,
    disable_staff,
    enable_staff,
    get_staff,
    list_staff,
    reset_pin,
)
from respine_desktop.storage.study_scores import (
    SubjectScoreSet,
    count_subjects,
    current_scoring_versions,
    iter_study_scores,
)
from respine_desktop.storage.subjects import (
    add_site,
    check_subject_code,
    get_subject,
    list_sites,
    list_subjects,
    register_subject,
    subject_code,
)
from respine_desktop.storage.verify import verify_database
from respine_desktop.storage.visit_counts import VisitCount, visit_status_counts
from respine_desktop.storage.visits import mark_missed, subject_visit, subject_visits, worklist

__all__ = [
    "ACTIONABLE",
    "APP_VERSION",
    "CORRECTION_ROLES",
    "DEFAULT_SITE",
    "RESOLUTION_ROLES",
    "ROLES",
    "SESSION_STATES",
    "SKIPPED",
    "VISIT_STATUSES",
    "AccountDisabled",
    "AccountLocked",
    "AlreadyExists",
    "Answer",
    "AnswerStatus",
    "AnswerValue",
    "AuditEntry",
    "AuthenticationError",
    "BackupFailed",
    "ChainHead",
    "Conflict",
    "ConflictReview",
    "ConflictVersion",
    "Counts",
    "DatabaseInfo",
    "DatabaseMissing",
    "InvalidAnswer",
    "InvalidInput",
    "ItemComparison",
    "LoginPolicy",
    "MergeRefused",
    "MergeResult",
    "NotARespineDatabase",
    "NotFound",
    "PermissionDenied",
    "Role",
    "SchemaTooNew",
    "SchemaTooOld",
    "Score",
    "Session",
    "SessionChoice",
    "SessionCounts",
    "SessionIncomplete",
    "SessionState",
    "SessionStateError",
    "Skipped",
    "SnapshotChanged",
    "Staff",
    "StorageError",
    "StudyDb",
    "Subject",
    "SubjectRecord",
    "SubjectScoreSet",
    "UnknownSession",
    "UnknownStaff",
    "UnknownSubject",
    "UnknownVisit",
    "VerifyResult",
    "VisitCount",
    "VisitNotAvailable",
    "VisitRecord",
    "VisitState",
    "VisitStatus",
    "WorklistEntry",
    "WriteFailed",
    "WrongPin",
    "add_site",
    "answer_history",
    "audit_chain_head",
    "audit_entries",
    "authenticate",
    "backup_database",
    "check_subject_code",
    "choose_session",
    "chosen_session",
    "correct_answer",
    "count_subjects",
    "counts",
    "create_database",
    "create_staff",
    "current_answers",
    "current_scoring_versions",
    "disable_staff",
    "enable_staff",
    "ensure_site_key",
    "get_answer",
    "get_session",
    "get_site_key",
    "get_staff",
    "get_subject",
    "install_site_key",
    "iter_study_scores",
    "iter_subject_records",
    "list_conflicts",
    "list_sites",
    "list_staff",
    "list_subjects",
    "log_event",
    "mark_missed",
    "merge_bundle",
    "open_database",
    "open_session_for",
    "open_sessions",
    "park_session",
    "read_snapshot",
    "record_answer",
    "record_answers",
    "register_subject",
    "reset_pin",
    "resolve_conflict",
    "resume_session",
    "review_conflict",
    "review_conflicts",
    "session_scores",
    "set_language",
    "set_position",
    "start_session",
    "state_stamp",
    "subject_code",
    "subject_ranges",
    "subject_scores",
    "subject_sessions",
    "subject_visit",
    "subject_visits",
    "submit_session",
    "transaction",
    "verify_database",
    "visit_choices",
    "visit_status_counts",
    "worklist",
]
