"""The study database (the only code that touches SQLite): schema, repositories, audit chain.

Every function takes an open `StudyDb` first, except the ones that open or inspect a file.
Everything the other layers use is listed below and in `__all__` (a test checks that the two
agree); the modules starting with ``_`` are internal. Errors are `StorageError` subclasses, each
with a one-line message; a refused call has written nothing (except a refused login, which
records the attempt).

Public API
----------

The database file:

- `StudyDb`: an open database (context manager); ``path``, ``info``, ``study``, ``site_code``,
  ``checked`` (whether ``quick_check`` passed since it was opened)
- `DatabaseInfo`: what the ``settings`` table says about the file (``StudyDb.info``)
- `create_database(path, *, admin_pin, site_code=DEFAULT_SITE, ...) -> StudyDb`: a new file
- `open_database(path, *, readonly=False) -> StudyDb`: never creates a file; upgrades the schema;
  refuses a damaged file (`DatabaseCorrupt`, SQLite's ``quick_check`` first)
- `check_intact(db)`: ``quick_check`` of a file opened with ``check=False`` (`DatabaseCorrupt`)
- `inspect_database(path) -> migration names`: checks a file is ours, writing nothing
- `check_site_code(code) -> code`: a valid site code (2-8 digits or capitals), else InvalidInput
- `DEFAULT_SITE`: the site code of a new database unless another is given ("01")
- `APP_VERSION`: this application's version, as written into the rows it stores
- `transaction(db)`: context manager, one write transaction (one commit) for several calls
- `read_snapshot(db, *, expect=None)`: context manager, long reads see one consistent state
- `state_stamp(db) -> tuple`: what ``read_snapshot(expect=)`` compares across processes
- `verify_database(path, study=None) -> VerifyResult`: read-only check; scores recomputed
- `VerifyResult`: ``ok`` and a one-line summary or the first problem found
- `backup_database(db, out) -> VerifyResult`: an online copy, verified
- `counts(db) -> Counts`: row counts for ``status``
- `sqlite_library_version() -> str`: the SQLite library's version (``validate``)
- `Counts`: row counts of every table
- `SessionCounts`: sessions by state (``completed`` = submitted)

Encryption at rest (SQLCipher 4; see docs/security.md):

- `create_encrypted_database(path, passphrase, *, recovery_sheet, admin_pin, site_code, ...)`:
  a new encrypted file, its key file ``<path>.key`` and its recovery sheet
- `is_encrypted(path) -> bool`: an encrypted database (not a plaintext header, a key file)
- `unlock(path, passphrase) -> key`: checks the passphrase; the key opens the file from now on
- `unlock_with_recovery_code(path, code) -> key`: the same with the recovery sheet's code
- `key_at_hand(path) -> bool`: whether the file opens without asking (unlocked, or OS store)
- `encrypt_database(path, passphrase, *, recovery_sheet, remember=False) -> key id`
- `change_passphrase(path, key, new_passphrase) -> key id`: the key file wrapped again
- `remember_key(path) -> where`: the key put into the OS store (an unattended kiosk)
- `forget_key(path) -> bool`: the key removed from the OS store
- `encryption_status(db) -> str`: "encrypted (...)" or "NOT ENCRYPTED (...)", for ``status``
- `created_for(db) -> str`: "encrypted", "test", "demo" or "unknown" (files made before)
- `MIN_PASSPHRASE`: the shortest site passphrase accepted
- `WrongKey`: "cannot open ...: wrong passphrase or key" (nothing created or changed)
- `KeyUnavailable`: an encrypted file whose key is not at hand here

Staff accounts:

- `Staff`: an account (never carries the PIN hash)
- `Role`: the type of a role; `ROLES` lists them
- `ROLES`: every role, ("admin", "investigator", "coordinator", "data_manager")
- `CORRECTION_ROLES`: the roles allowed to correct a submitted answer
- `LoginPolicy`: wrong PINs in a row before a lockout, and its length; or none counted
- `authenticate(db, username, pin, policy=None) -> Staff`: lockout after repeated wrong PINs
- `create_staff(db, actor, username, role, pin) -> Staff`: admin only
- `disable_staff(db, actor, username) -> Staff`: admin only
- `enable_staff(db, actor, username) -> Staff`: admin only
- `reset_pin(db, actor, username, new_pin) -> Staff`: admin only; lifts a lockout
- `get_staff(db, username) -> Staff`: UnknownStaff if none
- `list_staff(db) -> [Staff]`: by username
- `change_pin(db, actor, pin, new_pin) -> Staff`: one's own PIN, given the current one
- `check_pin_policy(pin) -> str`: the PIN if it may be chosen (6-12 digits, no sequence, repeat
  or common PIN), else InvalidInput saying why
- `pin_policy_problem(pin) -> str | None`: why a PIN may not be chosen, or None
- `pin_breaks_policy(pin) -> bool`: a PIN that signed in must be changed (older policy)
- `PIN_MIN`: the shortest PIN (digits)
- `PIN_MAX`: the longest PIN (digits)
- `describe_duration(timedelta) -> str`: "10 minutes", "2 hours" (lockout messages)

Sites and subjects:

- `Subject`: a pseudonymous subject (code, site, day 0, year of birth at most)
- `register_subject(db, code, *, day0, staff, ...) -> Subject`
- `get_subject(db, code) -> Subject`: UnknownSubject if none
- `list_subjects(db, site_code=None) -> [Subject]`: by code
- `subject_code(site_code, number) -> code`: e.g. ``RSP-01-023``
- `check_subject_code(code, site_code=None) -> code`: the code if well formed, else InvalidInput
- `add_site(db, site_code, *, staff)`: admin only, e.g. on a hub merging several sites
- `list_sites(db) -> [site code]`: sorted

Visits and the worklist:

- `VisitRecord`: a subject's visit with its schedule and status
- `WorklistEntry`: one subject x visit line of a worklist
- `VisitStatus`: the type of a visit status (from `respine_desktop.schedule`)
- `VISIT_STATUSES`: every visit status, in display order (from `respine_desktop.schedule`)
- `ACTIONABLE`: the statuses a worklist shows by default (from `respine_desktop.schedule`)
- `subject_visits(db, code, on=None) -> [VisitRecord]`: schedule and status
- `subject_visit(db, code, visit, on=None) -> VisitRecord`: one of them
- `worklist(db, site_code=None, on=None, statuses=ACTIONABLE) -> [WorklistEntry]`
- `mark_missed(db, code, visit, *, staff, reason)`: a visit that will not take place
- `VisitCount`: subjects by status of one visit
- `visit_status_counts(db, on=None, site_code=None) -> [VisitCount]`
- `Withdrawal`: a subject's withdrawal (day, reason, who recorded it and when)
- `withdraw_subject(db, code, *, staff, on, reason) -> Withdrawal`: audited, once per subject
- `get_withdrawal(db, code) -> Withdrawal | None`
- `list_withdrawals(db) -> [Withdrawal]`: by subject code

Sessions and answers:

- `Session`: one visit's questionnaire sitting, open until submitted
- `Answer`: one answer row (append-only)
- `AnswerValue`: the type of an answer's value (int code, or mm for the VAS)
- `AnswerStatus`: the type of an answer's status ("answered" or "skipped")
- `SKIPPED`: pass as the value of `record_answer` when the patient skipped the item
- `Skipped`: the type of `SKIPPED`
- `start_session(db, code, visit, *, staff, ...) -> Session`
- `record_answer(db, session_id, item_id, value, *, language, ...) -> Answer`
- `record_answers(db, session_id, {item_id: value}, *, language, ...) -> [Answer]`
- `set_position(db, session_id, position)`: where the sitting stands (no audit entry)
- `set_language(db, session_id, language) -> Session`: the language the patient chose
- `park_session(db, session_id, ...) -> Session`: interrupt a sitting
- `resume_session(db, session_id, *, staff) -> Session`: continue a parked sitting
- `submit_session(db, session_id) -> Session`: scores stored, session locked
- `correct_answer(db, session_id, item_id, value, *, staff, reason) -> Answer`
- `get_session(db, session_id) -> Session`: UnknownSession if none
- `open_sessions(db, site_code=None) -> [Session]`: not yet submitted, oldest first
- `open_session_for(db, code, visit) -> Session | None`: the visit's unfinished session
- `subject_sessions(db, code) -> [Session]`: oldest first
- `current_answers(db, session_id) -> {item_id: Answer}`
- `answer_history(db, session_id, item_id=None) -> [Answer]`: superseded rows included

Scores:

- `Score`: the scores of one instrument of one session by one method
- `session_scores(db, session_id, *, include_superseded=False) -> [Score]`
- `subject_scores(db, code) -> {visit: [Score]}`: current scores of the chosen sessions
- `SubjectScoreSet`: one subject's current scores, visit by visit (study reports)
- `iter_study_scores(db, *, site_code=None, methods=None) -> iter[SubjectScoreSet]`: streaming
- `count_subjects(db, site_code=None) -> int`: how many `iter_study_scores` yields
- `current_scoring_versions(db) -> [version]`: of the current score rows, sorted

Conflicts between kiosks (the chosen session of a visit):

- `chosen_session(db, code, visit) -> session id | None`: the one session a visit stands for
- `choose_session(sessions) -> session | None`: the same rule for rows already read
- `ConflictReview`: a flagged conflict with its versions side by side
- `ConflictVersion`: one session of a conflict, with its answers and scores
- `ItemComparison`: one item's answers across the versions of a conflict
- `review_conflicts(db) -> [ConflictReview]`: every flagged conflict, oldest first
- `SessionChoice`: a reviewer's choice of the session that counts for a visit
- `RESOLUTION_ROLES`: the roles allowed to resolve a conflict
- `resolve_conflict(db, code, visit, session_id, *, staff, reason) -> SessionChoice`
- `visit_choices(db, visit_id) -> [SessionChoice]`: every choice, the current one first

The audit log:

- `AuditEntry`: one entry of a device's hash-chained audit log
- `audit_entries(db, *, subject_code=None, action=None, limit=None) -> [AuditEntry]`
- `log_event(db, action, *, entity, ...)`: an event that changes no record
- `ChainHead`: the head of one device's audit chain
- `audit_chain_head(db) -> ChainHead`: what reports print
- `ExpectedHead`: a chain head that must still be in the file (``verify --expect``)
- `parse_expected(spec) -> [ExpectedHead]`: a hash, ``DEVICE:SEQ:HASH`` or a receipt file
- `chain_heads_receipt(db, made_at) -> dict`: every chain's head, as JSON for a receipt file
- `ROW_IMAGES_KEY`: the payload key (``rows_after``) of the row images every change carries
- `REPLAYED_TABLES`: the tables `verify` rebuilds from the row images, with their key column
- `NOT_EVIDENCE`: per table, the columns neither imaged nor compared (operational state)

The site key (signs bundles):

- `SITE_KEY_BYTES`: the length of a site key
- `site_key_id(key) -> text`: the public id of a key (16 hex digits)
- `get_site_key(db) -> bytes | None`
- `ensure_site_key(db) -> bytes`: created (and audited) at first use
- `install_site_key(db, key, *, replace=False, source=None, actor=None)`: a key copied from
  another database of the site (replacing one is audited with the file's name and SHA-256)
- `installed_site_key_id(db) -> text | None`: the installed key's id, read without unwrapping it

Device keys (sign and encrypt bundles of format 3; docs/security-bundles.md):

- `DeviceKey`: a device's public keys (Ed25519, X25519), id, label, site; ``fingerprint``
- `DevicePrivateKeys`: this device's private keys (never stored unwrapped)
- `device_fingerprint(sign_public, box_public) -> text`: ``XXXX-XXXX-XXXX-XXXX``
- `ensure_device_keys(db) -> DeviceKey`: this device's keys, made (and audited) at first use
- `own_device_key(db) -> DeviceKey | None`: read without unwrapping anything
- `device_private_keys(db) -> DevicePrivateKeys`: unwrapped for signing or decrypting
- `keys_read_only()`: a block where using a key writes nothing (an old layout is not rewrapped)
- `rewrap_secrets(db) -> [setting]`: an encrypted database's old-layout secrets moved under its
  database key (audited), done at first use outside `keys_read_only`
- `enrol_device(db, key, *, actor=None) -> bool`: a hub enrols a kiosk's public keys
- `enrolled_devices(db) -> [DeviceKey]`: revoked ones included
- `enrolled_device(db, device_id) -> DeviceKey | None`
- `revoke_device(db, device_id, *, reason, actor=None)`: its bundles are refused from now on
- `hub_key(db) -> DeviceKey | None`: the hub a kiosk encrypts its bundles to
- `install_hub_key(db, key, *, replace=False, actor=None) -> bool`
- `has_audit_entry(db, entry_id, entry_hash) -> bool`: held here already, with this hash
- `hmac_bundles_accepted(db) -> bool`: whether site-key HMAC bundles still import here
- `set_hmac_bundles(db, *, accepted, actor=None) -> bool`: end (or reopen) the transition
- `UnknownDevice`: no enrolled device with this id

VAS calibrations (staff measured the drawn line; every VAS answer drawn on a line names one):

- `ScreenInfo`: what the screen reported when the line was drawn (geometry, DPI and its source)
- `VasCalibration`: one measurement of the VAS line on one device
- `UNCALIBRATED`: what a VAS answer's ``vas_calibration`` says when the device had none
- `MEASURED_RANGE_MM`: the measured lengths accepted for the line drawn 100 mm long
- `record_vas_calibration(db, *, staff, measured_mm, drawn_factor, screen) -> VasCalibration`
- `vas_calibration_in_force(db) -> VasCalibration | None`: this device's latest
- `vas_calibrations(db, device_id=None) -> [VasCalibration]`: oldest first
- `get_vas_calibration(db, calibration_id) -> VasCalibration | None`

Translations a site installed (checked by `respine_desktop.translations` first):

- `install_translation(db, language, text, *, staff=None, replace=False) -> bool`: audited
- `installed_translations(db) -> {language: text}`

Electronic signatures (21 CFR Part 11):

- `Signature`: one e-signature (signer, role, time, meaning, attestation, target, content hash)
- `SignatureStatus`: a signature and its state, ``valid`` or ``broken``
- `SIGNATURE_MEANINGS`: meaning -> (English, French) attestation text
- `sign(db, *, subject_code, meaning, visit_code=None, username, pin | proof) -> Signature`:
  a visit or a whole subject, username and PIN re-entered (or a fresh `reauthenticate`
  proof), investigator or admin
- `sign_document(db, *, username, pin, document_sha256, title) -> Signature`: meaning performed
- `list_signatures(db, subject_code=None) -> [Signature]`: oldest first
- `signature_states(db, subject_code=None) -> [SignatureStatus]`: broken once the data changed
- `visit_signature_states(db, visit_code, *, before=None) -> {subject code: state}`: newest

Errors:

- `StorageError`: base of every error of this package
- `SnapshotChanged`: the database changed between two readers' snapshots
- `DatabaseMissing`: no such database file (nothing was created)
- `NotARespineDatabase`: the file is not a RESPINE database (left untouched)
- `DatabaseCorrupt`: SQLite found the file damaged (nothing was written into it)
- `SchemaTooNew`: written by a newer version of the application
- `SchemaTooOld`: a read-only open of a database that needs a schema upgrade first
- `AlreadyExists`: a subject code, username or file exists already
- `NotFound`: base of the Unknown... errors
- `UnknownSubject`: no subject with this code
- `UnknownVisit`: the visit code is not in the study schedule
- `UnknownSession`: no session with this id
- `UnknownStaff`: no staff account with this username or id
- `InvalidInput`: a value the caller gave is not acceptable (also a ValueError)
- `InvalidAnswer`: an answer refused by the instrument definition
- `VisitNotAvailable`: the visit cannot be started now
- `SessionStateError`: the session's state does not allow this
- `SessionIncomplete`: submission refused, some items have neither an answer nor a skip
- `PermissionDenied`: the role does not allow this (or the account is disabled)
- `AuthenticationError`: base of the refused logins (the attempt is recorded)
- `WrongPin`: the PIN does not match
- `AccountLocked`: too many wrong PINs, locked for a while
- `AccountDisabled`: disabled by an administrator
- `WriteFailed`: SQLite could not write (locked, disk full, I/O error): nothing was saved
- `BackupFailed`: the backup copy failed verification
- `MergeRefused`: a bundle the merge refuses (nothing was written)

Re-entry of credentials (21 CFR 11.200) and mismatches between kiosks:

- `reauthenticate(db, staff, pin, *, username=None) -> Reauthenticated`: the signed-in staff's
  PIN (and username, the first time) checked again, counted toward the lockout like a sign-in
- `Reauthenticated`: its proof, which `correct_answer` and `resolve_conflict` take as `staff`
- `REAUTH_VALID`: how long a proof is accepted after the re-entry
- `login_policy(db) -> LoginPolicy`: the lockout settings of the database
- `Mismatch`: a disagreement between kiosks a bundle import flagged (subject, field, hub and
  bundle values, device, when)
- `list_mismatches(db) -> [Mismatch]`: the flagged ``bundle.mismatch`` entries, newest first

Public submodules
-----------------

Bulk readers and writers that only the exports need, each with its own documented `__all__`:

- `respine_desktop.storage.export_reads`: the streaming reads of the exports (subject by subject)
- `respine_desktop.storage.bundle_merge`: the rows of a site bundle, and merging them into a hub
- `respine_desktop.storage.report_reads`: the reports' reads as known on a day (cut-off)
- `respine_desktop.storage.stored_values`: a stored answer's value checked against its item's
  rule as an export reads it
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respine_desktop import lazy

# The package is lazy: a name is imported from its submodule when first used (PEP 562), so that
# opening the database for the kiosk's lock screen does not load the whole package (bundles,
# verification, exports) nor sqlite-utils. `_WHERE` maps every public name to the module that
# defines it: a submodule of this package (``_answers``) or an absolute module
# (``respine_desktop.schedule``), with ``:name`` when it is exported under another name.
# The same imports are written below for the type checkers (mypy strict sees every name).
# To add a public name: one line in `_WHERE`, the import in the TYPE_CHECKING block, the name
# in `__all__` (a test checks that the three agree).
if TYPE_CHECKING:
    from respine_desktop.schedule import ACTIONABLE, VISIT_STATUSES, VisitStatus
    from respine_desktop.storage._answers import answer_history, current_answers
    from respine_desktop.storage._audit import audit_entries, log_event
    from respine_desktop.storage._backup import backup_database
    from respine_desktop.storage._calibrations import (
        MEASURED_RANGE_MM,
        UNCALIBRATED,
        ScreenInfo,
        VasCalibration,
        get_vas_calibration,
        record_vas_calibration,
        vas_calibration_in_force,
        vas_calibrations,
    )
    from respine_desktop.storage._chain_head import (
        ChainHead,
        ExpectedHead,
        audit_chain_head,
        parse_expected,
    )
    from respine_desktop.storage._chain_head import receipt as chain_heads_receipt
    from respine_desktop.storage._chosen_session import choose_session, chosen_session
    from respine_desktop.storage._conflict_resolution import (
        RESOLUTION_ROLES,
        SessionChoice,
        resolve_conflict,
        visit_choices,
    )
    from respine_desktop.storage._conflict_review import (
        ConflictReview,
        ConflictVersion,
        ItemComparison,
        review_conflicts,
    )
    from respine_desktop.storage._counts import counts
    from respine_desktop.storage._database import (
        APP_VERSION,
        DEFAULT_SITE,
        StudyDb,
        check_intact,
        check_site_code,
        create_database,
        inspect_database,
        open_database,
        read_snapshot,
        state_stamp,
        transaction,
    )
    from respine_desktop.storage._database_keys import (
        change_passphrase,
        create_encrypted_database,
        created_for,
        encrypt_database,
        encryption_status,
        forget_key,
        key_at_hand,
        remember_key,
        unlock,
        unlock_with_recovery_code,
    )
    from respine_desktop.storage._device_keys import (
        DeviceKey,
        DevicePrivateKeys,
        UnknownDevice,
        device_fingerprint,
        device_private_keys,
        enrol_device,
        enrolled_device,
        enrolled_devices,
        ensure_device_keys,
        has_audit_entry,
        hmac_bundles_accepted,
        hub_key,
        install_hub_key,
        own_device_key,
        revoke_device,
        set_hmac_bundles,
    )
    from respine_desktop.storage._encryption import is_encrypted
    from respine_desktop.storage._engine import sqlite_library_version
    from respine_desktop.storage._errors import (
        AccountDisabled,
        AccountLocked,
        AlreadyExists,
        AuthenticationError,
        BackupFailed,
        DatabaseCorrupt,
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
    from respine_desktop.storage._key_wrap import keys_read_only, rewrap_secrets
    from respine_desktop.storage._keys import MIN_PASSPHRASE, KeyUnavailable, WrongKey
    from respine_desktop.storage._mismatches import Mismatch, list_mismatches
    from respine_desktop.storage._pin_policy import (
        PIN_MAX,
        PIN_MIN,
        check_pin_policy,
        pin_breaks_policy,
        pin_policy_problem,
    )
    from respine_desktop.storage._reauth import REAUTH_VALID, Reauthenticated, reauthenticate
    from respine_desktop.storage._records import (
        ROLES,
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
        Skipped,
        Staff,
        Subject,
        VerifyResult,
        VisitRecord,
        WorklistEntry,
    )
    from respine_desktop.storage._row_images import EXCLUDED as NOT_EVIDENCE
    from respine_desktop.storage._row_images import PAYLOAD_KEY as ROW_IMAGES_KEY
    from respine_desktop.storage._row_images import TRACKED as REPLAYED_TABLES
    from respine_desktop.storage._scores import session_scores, subject_scores
    from respine_desktop.storage._sessions import (
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
    from respine_desktop.storage._signatures import MEANINGS as SIGNATURE_MEANINGS
    from respine_desktop.storage._signatures import (
        Signature,
        SignatureStatus,
        list_signatures,
        sign,
        sign_document,
        signature_states,
        visit_signature_states,
    )
    from respine_desktop.storage._site_key import (
        SITE_KEY_BYTES,
        ensure_site_key,
        get_site_key,
        install_site_key,
        installed_site_key_id,
        site_key_id,
    )
    from respine_desktop.storage._staff import (
        CORRECTION_ROLES,
        LoginPolicy,
        authenticate,
        change_pin,
        create_staff,
        describe_duration,
        disable_staff,
        enable_staff,
        get_staff,
        list_staff,
        login_policy,
        reset_pin,
    )
    from respine_desktop.storage._study_scores import (
        SubjectScoreSet,
        count_subjects,
        current_scoring_versions,
        iter_study_scores,
    )
    from respine_desktop.storage._subjects import (
        add_site,
        check_subject_code,
        get_subject,
        list_sites,
        list_subjects,
        register_subject,
        subject_code,
    )
    from respine_desktop.storage._translations import install_translation, installed_translations
    from respine_desktop.storage._verify import verify_database
    from respine_desktop.storage._visit_counts import VisitCount, visit_status_counts
    from respine_desktop.storage._visits import mark_missed, subject_visit, subject_visits, worklist
    from respine_desktop.storage._withdrawal import (
        Withdrawal,
        get_withdrawal,
        list_withdrawals,
        withdraw_subject,
    )
    from respine_desktop.storage.bundle_merge import MergeRefused

_WHERE: dict[str, str] = {
    "Mismatch": "_mismatches",
    "list_mismatches": "_mismatches",
    "REAUTH_VALID": "_reauth",
    "Reauthenticated": "_reauth",
    "reauthenticate": "_reauth",
    "login_policy": "_staff",
    "ACTIONABLE": "respine_desktop.schedule",
    "VISIT_STATUSES": "respine_desktop.schedule",
    "VisitStatus": "respine_desktop.schedule",
    "answer_history": "_answers",
    "current_answers": "_answers",
    "audit_entries": "_audit",
    "log_event": "_audit",
    "backup_database": "_backup",
    "MEASURED_RANGE_MM": "_calibrations",
    "UNCALIBRATED": "_calibrations",
    "ScreenInfo": "_calibrations",
    "VasCalibration": "_calibrations",
    "get_vas_calibration": "_calibrations",
    "record_vas_calibration": "_calibrations",
    "vas_calibration_in_force": "_calibrations",
    "vas_calibrations": "_calibrations",
    "ChainHead": "_chain_head",
    "ExpectedHead": "_chain_head",
    "audit_chain_head": "_chain_head",
    "parse_expected": "_chain_head",
    "chain_heads_receipt": "_chain_head:receipt",
    "choose_session": "_chosen_session",
    "chosen_session": "_chosen_session",
    "RESOLUTION_ROLES": "_conflict_resolution",
    "SessionChoice": "_conflict_resolution",
    "resolve_conflict": "_conflict_resolution",
    "visit_choices": "_conflict_resolution",
    "ConflictReview": "_conflict_review",
    "ConflictVersion": "_conflict_review",
    "ItemComparison": "_conflict_review",
    "review_conflicts": "_conflict_review",
    "counts": "_counts",
    "APP_VERSION": "_database",
    "DEFAULT_SITE": "_database",
    "StudyDb": "_database",
    "check_intact": "_database",
    "check_site_code": "_database",
    "create_database": "_database",
    "inspect_database": "_database",
    "open_database": "_database",
    "read_snapshot": "_database",
    "state_stamp": "_database",
    "transaction": "_database",
    "change_passphrase": "_database_keys",
    "create_encrypted_database": "_database_keys",
    "created_for": "_database_keys",
    "encrypt_database": "_database_keys",
    "encryption_status": "_database_keys",
    "forget_key": "_database_keys",
    "key_at_hand": "_database_keys",
    "remember_key": "_database_keys",
    "unlock": "_database_keys",
    "unlock_with_recovery_code": "_database_keys",
    "DeviceKey": "_device_keys",
    "DevicePrivateKeys": "_device_keys",
    "UnknownDevice": "_device_keys",
    "device_fingerprint": "_device_keys",
    "device_private_keys": "_device_keys",
    "keys_read_only": "_key_wrap",
    "rewrap_secrets": "_key_wrap",
    "enrol_device": "_device_keys",
    "enrolled_device": "_device_keys",
    "enrolled_devices": "_device_keys",
    "ensure_device_keys": "_device_keys",
    "has_audit_entry": "_device_keys",
    "hmac_bundles_accepted": "_device_keys",
    "hub_key": "_device_keys",
    "install_hub_key": "_device_keys",
    "own_device_key": "_device_keys",
    "revoke_device": "_device_keys",
    "set_hmac_bundles": "_device_keys",
    "is_encrypted": "_encryption",
    "sqlite_library_version": "_engine",
    "AccountDisabled": "_errors",
    "AccountLocked": "_errors",
    "AlreadyExists": "_errors",
    "AuthenticationError": "_errors",
    "BackupFailed": "_errors",
    "DatabaseCorrupt": "_errors",
    "DatabaseMissing": "_errors",
    "InvalidAnswer": "_errors",
    "InvalidInput": "_errors",
    "NotARespineDatabase": "_errors",
    "NotFound": "_errors",
    "PermissionDenied": "_errors",
    "SchemaTooNew": "_errors",
    "SchemaTooOld": "_errors",
    "SessionIncomplete": "_errors",
    "SessionStateError": "_errors",
    "SnapshotChanged": "_errors",
    "StorageError": "_errors",
    "UnknownSession": "_errors",
    "UnknownStaff": "_errors",
    "UnknownSubject": "_errors",
    "UnknownVisit": "_errors",
    "VisitNotAvailable": "_errors",
    "WriteFailed": "_errors",
    "WrongPin": "_errors",
    "MIN_PASSPHRASE": "_keys",
    "KeyUnavailable": "_keys",
    "WrongKey": "_keys",
    "PIN_MAX": "_pin_policy",
    "PIN_MIN": "_pin_policy",
    "check_pin_policy": "_pin_policy",
    "pin_breaks_policy": "_pin_policy",
    "pin_policy_problem": "_pin_policy",
    "ROLES": "_records",
    "SKIPPED": "_records",
    "Answer": "_records",
    "AnswerStatus": "_records",
    "AnswerValue": "_records",
    "AuditEntry": "_records",
    "Counts": "_records",
    "DatabaseInfo": "_records",
    "Role": "_records",
    "Score": "_records",
    "Session": "_records",
    "SessionCounts": "_records",
    "Skipped": "_records",
    "Staff": "_records",
    "Subject": "_records",
    "VerifyResult": "_records",
    "VisitRecord": "_records",
    "WorklistEntry": "_records",
    "NOT_EVIDENCE": "_row_images:EXCLUDED",
    "ROW_IMAGES_KEY": "_row_images:PAYLOAD_KEY",
    "REPLAYED_TABLES": "_row_images:TRACKED",
    "session_scores": "_scores",
    "subject_scores": "_scores",
    "correct_answer": "_sessions",
    "get_session": "_sessions",
    "open_session_for": "_sessions",
    "open_sessions": "_sessions",
    "park_session": "_sessions",
    "record_answer": "_sessions",
    "record_answers": "_sessions",
    "resume_session": "_sessions",
    "set_language": "_sessions",
    "set_position": "_sessions",
    "start_session": "_sessions",
    "subject_sessions": "_sessions",
    "submit_session": "_sessions",
    "SIGNATURE_MEANINGS": "_signatures:MEANINGS",
    "Signature": "_signatures",
    "SignatureStatus": "_signatures",
    "list_signatures": "_signatures",
    "sign": "_signatures",
    "sign_document": "_signatures",
    "signature_states": "_signatures",
    "visit_signature_states": "_signatures",
    "SITE_KEY_BYTES": "_site_key",
    "ensure_site_key": "_site_key",
    "get_site_key": "_site_key",
    "install_site_key": "_site_key",
    "installed_site_key_id": "_site_key",
    "site_key_id": "_site_key",
    "CORRECTION_ROLES": "_staff",
    "LoginPolicy": "_staff",
    "authenticate": "_staff",
    "change_pin": "_staff",
    "create_staff": "_staff",
    "describe_duration": "_staff",
    "disable_staff": "_staff",
    "enable_staff": "_staff",
    "get_staff": "_staff",
    "list_staff": "_staff",
    "reset_pin": "_staff",
    "SubjectScoreSet": "_study_scores",
    "count_subjects": "_study_scores",
    "current_scoring_versions": "_study_scores",
    "iter_study_scores": "_study_scores",
    "add_site": "_subjects",
    "check_subject_code": "_subjects",
    "get_subject": "_subjects",
    "list_sites": "_subjects",
    "list_subjects": "_subjects",
    "register_subject": "_subjects",
    "subject_code": "_subjects",
    "install_translation": "_translations",
    "installed_translations": "_translations",
    "verify_database": "_verify",
    "VisitCount": "_visit_counts",
    "visit_status_counts": "_visit_counts",
    "mark_missed": "_visits",
    "subject_visit": "_visits",
    "subject_visits": "_visits",
    "worklist": "_visits",
    "Withdrawal": "_withdrawal",
    "get_withdrawal": "_withdrawal",
    "list_withdrawals": "_withdrawal",
    "withdraw_subject": "_withdrawal",
    "MergeRefused": "bundle_merge",
}


# Not seen by the type checkers: an unknown name stays an error for mypy (it sees the imports
# above), not an Any.
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy.attributes(__name__, _WHERE, globals())


__all__ = [
    "ACTIONABLE",
    "APP_VERSION",
    "CORRECTION_ROLES",
    "DEFAULT_SITE",
    "MEASURED_RANGE_MM",
    "MIN_PASSPHRASE",
    "NOT_EVIDENCE",
    "PIN_MAX",
    "PIN_MIN",
    "REAUTH_VALID",
    "REPLAYED_TABLES",
    "RESOLUTION_ROLES",
    "ROLES",
    "ROW_IMAGES_KEY",
    "SIGNATURE_MEANINGS",
    "SITE_KEY_BYTES",
    "SKIPPED",
    "UNCALIBRATED",
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
    "ConflictReview",
    "ConflictVersion",
    "Counts",
    "DatabaseCorrupt",
    "DatabaseInfo",
    "DatabaseMissing",
    "DeviceKey",
    "DevicePrivateKeys",
    "ExpectedHead",
    "InvalidAnswer",
    "InvalidInput",
    "ItemComparison",
    "KeyUnavailable",
    "LoginPolicy",
    "MergeRefused",
    "Mismatch",
    "NotARespineDatabase",
    "NotFound",
    "PermissionDenied",
    "Reauthenticated",
    "Role",
    "SchemaTooNew",
    "SchemaTooOld",
    "Score",
    "ScreenInfo",
    "Session",
    "SessionChoice",
    "SessionCounts",
    "SessionIncomplete",
    "SessionStateError",
    "Signature",
    "SignatureStatus",
    "Skipped",
    "SnapshotChanged",
    "Staff",
    "StorageError",
    "StudyDb",
    "Subject",
    "SubjectScoreSet",
    "UnknownDevice",
    "UnknownSession",
    "UnknownStaff",
    "UnknownSubject",
    "UnknownVisit",
    "VasCalibration",
    "VerifyResult",
    "VisitCount",
    "VisitNotAvailable",
    "VisitRecord",
    "VisitStatus",
    "Withdrawal",
    "WorklistEntry",
    "WriteFailed",
    "WrongKey",
    "WrongPin",
    "add_site",
    "answer_history",
    "audit_chain_head",
    "audit_entries",
    "authenticate",
    "backup_database",
    "chain_heads_receipt",
    "change_passphrase",
    "change_pin",
    "check_intact",
    "check_pin_policy",
    "check_site_code",
    "check_subject_code",
    "choose_session",
    "chosen_session",
    "correct_answer",
    "count_subjects",
    "counts",
    "create_database",
    "create_encrypted_database",
    "create_staff",
    "created_for",
    "current_answers",
    "current_scoring_versions",
    "describe_duration",
    "device_fingerprint",
    "device_private_keys",
    "disable_staff",
    "enable_staff",
    "encrypt_database",
    "encryption_status",
    "enrol_device",
    "enrolled_device",
    "enrolled_devices",
    "ensure_device_keys",
    "ensure_site_key",
    "forget_key",
    "get_session",
    "get_site_key",
    "get_staff",
    "get_subject",
    "get_vas_calibration",
    "get_withdrawal",
    "has_audit_entry",
    "hmac_bundles_accepted",
    "hub_key",
    "inspect_database",
    "install_hub_key",
    "install_site_key",
    "install_translation",
    "installed_site_key_id",
    "installed_translations",
    "is_encrypted",
    "iter_study_scores",
    "key_at_hand",
    "keys_read_only",
    "list_mismatches",
    "list_signatures",
    "list_sites",
    "list_staff",
    "list_subjects",
    "list_withdrawals",
    "log_event",
    "login_policy",
    "mark_missed",
    "open_database",
    "open_session_for",
    "open_sessions",
    "own_device_key",
    "park_session",
    "parse_expected",
    "pin_breaks_policy",
    "pin_policy_problem",
    "read_snapshot",
    "reauthenticate",
    "record_answer",
    "record_answers",
    "record_vas_calibration",
    "register_subject",
    "remember_key",
    "reset_pin",
    "resolve_conflict",
    "resume_session",
    "review_conflicts",
    "revoke_device",
    "rewrap_secrets",
    "session_scores",
    "set_hmac_bundles",
    "set_language",
    "set_position",
    "sign",
    "sign_document",
    "signature_states",
    "site_key_id",
    "sqlite_library_version",
    "start_session",
    "state_stamp",
    "subject_code",
    "subject_scores",
    "subject_sessions",
    "subject_visit",
    "subject_visits",
    "submit_session",
    "transaction",
    "unlock",
    "unlock_with_recovery_code",
    "vas_calibration_in_force",
    "vas_calibrations",
    "verify_database",
    "visit_choices",
    "visit_signature_states",
    "visit_status_counts",
    "withdraw_subject",
    "worklist",
]
