"""A first-answer fork of three devices, then a correction of one of its rows.

Kiosk a's sitting, parked before odi_02, reaches the hub and kiosk b; the hub, kiosk a and
kiosk b each answer odi_02 (three first answers); kiosk a then changes its answer again (a row
superseding its first). Each import flags what it adds, a second import of each bundle flags
nothing new, the hub verifies, one current answer counts for the item (the last written, kiosk
a's correction), in the application and in the CSV's counted column.
"""

from __future__ import annotations

import csv
from pathlib import Path

from respine_desktop import storage
from respine_desktop.exports.csv_export import export_csv
from tests.exports.test_bundle_relay_fork_order import _answer_odi_02, sitting_on_the_hub
from tests.support.exports import TODAY, export, hub_and_kiosks, merge


def test_a_fork_of_three_devices_and_a_correction(tmp_path: Path) -> None:
    root = tmp_path
    with hub_and_kiosks(root) as (hub, a, b, c):
        session = sitting_on_the_hub(root, hub, a, b, c)
        export(hub, root / "hub.1")
        merge(b, root / "hub.1")
        c.day(TODAY, minutes=60)
        hub_row = _answer_odi_02(hub, session, 4)
        a_row = _answer_odi_02(a, session, 1)
        b_row = _answer_odi_02(b, session, 3)
        export(a, root / "a.2")
        export(b, root / "b.2")
        first = merge(hub, root / "a.2")
        second = merge(hub, root / "b.2")
        assert (
            [m for m in first.result.mismatches if "answered first by" in m]
            == [m for m in first.result.mismatches if f"2 rows ({hub_row} {a_row})" in m]
            != []
        )
        assert any(f"3 rows ({hub_row} {a_row} {b_row})" in m for m in second.result.mismatches)
        c.day(TODAY, minutes=90)
        a_fix = _answer_odi_02(a, session, 2)  # supersedes a_row
        export(a, root / "a.3")
        third = merge(hub, root / "a.3")
        assert not [m for m in third.result.mismatches if "answered first by" in m]
        for again in ("a.2", "b.2", "a.3"):
            assert merge(hub, root / again).result.new_mismatches == 0
    with storage.open_database(hub, readonly=True) as db:
        current = storage.current_answers(db, session)["odi_02"]
        assert (current.id, current.value) == (a_fix, 2)
        counts = storage.counts(db)
        (kinds,) = {len(storage.list_mismatches(db))}
        export_csv(db, root / "csv", workers=1)
    assert kinds == 2
    # four rows of odi_02, one current: 3 of the fork's first answers not counting, a_row
    # superseded
    assert counts.answers - counts.current_answers == 3
    with (root / "csv" / "answers_long.csv").open(newline="", encoding="utf-8") as f:
        counted = {r["answer_id"]: r["counts"] for r in csv.DictReader(f)}
    assert [counted[i] for i in (hub_row, a_row, b_row, a_fix)] == ["0", "0", "0", "1"]
    result = storage.verify_database(hub)
    assert result.ok, result.message


def test_the_fork_sentence_names_the_current_row_that_counts(tmp_path: Path) -> None:
    """Kiosk a answered odi_02 first, then changed it, before its bundle: the fork's first rows
    are the hub's and a's first, but the row that counts is a's change (the last written of
    the item's current rows), and the sentence says so."""
    root = tmp_path
    with hub_and_kiosks(root) as (hub, a, b, c):
        session = sitting_on_the_hub(root, hub, a, b, c)
        c.day(TODAY, minutes=60)
        hub_row = _answer_odi_02(hub, session, 4)
        a_row = _answer_odi_02(a, session, 1)
        a_fix = _answer_odi_02(a, session, 2)  # supersedes a_row, in the same bundle
        export(a, root / "a.2")
        (flag,) = [m for m in merge(hub, root / "a.2").result.mismatches if "first by" in m]
    assert f"answered first by 2 rows ({hub_row} {a_row})" in flag, flag
    assert f"the last written of its current rows, {a_fix}, counts" in flag, flag
    with storage.open_database(hub, readonly=True) as db:
        assert storage.current_answers(db, session)["odi_02"].id == a_fix
