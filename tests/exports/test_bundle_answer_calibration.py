"""The VAS calibration a kiosk's answer names, on the hub: one its own device recorded.

A bundle does not carry calibration rows, only the ``vas.calibrated`` entries of each kiosk's
chain. Kiosk a measures its line, then the patient answers; its bundle merges, the hub verifies
and the patient report on the hub says when the line was calibrated (it said "uncalibrated":
the hub had no row). A key holder's bundle whose answer names a calibration no entry records,
or kiosk b's, is refused with the hub unchanged; a ``--since`` bundle naming a calibration of
an earlier bundle merges. `verify` names a file's answer whose calibration its device never
recorded.
"""

from __future__ import annotations

import json
import shutil
import uuid
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import reports, storage
from respine_desktop.storage import _calibrations
from respine_desktop.storage._schema import CALIBRATION_ENTRIES_SQL
from tests.exports.test_bundle_forged import Tables, col, forge, rechain, refused, rows_where
from tests.support.exports import TODAY, do_visit, export, hub_and_kiosks, merge
from tests.support.reports import pdf_text
from tests.support.storage import coord

CODE = "RSP-01-050"
SCREEN = storage.ScreenInfo(1280, 800, 96.0, "Qt physicalDotsPerInchX", 1.0)


def calibrate(path: Path) -> storage.VasCalibration:
    with storage.open_database(path) as db:
        return storage.record_vas_calibration(
            db, staff=coord(db), measured_mm=97.0, drawn_factor=1.0, screen=SCREEN
        )


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, dict[str, Any]]]:
    """Kiosk a calibrated, then M0 (bundle ``a.1``); then M1 (bundle ``a.2``, cut after
    ``a.1``); kiosk b calibrated (bundle ``b.1``); the empty hub as ``hub0.db``."""
    root = tmp_path_factory.mktemp("calibration")
    with hub_and_kiosks(root) as (hub, a, b, c):
        shutil.copy(hub, root / "hub0.db")
        day0 = TODAY - timedelta(days=40)
        c.day(day0)
        mine, theirs = calibrate(a), calibrate(b)
        with storage.open_database(a) as db:
            storage.register_subject(db, CODE, day0=day0, staff=coord(db))
            do_visit(db, c, CODE, "M0", day0, vas=67.6, odi=3, sf36=3)
        first = export(a, root / "a.1")
        with storage.open_database(a) as db:
            do_visit(db, c, CODE, "M1", day0 + timedelta(days=30), vas=40.0, odi=2, sf36=2)
        export(a, root / "a.2", since=first.created_at)
        export(b, root / "b.1")
    yield root, {"mine": mine, "theirs": theirs}


@pytest.fixture
def hub(site: tuple[Path, dict[str, Any]], tmp_path: Path) -> Path:
    shutil.copy(site[0] / "hub0.db", tmp_path / "hub.db")
    return tmp_path / "hub.db"


def test_the_kiosks_bundle_merges_and_the_hub_report_says_when_the_line_was_calibrated(
    site: tuple[Path, dict[str, Any]], hub: Path, tmp_path: Path
) -> None:
    root, cals = site
    merge(hub, root / "a.1")
    with storage.open_database(hub) as db:
        named = db.conn.execute(
            "SELECT vas_calibration FROM answers WHERE item_id = 'vas_pain'"
        ).fetchall()
        assert [r[0] for r in named] == [cals["mine"].id]
        assert db.conn.execute("SELECT count(*) FROM vas_calibrations").fetchone()[0] == 0
        # the hub reads the kiosk's calibration from the entry that recorded it
        assert storage.get_vas_calibration(db, cals["mine"].id) == cals["mine"]
        pdf = reports.write_patient_pdf(db, CODE, tmp_path / "p.pdf", on=TODAY).path
    assert f"VAS line: M0 calibrated {cals['mine'].calibrated_at[:10]}" in pdf_text(pdf)
    result = storage.verify_database(hub)
    assert result.ok, result.message


def test_a_since_bundle_naming_a_calibration_of_an_earlier_bundle_merges(
    site: tuple[Path, dict[str, Any]], hub: Path
) -> None:
    """``a.2`` (cut after ``a.1``) lacks the calibration's entry: the hub's is found."""
    root, cals = site
    with zipfile.ZipFile(root / "a.2") as z:
        entries = [json.loads(line) for line in z.read("data/audit_log.jsonl").splitlines()]
    actions = {e[col("audit_log", "action")] for rows in entries for e in rows}
    assert "session.submitted" in actions and "vas.calibrated" not in actions
    merge(hub, root / "a.1")
    summary = merge(hub, root / "a.2")
    assert summary.result.inserted["answers"] > 0
    with storage.open_database(hub, readonly=True) as db:
        named = {
            r[0]
            for r in db.conn.execute(
                "SELECT vas_calibration FROM answers WHERE item_id = 'vas_pain'"
            )
        }
    assert named == {cals["mine"].id}
    result = storage.verify_database(hub)
    assert result.ok, result.message


def naming(calibration: str) -> Any:
    """A forged chain whose VAS answer names `calibration` (its digest and chain made to
    match: only the calibration rule can refuse it)."""

    def edit(tables: Tables) -> None:
        answer = rows_where(tables, "answers", item_id="vas_pain")[0]
        answer[col("answers", "vas_calibration")] = calibration
        rechain(tables, answer)

    return edit


def test_an_answer_naming_a_calibration_no_entry_records_is_refused(
    site: tuple[Path, dict[str, Any]], hub: Path, tmp_path: Path
) -> None:
    root, _cals = site
    ghost = str(uuid.uuid4())
    forged = forge(root / "a.1", root / "site.key", tmp_path / "x.bundle", naming(ghost))
    refused(
        hub,
        forged,
        "bundle answers row ",
        "field vas_calibration",
        f"names calibration {ghost}, which no vas.calibrated audit entry records",
    )


def test_an_answer_naming_another_kiosks_calibration_is_refused(
    site: tuple[Path, dict[str, Any]], hub: Path, tmp_path: Path
) -> None:
    """Kiosk b's calibration is on the hub (its bundle merged first), but a's line was not
    drawn on b's screen."""
    root, cals = site
    merge(hub, root / "b.1")
    theirs = cals["theirs"]
    forged = forge(root / "a.1", root / "site.key", tmp_path / "x.bundle", naming(theirs.id))
    refused(
        hub,
        forged,
        "field vas_calibration",
        f"a calibration of device {theirs.device_id}, not of the device that drew the line",
    )


def test_verify_names_an_answer_whose_calibration_its_device_never_recorded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A program that wrote a calibration id of nowhere (its entry and digest consistent)."""
    root = tmp_path / "site"
    root.mkdir()
    ghost = str(uuid.uuid4())
    with hub_and_kiosks(root) as (_hub, a, _b, c):
        monkeypatch.setattr(
            "respine_desktop.storage._sessions.calibration_reference", lambda db: ghost
        )
        with storage.open_database(a) as db:
            storage.register_subject(db, CODE, day0=TODAY, staff=coord(db))
            do_visit(db, c, CODE, "M0", TODAY, vas=30.0, odi=2, sf36=2)
            (answer_id,) = db.conn.execute(
                "SELECT id FROM answers WHERE vas_calibration = ?", [ghost]
            ).fetchone()
    result = storage.verify_database(a)
    assert not result.ok
    assert result.message == (
        f"table answers row {answer_id}: column vas_calibration names calibration {ghost}, "
        "which no vas.calibrated audit entry records"
    ), result.message


def test_the_index_condition_is_the_calibrations_action() -> None:
    assert f"action = '{_calibrations.CALIBRATED}'" == CALIBRATION_ENTRIES_SQL
