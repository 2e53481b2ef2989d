"""Helpers for the encryption-at-rest tests: a private key store, an encrypted database filled
with recognisable data, and the byte strings that must never appear in its files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import clock, storage
from respine_desktop.storage import StudyDb
from respine_desktop.storage import _key_store as key_store
from tests.support.storage import ADMIN_PIN, TODAY, fixed_clock, full_visit

PASSPHRASE = "tablet passphrase for tests"
OTHER_PASSPHRASE = "another passphrase, longer"
SUBJECT = "RSP-01-007"
USERNAME = "zedcoordinator"
REASON = "patient misread item seventeen"
VAS = 73.0
# What must never be readable in an encrypted file: a subject code, item ids, an answer value
# (as the audit payload writes it), a username, a correction reason, SQLite's own header.
SECRETS = (
    SUBJECT.encode(),
    b"vas_pain",
    b"odi_01",
    b"sf36_01",
    b'"vas_pain",73.0',
    USERNAME.encode(),
    REASON.encode(),
    b"SQLite format 3",
)


@pytest.fixture
def key_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A private file key store for this test (and its child processes); the keys the test
    unlocked are forgotten afterwards."""
    folder = tmp_path_factory.mktemp("keys")
    monkeypatch.setenv("RESPINE_KEY_DIR", str(folder))
    monkeypatch.setenv("RESPINE_KEY_STORE", "file")
    yield folder
    forget_unlocked()


def forget_unlocked() -> None:
    """Forget every key this process unlocked (as a new process would start)."""
    for name in [n for n in os.environ if n.startswith(key_store.ENV_PREFIX)]:
        key_store.forget_registered(name.removeprefix(key_store.ENV_PREFIX))


def encrypted_db(path: Path, sheet: Path | None = None) -> StudyDb:
    """A new encrypted database (passphrase `PASSPHRASE`) with its key file and recovery sheet."""
    return storage.create_encrypted_database(
        path,
        PASSPHRASE,
        recovery_sheet=sheet or path.with_name(path.name + ".sheet.txt"),
        admin_pin=ADMIN_PIN,
        site_code="01",
    )


def fill(db: StudyDb) -> str:
    """Write recognisable data into `db`: a coordinator `USERNAME`, subject `SUBJECT`, a
    submitted M0 with VAS `VAS`; the session's id."""
    fixed_clock()
    try:
        admin = storage.authenticate(db, "admin", ADMIN_PIN)
        staff = storage.create_staff(db, admin, USERNAME, "coordinator", "246801")
        storage.register_subject(db, SUBJECT, day0=TODAY, staff=staff)
        session = storage.start_session(db, SUBJECT, "M0", staff=staff, language="en")
        storage.record_answers(db, session.id, full_visit(vas=VAS), language="en")
        storage.submit_session(db, session.id)
        return session.id
    finally:
        clock.set_clock(None)


def correct(db: StudyDb, session_id: str) -> None:
    """A correction of ODI item 1 with reason `REASON`."""
    fixed_clock()
    try:
        staff = storage.get_staff(db, USERNAME)
        storage.correct_answer(db, session_id, "odi_01", 3, staff=staff, reason=REASON)
    finally:
        clock.set_clock(None)


def found_secrets(*paths: Path) -> list[tuple[str, bytes]]:
    """Which of `SECRETS` appear in the bytes of `paths` (as `strings` would find them)."""
    found = []
    for path in paths:
        data = path.read_bytes()
        found += [(path.name, s) for s in SECRETS if s in data]
    return found
