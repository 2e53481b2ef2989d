"""`storage.list_mismatches`: the disagreements between kiosks a hub's imports flagged, read
back from their ``bundle.mismatch`` audit entries (real kiosks, real bundles, a real hub)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from respine_desktop import storage
from tests.support.exports import TODAY, hub_and_kiosks, mismatched_hub


def test_a_day0_and_a_complete_missed_clash_are_listed_with_both_values(tmp_path: Path) -> None:
    with hub_and_kiosks(tmp_path) as (hub, a, b, c):
        mismatched_hub(hub, a, b, c)
        with storage.open_database(hub, readonly=True) as db:
            found = storage.list_mismatches(db)
    day0 = TODAY - timedelta(days=40)
    # Newest first: one import flags the subjects' mismatches, then the visits'.
    assert [(m.subject_code, m.field) for m in found] == [
        ("RSP-01-040", "state"),
        ("RSP-01-041", "day0"),
    ]
    state_clash, day0_clash = found
    assert (day0_clash.hub_value, day0_clash.bundle_value) == (
        str(day0),
        str(day0 + timedelta(days=2)),
    )
    assert day0_clash.visit_code is None
    assert (state_clash.visit_code, state_clash.hub_value, state_clash.bundle_value) == (
        "M0",
        "complete",
        "missed",
    )
    assert {m.device_label for m in found} == {"kiosk b"}
    assert all(m.flagged_at.endswith("Z") for m in found)


def test_an_entry_without_the_detail_is_read_from_its_text(tmp_path: Path) -> None:
    """Hubs that merged before the detail was recorded: the merge's own wording is read."""
    with hub_and_kiosks(tmp_path) as (hub, a, b, c):
        mismatched_hub(hub, a, b, c)
        with storage.open_database(hub) as db:
            expected = [(m.field, m.hub_value, m.bundle_value) for m in storage.list_mismatches(db)]
            storage.log_event(
                db,
                "bundle.mismatch",
                entity="visit",
                entity_id="visits:x:kiosk",
                payload={"mismatch": "visit M6 (x): date: hub 2026-01-01, bundle 2026-01-03"},
            )
            newest = storage.list_mismatches(db)[0]
    assert expected
    assert (newest.field, newest.visit_code, newest.hub_value, newest.bundle_value) == (
        "date",
        "M6",
        "2026-01-01",
        "2026-01-03",
    )
