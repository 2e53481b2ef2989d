"""The replay on hubs and on kiosks that received a hub's bundle: merged rows replay from the
importing database's own ``bundle.imported`` entries (every row the merge wrote), other devices'
chains stay verifiable, and each import records the imported devices' chain heads."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from respine_desktop import storage
from tests.support.exports import (
    conflicted_hub,
    hub_and_kiosks,
    one_code_on_two_kiosks,
)
from tests.support.storage import ADMIN_PIN


def _ok(path: Path) -> str:
    result = storage.verify_database(path)
    assert result.ok, result.message
    assert "not covered" not in result.message
    return result.message


def test_hub_and_kiosks_replay_after_merges_both_ways(tmp_path: Path) -> None:
    with hub_and_kiosks(tmp_path) as (hub, a, b, c):
        _, second = conflicted_hub(hub, a, b, c)
        with storage.open_database(hub) as db:
            admin = storage.authenticate(db, "admin", ADMIN_PIN)
            storage.resolve_conflict(
                db, "RSP-01-030", "M1", second, staff=admin, reason="B is complete"
            )
            imports = storage.audit_entries(db, action="bundle.imported")
            heads = {d: [s, h] for d, s, h in storage.audit_chain_head(db).chains}
            device = db.device_id
    for path in (hub, a, b):
        assert "chain(s) verified" in _ok(path)
    assert len(imports) >= 2
    recorded = imports[-1].payload["chain_heads"]
    assert isinstance(recorded, dict)
    assert device not in recorded
    assert recorded == {d: v for d, v in heads.items() if d != device}
    images = imports[0].payload[storage.ROW_IMAGES_KEY]
    assert isinstance(images, dict)
    assert {"devices", "staff", "subjects", "visits", "sessions", "scores"} <= set(images)


def test_a_subject_matched_by_code_replays_under_the_hubs_id(tmp_path: Path) -> None:
    """The same code registered on two kiosks: the hub keeps one subject, both visits on it."""
    with hub_and_kiosks(tmp_path) as (hub, a, b, c):
        one_code_on_two_kiosks(hub, a, b, c)
        _ok(hub)
        conn = sqlite3.connect(hub)
        try:
            with conn:
                conn.execute("UPDATE visits SET state='missed' WHERE visit_code='M1'")
        finally:
            conn.close()
    result = storage.verify_database(hub)
    assert not result.ok
    assert "table visits row" in result.message and "column state is 'missed'" in result.message
