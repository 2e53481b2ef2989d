"""audit_trail.csv lists every audit entry (corrections, missed marks, conflict choices), and in a
resolved conflict answers_long says which session's rows count."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from respine_desktop import exports, storage
from tests.support.exports import (
    conflicted_hub,
    controlled_clock,
    hub_and_kiosks,
    scenario_db,
)
from tests.support.storage import inv

WHY = "paper source shows the kiosk A answers"


def rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def test_every_audit_entry_is_listed_with_its_reason(tmp_path: Path) -> None:
    scenario_db(tmp_path / "s.db")
    with controlled_clock(), storage.open_database(tmp_path / "s.db", readonly=True) as db:
        result = exports.export_csv(db, tmp_path / "out")
        total = db.conn.execute("SELECT count(*) AS n FROM audit_log").fetchone()["n"]
    assert tmp_path / "out" / "audit_trail.csv" in result.files
    trail = rows(tmp_path / "out" / "audit_trail.csv")
    assert list(trail[0]) == [
        "sequence", "device", "time", "actor", "action", "table", "row", "subject_id",
        "reason", "details",
    ]  # fmt: skip
    assert len(trail) == total
    assert sorted(int(r["sequence"]) for r in trail) == list(range(1, total + 1))  # one device
    assert [r["time"] for r in trail] == sorted(r["time"] for r in trail)
    missed = [r for r in trail if r["action"] == "visit.missed"]
    assert [(r["subject_id"], r["reason"]) for r in missed] == [
        ("RSP-01-001", "subject unreachable")
    ]
    assert missed[0]["actor"] and missed[0]["table"] == "visit" and missed[0]["row"]
    corrected = [r for r in trail if r["action"] == "answer.corrected"]
    assert [r["reason"] for r in corrected] == ["patient ticked the wrong statement"]
    book = rows(tmp_path / "out" / "codebook.csv")
    described = [r["column"] for r in book if r["file"] == "audit_trail.csv" and not r["code"]]
    assert described == list(trail[0])


def test_a_conflict_choice_is_in_the_trail_and_decides_which_rows_count(tmp_path: Path) -> None:
    with hub_and_kiosks(tmp_path) as (hub, a, b, c):
        first, second = conflicted_hub(hub, a, b, c)
        with storage.open_database(hub) as db:
            storage.resolve_conflict(db, "RSP-01-030", "M1", first, staff=inv(db), reason=WHY)
        with storage.open_database(hub, readonly=True) as db:
            exports.export_csv(db, tmp_path / "out")
    trail = rows(tmp_path / "out" / "audit_trail.csv")
    chosen = [r for r in trail if r["action"] == "conflict.resolved"]
    assert len(chosen) == 1 and chosen[0]["reason"] == WHY
    assert first in chosen[0]["details"] and chosen[0]["subject_id"] == "RSP-01-030"
    assert any(r["action"] == "bundle.conflict" for r in trail)
    long = rows(tmp_path / "out" / "answers_long.csv")
    m1 = [r for r in long if r["visit"] == "M1"]
    counting = {r["session"] for r in m1 if r["counts"] == "1"}
    assert counting == {first}
    vas = [r for r in m1 if r["item"] == "vas_pain"]
    assert {(r["session"], r["code"], r["counts"]) for r in vas} == {
        (first, "50", "1"),
        (second, "35.5", "0"),
    }
    # the superseded odi_02 row of the chosen session does not count either
    odi2 = [r for r in m1 if r["item"] == "odi_02" and r["session"] == first]
    assert [r["counts"] for r in odi2] == ["0", "1"]
    wide = {(r["subject_id"], r["visit"]): r for r in rows(tmp_path / "out" / "visits_wide.csv")}
    assert wide["RSP-01-030", "M1"]["VAS"] == "50" and wide["RSP-01-030", "M1"]["status"] == (
        "conflict"
    )
    assert wide["RSP-01-030", "M1"]["session_id"] == first


def test_details_leave_out_the_row_images_and_keep_the_rest(tmp_path: Path) -> None:
    scenario_db(tmp_path / "s.db")
    with controlled_clock(), storage.open_database(tmp_path / "s.db", readonly=True) as db:
        exports.export_csv(db, tmp_path / "out")
        imaged = db.conn.execute(
            "SELECT count(*) AS n FROM audit_log WHERE payload LIKE '%\"rows_after\"%'"
        ).fetchone()["n"]
    trail = rows(tmp_path / "out" / "audit_trail.csv")
    assert imaged > 0  # the database keeps the images verify replays
    assert not any("rows_after" in r["details"] for r in trail)
    corrected = [r for r in trail if r["action"] == "answer.corrected"]
    details = json.loads(corrected[0]["details"])
    assert details["reason"] == "patient ticked the wrong statement"
    assert "rows_after" not in details


def test_entries_of_a_subject_registered_on_two_kiosks_carry_its_code(tmp_path: Path) -> None:
    # The same code registered on each kiosk: the hub keeps kiosk A's subject and maps kiosk B's
    # id onto it (the merge's subject map); B's entries keep B's id and are listed by the code.
    from datetime import timedelta

    from tests.support.exports import TODAY, export, merge
    from tests.support.storage import coord

    with hub_and_kiosks(tmp_path) as (hub, a, b, _c):
        for kiosk in (a, b):
            with storage.open_database(kiosk) as db:
                storage.register_subject(
                    db, "RSP-01-050", day0=TODAY - timedelta(days=2), staff=coord(db)
                )
            export(kiosk, kiosk.with_suffix(".bundle"))
            merge(hub, kiosk.with_suffix(".bundle"))
        with storage.open_database(hub, readonly=True) as db:
            ids = {r["subject_id"] for r in db.conn.execute("SELECT subject_id FROM audit_log")}
            exports.export_csv(db, tmp_path / "csv")
    assert len(ids - {None}) == 2  # the entries name two ids, the hub has one subject
    registered = [
        r for r in rows(tmp_path / "csv" / "audit_trail.csv") if r["action"] == "subject.registered"
    ]
    assert len(registered) == 2
    assert {r["subject_id"] for r in registered} == {"RSP-01-050"}
