"""An answer entry names the session and the subject of the answers it records.

An ``answer.recorded`` / ``answer.corrected`` entry lists its rows (id, item, value) and their
digest, and names their session (payload ``session_id``) and subject (its ``subject_id``: the
subject's audit history is read by it). The merge and `verify` checked the rows against the
list and the digest, never against those names: a signed bundle (the chain re-hashed) or a
file rewritten consistently whose entry names another patient's session or another patient was
imported and verified, and the other patient's audit history then showed answers it never gave
(while the true patient's lacked them). Refused and named; an entry naming a subject the file
does not hold (a relay's copy of a kiosk's entry whose subject it matched by code) is not
compared.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.storage._audit import entry_hash
from tests.exports.test_bundle_forged import Tables, col, forge, refused
from tests.storage.test_verify_devices import one, rechain
from tests.support.exports import TODAY, do_visit, export, hub_and_kiosks, merge
from tests.support.merge_modes import merge_mode
from tests.support.storage import coord

__all__ = ["merge_mode"]  # a fixture

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)

FIRST, SECOND = "RSP-01-060", "RSP-01-061"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Kiosk a with two subjects, M0 submitted each (`a.db`, its bundle `a.1`); the empty hub
    `hub0.db`."""
    root = tmp_path_factory.mktemp("answer-entries")
    with hub_and_kiosks(root) as (hub, a, _b, c):
        shutil.copy(hub, root / "hub0.db")
        with storage.open_database(a) as db:
            for code in (FIRST, SECOND):
                storage.register_subject(db, code, day0=TODAY, staff=coord(db))
                do_visit(db, c, code, "M0", TODAY, vas=40.0, odi=2, sf36=2)
        export(a, root / "a.1")
        shutil.copy(a, root / "a0.db")
    yield root


@pytest.fixture
def hub0(site: Path, tmp_path: Path) -> Path:
    shutil.copy(site / "hub0.db", tmp_path / "hub.db")
    return tmp_path / "hub.db"


def _ids(tables: Tables) -> tuple[str, str, str]:
    """The first subject's id, the second's, and the second's session."""
    subjects = {r[col("subjects", "code")]: r[0] for r in tables["subjects"]}
    second = next(
        r[0] for r in tables["sessions"] if r[col("sessions", "subject_id")] == subjects[SECOND]
    )
    return subjects[FIRST], subjects[SECOND], second


def _first_answer_entry(tables: Tables, first: str) -> list[Any]:
    return next(
        e
        for e in sorted(tables["audit_log"], key=lambda e: e[col("audit_log", "seq")])
        if e[col("audit_log", "action")] == "answer.recorded"
        and e[col("audit_log", "subject_id")] == first
    )


def _rehash(tables: Tables) -> None:
    prev = "0" * 64
    for entry in sorted(tables["audit_log"], key=lambda e: e[col("audit_log", "seq")]):
        entry[col("audit_log", "prev_hash")] = prev
        entry[col("audit_log", "hash")] = prev = entry_hash(prev, *entry[:10])


def _session_of_the_other(tables: Tables) -> None:
    first, _, session = _ids(tables)
    entry = _first_answer_entry(tables, first)
    payload = json.loads(entry[col("audit_log", "payload")])
    payload["session_id"] = session
    entry[col("audit_log", "payload")] = json.dumps(payload, sort_keys=True)
    _rehash(tables)


def _subject_of_the_other(tables: Tables) -> None:
    first, second, _ = _ids(tables)
    _first_answer_entry(tables, first)[col("audit_log", "subject_id")] = second
    _rehash(tables)


@pytest.mark.parametrize(
    ("edit", "problem"),
    [
        (_session_of_the_other, "as one of session"),
        (_subject_of_the_other, "but records answer"),
    ],
    ids=["session", "subject"],
)
def test_an_answer_entry_naming_another_patient_is_refused(
    site: Path, hub0: Path, tmp_path: Path, edit: Any, problem: str
) -> None:
    forged = forge(site / "a.1", site / "site.key", tmp_path / "x.bundle", edit)
    refused(hub0, forged, "audit entry #", problem)


def _kiosk(site: Path, tmp_path: Path) -> tuple[Path, str, str, str]:
    path = tmp_path / "a.db"
    shutil.copy(site / "a0.db", path)
    first = one(path, f"SELECT id FROM subjects WHERE code='{FIRST}'")
    second = one(path, f"SELECT id FROM subjects WHERE code='{SECOND}'")
    session = one(path, f"SELECT id FROM sessions WHERE subject_id='{second}'")
    return path, first, second, session


def test_verify_names_an_answer_entry_naming_another_session(site: Path, tmp_path: Path) -> None:
    path, first, _, session = _kiosk(site, tmp_path)
    seq = int(
        one(
            path,
            f"SELECT min(seq) FROM audit_log WHERE action='answer.recorded' "
            f"AND subject_id='{first}'",
        )
    )

    def edit(at: int, _action: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        return {**payload, "session_id": session} if at == seq else None

    rechain(path, edit)
    result = storage.verify_database(path)
    assert not result.ok
    assert "table answers row " in result.message, result.message
    assert f"records answers of session {session}" in result.message, result.message


def test_verify_names_an_answer_entry_naming_another_subject(site: Path, tmp_path: Path) -> None:
    path, first, second, _ = _kiosk(site, tmp_path)
    seq = int(
        one(
            path,
            f"SELECT min(seq) FROM audit_log WHERE action='answer.recorded' "
            f"AND subject_id='{first}'",
        )
    )
    conn = sqlite3.connect(path)
    try:
        (sql,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name='audit_log_no_update'"
        ).fetchone()
        conn.execute("DROP TRIGGER audit_log_no_update")
        conn.execute(
            "UPDATE audit_log SET subject_id=? WHERE seq=? AND device_id="
            "(SELECT value FROM settings WHERE key='device_id')",
            [second, seq],
        )
        conn.execute(sql)
        conn.commit()
    finally:
        conn.close()
    rechain(path, lambda at, _action, payload: payload if at == seq else None)
    result = storage.verify_database(path)
    assert not result.ok
    assert f"an answer of subject {first}, but audit entry #{seq}" in result.message, result.message
    assert f"names subject {second}" in result.message, result.message


def test_the_true_bundle_imports_and_verifies(site: Path, hub0: Path) -> None:
    merge(hub0, site / "a.1")
    result = storage.verify_database(hub0)
    assert result.ok, result.message
