"""A session belongs to the visit its ``visit_id`` names: that visit's subject and code are the
session's own ``subject_id`` and ``visit_code``.

The three columns are kept side by side (readers by visit follow ``visit_id``: the worklist,
the chosen session, a visit's conflicts; readers by subject follow ``subject_id`` and
``visit_code``: the exports, the reports), and nothing compared them: a signed bundle (its
session rows and their images edited, the chain re-hashed) or a file rewritten consistently in
which a session of M1 names the M0 visit (or another patient's visit) was imported and verified,
and the two kinds of readers then disagreed on which sitting a visit holds.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import storage
from respine_desktop.storage._audit import entry_hash
from tests.exports.test_bundle_forged import Tables, col, forge, hub0, refused, rows_where, site
from tests.storage.test_verify_devices import one, rewrite
from tests.support.merge_modes import merge_mode

__all__ = ["hub0", "merge_mode", "site"]  # fixtures

pytestmark = pytest.mark.usefixtures("merge_mode")  # each test both ways (merge_modes)


def _session_of_m1_in_the_m0_visit(tables: Tables) -> None:
    """M1's session names the M0 visit (its subject and code unchanged), in its row and in
    every image of it; the chain re-hashed."""
    m0 = rows_where(tables, "visits", visit_code="M0")[0][0]
    (session,) = rows_where(tables, "sessions", visit_code="M1")
    session[col("sessions", "visit_id")] = m0
    for entry in tables["audit_log"]:
        payload = json.loads(entry[col("audit_log", "payload")])
        image: dict[str, Any] | None = (payload.get("rows_after") or {}).get("sessions")
        if image is None:
            continue
        where = image["columns"].index("visit_id")
        for values in image["values"]:
            if values[0] == session[0]:
                values[where] = m0
        entry[col("audit_log", "payload")] = json.dumps(payload, sort_keys=True)
    prev = "0" * 64
    for entry in sorted(tables["audit_log"], key=lambda e: e[col("audit_log", "seq")]):
        entry[col("audit_log", "prev_hash")] = prev
        entry[col("audit_log", "hash")] = prev = entry_hash(prev, *entry[:10])


def test_a_session_naming_another_visit_is_refused(site: Path, hub0: Path, tmp_path: Path) -> None:
    forged = forge(
        site / "a.1", site / "site.key", tmp_path / "x.bundle", _session_of_m1_in_the_m0_visit
    )
    refused(hub0, forged, "bundle sessions row ", "field visit_id", "visit M0")


def test_verify_names_a_session_moved_to_another_visit(site: Path, tmp_path: Path) -> None:
    """The kiosk's file rewritten: M1's session (and its image) names the M0 visit. (On a hub,
    the kiosk's own chain, replayed, names the column its image says otherwise.)"""
    path = tmp_path / "a.db"
    shutil.copy(site / "a.db", path)
    m0 = one(path, "SELECT id FROM visits WHERE visit_code='M0'")
    session = one(path, "SELECT id FROM sessions WHERE visit_code='M1'")
    assert storage.verify_database(path).ok
    rewrite(path, "sessions", session, "visit_id", m0)
    result = storage.verify_database(path)
    assert not result.ok
    assert f"table sessions row {session}: column visit_id" in result.message, result.message
    assert "visit M0" in result.message, result.message


def test_verify_names_a_visit_whose_session_is_of_another_visit(site: Path, tmp_path: Path) -> None:
    """``visits.session_id`` (derived, so in no row image: the worklist's session, the one
    "Start questionnaires" resumes) set to M0's session on the M1 visit, behind the app's back,
    nothing else changed: it must name a session of its own visit."""
    path = tmp_path / "a.db"
    shutil.copy(site / "a.db", path)
    m1 = one(path, "SELECT id FROM visits WHERE visit_code='M1'")
    m0_session = one(path, "SELECT id FROM sessions WHERE visit_code='M0'")
    conn = sqlite3.connect(path)
    try:
        conn.execute("UPDATE visits SET session_id=? WHERE id=?", [m0_session, m1])
        conn.commit()
    finally:
        conn.close()
    result = storage.verify_database(path)
    assert not result.ok
    assert f"table visits row {m1}: column session_id is '{m0_session}'" in result.message, (
        result.message
    )
    assert "not a session of this visit" in result.message, result.message
