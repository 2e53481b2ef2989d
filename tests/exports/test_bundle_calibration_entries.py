"""Attacks on the ``vas.calibrated`` entries a hub reads kiosks' calibrations from.

A hub holds no kiosk's calibration rows, only the entries recording them, and reads an
answer's calibration (the patient report's "VAS line: calibrated <date>") from there. A key
holder's bundle may carry an entry whose payload is not the row (wrong types, not an object),
or an entry of another device recording kiosk a's calibration id: the merge refuses both (the
hub unchanged), so kiosk a's next bundle still merges and the hub shows a's own calibration;
and a hub that merged such an entry before (an older version) reads no calibration from it,
its report printed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import reports, storage
from respine_desktop.storage._audit import entry_hash
from tests.exports.test_bundle_answer_calibration import CODE
from tests.exports.test_bundle_answer_calibration import hub as hub
from tests.exports.test_bundle_answer_calibration import site as site
from tests.exports.test_bundle_forged import Tables, col, forge, refused, rows_where
from tests.support.exports import TODAY, merge
from tests.support.merge_modes import merge_mode

__all__ = ["merge_mode"]  # a fixture

pytestmark = pytest.mark.usefixtures("merge_mode")

Site = tuple[Path, dict[str, Any]]


def _rehash(tables: Tables) -> None:
    """The bundle's chain (one device's) hashed again after an entry's edit."""
    prev = "0" * 64
    for entry in sorted(tables["audit_log"], key=lambda e: e[col("audit_log", "seq")]):
        entry[col("audit_log", "prev_hash")] = prev
        entry[col("audit_log", "hash")] = prev = entry_hash(prev, *entry[:10])


def _entry(tables: Tables) -> list[Any]:
    (entry,) = rows_where(tables, "audit_log", action="vas.calibrated")
    return entry


def _payload(**changes: Any) -> Any:
    def edit(tables: Tables) -> None:
        entry = _entry(tables)
        payload = json.loads(entry[col("audit_log", "payload")])
        payload.update(changes)
        entry[col("audit_log", "payload")] = json.dumps(payload, sort_keys=True)
        _rehash(tables)

    return edit


def _raw_payload(text: str) -> Any:
    def edit(tables: Tables) -> None:
        _entry(tables)[col("audit_log", "payload")] = text
        _rehash(tables)

    return edit


BAD_PAYLOADS = [
    ("date a number", _payload(calibrated_at=20260302)),
    ("date null", _payload(calibrated_at=None)),
    ("length a text", _payload(measured_mm="ninety")),
    ("width a float", _payload(screen_width_px=1280.5)),
    ("another device", _payload(device_id="01a2477b-0000-7000-8000-000000000000")),
    ("a field missing", _raw_payload('{"device_id": "x"}')),
    ("a list", _raw_payload("[1, 2, 3]")),  # (refused by the payload rule too)
    ("a number", _raw_payload("5")),
]


@pytest.mark.parametrize("edit", [b[1] for b in BAD_PAYLOADS], ids=[b[0] for b in BAD_PAYLOADS])
def test_a_calibration_entry_whose_payload_is_not_the_row_is_refused(
    site: Site, hub: Path, tmp_path: Path, edit: Any
) -> None:
    root, _cals = site
    forged = forge(root / "a.1", root / "site.key", tmp_path / "x.bundle", edit)
    refused(hub, forged, "bundle audit_log row ", "field payload")


@pytest.mark.parametrize(
    "edit", [b[1] for b in BAD_PAYLOADS[:-2]], ids=[b[0] for b in BAD_PAYLOADS[:-2]]
)
def test_a_hub_holding_such_an_entry_reads_no_calibration_and_prints_its_report(
    site: Site, hub: Path, tmp_path: Path, edit: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An entry merged before the merge refused them (an older version: the check skipped)."""
    root, cals = site
    forged = forge(root / "a.1", root / "site.key", tmp_path / "x.bundle", edit)
    skip = {"raising": False}  # (absent from the version before the check)
    monkeypatch.setattr(
        "respine_desktop.storage.bundle_merge.check_new_entries", lambda c, e: None, **skip
    )
    monkeypatch.setattr(
        "respine_desktop.storage.bundle_merge.check_new_answers", lambda conn, a, e: None
    )
    merge(hub, forged)
    with storage.open_database(hub) as db:
        assert storage.get_vas_calibration(db, cals["mine"].id) is None
        pdf = reports.write_patient_pdf(db, CODE, tmp_path / "p.pdf", on=TODAY).path
    assert pdf.exists()
    # `verify` names the entry (the merge refuses it now, an older version did not)
    result = storage.verify_database(hub)
    assert not result.ok
    assert result.message.startswith("audit entry #"), result.message
    assert (
        f"records calibration {cals['mine'].id}, but its payload is not the row of a "
        "calibration of its own device"
    ) in result.message, result.message


def _records(calibration_id: str) -> Any:
    """The bundle's own calibration entry made to record `calibration_id` (another payload)."""

    def edit(tables: Tables) -> None:
        entry = _entry(tables)
        payload = json.loads(entry[col("audit_log", "payload")])
        payload["calibrated_at"] = "2001-01-01T00:00:00.000Z"
        entry[col("audit_log", "payload")] = json.dumps(payload, sort_keys=True)
        entry[col("audit_log", "entity_id")] = calibration_id
        _rehash(tables)

    return edit


def test_another_devices_entry_recording_a_kiosks_calibration_id_is_refused(
    site: Site, hub: Path, tmp_path: Path
) -> None:
    """Kiosk a's ``a.1`` merged; a key holder's ``b.1`` records a's calibration id in b's
    chain: refused, and a's next bundle (``a.2``, cut after ``a.1``) still merges, the hub
    reading a's own calibration (it refused ``a.2``, reading b's entry as the record)."""
    root, cals = site
    mine = cals["mine"]
    merge(hub, root / "a.1")
    forged = forge(root / "b.1", root / "site.key", tmp_path / "b.bundle", _records(mine.id))
    refused(hub, forged, "field entity_id", "another entry records already")
    merge(hub, root / "a.2")
    with storage.open_database(hub, readonly=True) as db:
        assert storage.get_vas_calibration(db, mine.id) == mine
    result = storage.verify_database(hub)
    assert result.ok, result.message


def test_an_entry_recording_an_id_the_bundle_records_already_is_refused(
    site: Site, hub: Path, tmp_path: Path
) -> None:
    """One chain recording one calibration id twice (the second, another payload)."""
    root, cals = site

    def edit(tables: Tables) -> None:
        entry = _entry(tables)
        twice = list(entry)
        payload = json.loads(twice[col("audit_log", "payload")])
        payload["measured_mm"] = 120.0
        twice[col("audit_log", "payload")] = json.dumps(payload, sort_keys=True)
        seq = col("audit_log", "seq")
        last = max(e[seq] for e in tables["audit_log"])
        twice[seq] = last + 1
        twice[col("audit_log", "id")] = "01a2477b-ffff-7fff-8fff-ffffffffffff"
        tables["audit_log"].append(twice)
        _rehash(tables)

    forged = forge(root / "a.1", root / "site.key", tmp_path / "x.bundle", edit)
    refused(hub, forged, "field entity_id", cals["mine"].id, "another entry records already")


def test_verify_names_a_second_entry_recording_a_calibration_a_hub_merged_before(
    site: Site, hub: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hub that merged kiosk b's forged entry recording a's calibration id (an older version:
    the check skipped): `verify` names b's entry, the later of the two."""
    root, cals = site
    merge(hub, root / "a.1")
    forged = forge(
        root / "b.1", root / "site.key", tmp_path / "b.bundle", _records(cals["mine"].id)
    )
    monkeypatch.setattr("respine_desktop.storage.bundle_merge.check_new_entries", lambda c, e: None)
    merge(hub, forged)
    result = storage.verify_database(hub)
    assert not result.ok
    assert f"of device {cals['theirs'].device_id} " in result.message, result.message
    assert (
        f"records calibration '{cals['mine'].id}', which an earlier entry records"
    ) in result.message, result.message
