"""A fork: two current answers of one item, written on two devices holding the session.

The design keeps both (docs/conflicts.md: "of two current answers of an item, a fork, the one
written last counts, never the later by its clock"): a parked sitting of kiosk a, merged into
the hub, is resumed on the hub and odi_02 changed there; kiosk a, offline, resumes the same
sitting and changes odi_02 too, earlier by its clock; its next bundle brings the second change.
Two kinds, each a case of every test: "replaced", odi_02 was answered before the sitting was
parked (one answer superseded by two rows); "answered", it was not (two first answers).
The merge flags the fork (a ``bundle.mismatch`` entry, in the import's result and the mismatch
list) and the hub verifies; every reader of the hub takes kiosk a's row, the last written.
"""

from __future__ import annotations

import csv
import json
import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

import pytest

from respine_desktop import exports, storage
from respine_desktop.exports.csv_export import export_csv
from respine_desktop.exports.visit_values import visit_values
from respine_desktop.reports import data as report_data
from respine_desktop.storage import StudyDb
from respine_desktop.storage.export_reads import iter_subject_records
from tests.exports.test_exports_odm_history import NS, events, replay, stamp
from tests.support.exports import (
    TODAY,
    Clock,
    answers_for,
    do_visit,
    export,
    hub_and_kiosks,
    merge,
    odm_errors,
)
from tests.support.storage import coord

CODE = "RSP-01-040"


class Forked(NamedTuple):
    hub: Path
    session: str
    hub_row: str
    kiosk_row: str
    kind: str  # "replaced" or "answered"


def parked_before_odi_02(db: StudyDb, c: Clock, code: str = CODE) -> str:
    """`code`'s M0 sitting with every item answered but odi_02, parked (position 3)."""
    c.day(TODAY)
    session = storage.start_session(db, code, "M0", staff=coord(db), language="en", on=TODAY).id
    for n, instrument in enumerate(("vas", "odi", "sf36"), start=1):
        c.day(TODAY, minutes=n)
        given = answers_for(instrument, 2, 30.0)
        given.pop("odi_02", None)
        storage.record_answers(db, session, given, language="en", vas_line_mm=100.0)
    c.day(TODAY, minutes=5)
    storage.park_session(db, session, position=3)
    return session


@pytest.fixture(scope="module", params=["replaced", "answered"])
def forked(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[Forked]:
    """The hub after the fork's import; the session, the hub's row and kiosk a's row."""
    kind = request.param
    root = tmp_path_factory.mktemp(f"fork-{kind}")
    with hub_and_kiosks(root) as (hub, a, _b, c):
        with storage.open_database(a) as db:
            storage.register_subject(db, CODE, day0=TODAY, staff=coord(db))
            if kind == "replaced":
                session = do_visit(db, c, CODE, "M0", TODAY, vas=30.0, odi=2, sf36=2, submit=False)
            else:
                session = parked_before_odi_02(db, c)
        export(a, root / "a.1")
        merge(hub, root / "a.1")
        c.day(TODAY, minutes=120)  # the hub's change: later by the clocks
        with storage.open_database(hub) as db:
            storage.resume_session(db, session, staff=coord(db))
            hub_row = storage.record_answer(db, session, "odi_02", 4, language="en").id
            storage.park_session(db, session, position=3, staff=coord(db))
        c.day(TODAY, minutes=60)  # kiosk a's change: earlier by the clocks, imported later
        with storage.open_database(a) as db:
            storage.resume_session(db, session, staff=coord(db))
            kiosk_row = storage.record_answer(db, session, "odi_02", 1, language="en").id
            storage.park_session(db, session, position=3, staff=coord(db))
        export(a, root / "a.2")
        summary = merge(hub, root / "a.2")
        (root / "mismatches.json").write_text(json.dumps(summary.result.mismatches))
        c.day(TODAY, minutes=180)
        with storage.open_database(hub) as db:  # the sitting ends on the hub
            storage.resume_session(db, session, staff=coord(db))
            storage.submit_session(db, session, staff=coord(db))
        yield Forked(hub, session, hub_row, kiosk_row, kind)


def test_the_fork_is_flagged_and_the_hub_verifies(forked: Forked) -> None:
    hub, _session, hub_row, kiosk_row, kind = forked
    flagged = json.loads((hub.parent / "mismatches.json").read_text())
    assert len(flagged) == 1
    how, field = {
        "replaced": ("superseded by", "superseded_by"),
        "answered": ("answered first by", "first_answer"),
    }[kind]
    assert f"{how} 2 rows ({hub_row} {kiosk_row})" in flagged[0], flagged
    assert f"the last written of its current rows, {kiosk_row}, counts" in flagged[0], flagged
    with storage.open_database(hub, readonly=True) as db:
        (listed,) = storage.list_mismatches(db)
        assert listed.subject_code == CODE
        assert (listed.field, listed.hub_value, listed.bundle_value) == (field, hub_row, kiosk_row)
        counts = storage.counts(db)
    result = storage.verify_database(hub)
    assert result.ok, result.message
    # one current answer per item: the fork's two rows count once (and a replaced original none)
    assert counts.current_answers == counts.answers - {"replaced": 2, "answered": 1}[kind]


def test_importing_the_bundle_again_flags_nothing_new(forked: Forked, tmp_path: Path) -> None:
    hub = forked.hub
    shutil.copy(hub, tmp_path / "hub.db")
    again = merge(tmp_path / "hub.db", hub.parent / "a.2")
    assert again.result.new_mismatches == 0
    assert not again.result.changed


def test_the_application_takes_the_last_written_row(forked: Forked) -> None:
    hub, session, _hub_row, kiosk_row, _kind = forked
    with storage.open_database(hub, readonly=True) as db:
        assert storage.current_answers(db, session)["odi_02"].id == kiosk_row


def test_the_report_lists_the_item_once_with_the_last_written_row(
    forked: Forked,
) -> None:
    hub = forked.hub
    with storage.open_database(hub, readonly=True) as db:
        summary = report_data.patient_summary(db, CODE, on=TODAY + timedelta(days=1))
    rows = [r for v in summary.items for r in v.items if r.item_id == "odi_02"]
    assert [r.code for r in rows] == [1]


def test_the_exports_take_the_last_written_row(forked: Forked, tmp_path: Path) -> None:
    """The snapshot files (ODM, REDCap, stats: `visit_values`) and the CSV (visits_wide and
    answers_long's counted column, one process or more) take kiosk a's row, the last written,
    though the hub's is later by the clocks."""
    hub, _session, hub_row, kiosk_row, _kind = forked
    with storage.open_database(hub, readonly=True) as db:
        (record,) = iter_subject_records(db)
        (visit,) = [v for v in visit_values(db.study, record) if v.code == "M0"]
        assert visit.answers["odi_02"].value == 1
        for workers in (1, 2):
            out = tmp_path / f"csv{workers}"
            export_csv(db, out, workers=workers)
            with (out / "visits_wide.csv").open(newline="", encoding="utf-8") as f:
                (m0,) = [r for r in csv.DictReader(f) if r["visit"] == "M0"]
            assert m0["odi_02"] == "1", m0["odi_02"]
            with (out / "answers_long.csv").open(newline="", encoding="utf-8") as f:
                counted = {r["answer_id"]: r["counts"] for r in csv.DictReader(f)}
            assert (counted[kiosk_row], counted[hub_row]) == ("1", "0")


def test_the_stored_scores_are_those_of_the_last_written_row(
    forked: Forked,
) -> None:
    """The hub submitted the sitting after the fork: its ODI score counts kiosk a's odi_02."""
    hub, session, _hub_row, kiosk_row, _kind = forked
    with storage.open_database(hub, readonly=True) as db:
        answers = storage.current_answers(db, session)
        (odi,) = db.conn.execute(
            "SELECT scores FROM scores WHERE session_id=? AND instrument_id='odi' "
            "AND superseded_at IS NULL",
            [session],
        ).fetchone()
    assert answers["odi_02"].id == kiosk_row
    # ten sections: nine at 2, odi_02 at 1 (19 of 50): 38 %; with the hub's 4, 42 %
    assert json.loads(odi)["ODI"] == pytest.approx(38.0)


def test_the_odm_history_ends_at_the_snapshot_the_last_written_set_again(
    forked: Forked, tmp_path: Path
) -> None:
    """ODM --history lists the fork's rows in time order (the hub's last), then sets kiosk a's,
    the last written, again as the system's audited change: replaying it ends at the snapshot's
    value. Both files validate, and every entity's AuditRecords stay in increasing time."""
    hub, session, _hub_row, kiosk_row, kind = forked
    with storage.open_database(hub, readonly=True) as db:
        exports.export_odm(db, tmp_path / "h.xml", history=True)
        exports.export_odm(db, tmp_path / "s.xml")
    assert odm_errors(tmp_path / "h.xml") == [] and odm_errors(tmp_path / "s.xml") == []
    history = events(tmp_path / "h.xml", CODE)["SE.M0"]
    snapshot = events(tmp_path / "s.xml", CODE)["SE.M0"]
    key = ("F.ODI", "IG.ODI", "IT.ODI_02")
    assert replay(snapshot)[key] == "1"
    assert replay(history) == replay(snapshot)
    again = [
        record
        for record in history.iter(f"{NS}AuditRecord")
        if (record.findtext(f"{NS}SourceID") or "").startswith("fork")
    ]
    assert len(again) == 1
    assert f"session {session} counts; answer {kiosk_row}" in (
        again[0].findtext(f"{NS}SourceID") or ""
    )
    user = again[0].find(f"{NS}UserRef")
    assert user is not None and user.get("UserOID") == "USR.SYSTEM"
    items = [
        stamp(item)
        for item in history.iter(f"{NS}ItemData")
        if item.get("ItemOID") == "IT.ODI_02" and item.find(f"{NS}AuditRecord") is not None
    ]
    assert items == sorted(items)
    # (given,) the two rows of the fork, again
    assert len(items) == {"replaced": 4, "answered": 3}[kind]


def test_a_hub_receiving_the_fork_from_another_flags_it_and_takes_the_same_row(
    forked: Forked, tmp_path: Path
) -> None:
    """The hub's own bundle (a relay) brings both rows of the fork to kiosk b, which has not
    got the sitting: flagged there too (both rows new: the bundle's own two), and kiosk b
    takes the row the hub takes."""
    hub, session, hub_row, kiosk_row, kind = forked
    kiosk_b = tmp_path / "b.db"
    shutil.copy(hub.parent / "b.db", kiosk_b)
    export(hub, tmp_path / "hub.1")
    summary = merge(kiosk_b, tmp_path / "hub.1")
    field = {"replaced": "superseded by", "answered": "answered first by"}[kind]
    assert [m for m in summary.result.mismatches if field in m] != [], summary.result.mismatches
    with storage.open_database(kiosk_b, readonly=True) as db:
        assert storage.current_answers(db, session)["odi_02"].id == kiosk_row != hub_row
    result = storage.verify_database(kiosk_b)
    assert result.ok, result.message
