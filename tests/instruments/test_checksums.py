"""Checksums: content, not layout; answers with a format-1 checksum still verify and export."""

from __future__ import annotations

import csv
import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from respine_desktop import exports, storage
from respine_desktop.instruments import (
    format1_checksums,
    instrument_ids,
    load_instrument,
    load_instrument_file,
    shows_content,
    stored_content_checksum,
)
from tests.support.exports import controlled_clock, scenario_db

# What the format-1 files' answers carry (e.g. every answer of the reference database made with
# format 1): the SHA-256 of each whole format-1 file.
FORMAT1 = {
    "vas": "sha256:d4e68ecf66895b7d5333288d4f1cc59efe993ff40ea7fda9c3bbe63bef0f7e6b",
    "odi": "sha256:8c3791708962d1f09076e022115de8be55942b3da96f1ae542f54555a048366f",
    "sf36": "sha256:22ab2750192ea46ef9f43bd501169aec115f8327ecdd3c8daa6dedb50acaa39e",
}


@pytest.mark.req("INS-01")
def test_the_shipped_content_keeps_its_format_1_checksum() -> None:
    for instrument_id, checksum in FORMAT1.items():
        instrument = load_instrument(instrument_id)
        assert instrument.checksum == checksum
        row = format1_checksums()[checksum]
        assert (row.instrument_id, row.version) == (instrument_id, instrument.version)
        assert row.content == instrument.content_checksum != checksum
        assert stored_content_checksum(checksum) == instrument.content_checksum
        assert shows_content(instrument, instrument.version, checksum)
        assert shows_content(instrument, instrument.version, instrument.content_checksum)
        assert not shows_content(instrument, "2.0", checksum)
    assert {r.instrument_id for r in format1_checksums().values()} == set(instrument_ids())


def test_layout_and_source_do_not_change_the_checksum(tmp_path: Path) -> None:
    original = load_instrument("sf36")
    doc = json.loads(original.path.read_bytes())
    doc["source"] = "Another wording of the provenance"
    doc["lists"] = dict(reversed(doc["lists"].items()))
    copy = tmp_path / "sf36.json"
    copy.write_text(json.dumps(doc, indent=4, sort_keys=True), encoding="utf-8")
    again = load_instrument_file(copy)
    assert again.checksum == original.checksum == FORMAT1["sf36"]
    assert again.content_checksum == original.content_checksum


@pytest.mark.req("INS-01")
def test_a_changed_text_is_new_content_and_old_answers_say_so(tmp_path: Path) -> None:
    original = load_instrument("sf36")
    doc = json.loads(original.path.read_bytes())
    doc["lists"]["limited"][0]["text"]["en"] = "Yes, limited very much"
    copy = tmp_path / "sf36.json"
    copy.write_text(json.dumps(doc), encoding="utf-8")
    changed = load_instrument_file(copy)
    # Not content that shipped in format 1: the checksum stored with new answers is the content's.
    assert changed.checksum == changed.content_checksum != original.content_checksum
    assert not shows_content(changed, changed.version, FORMAT1["sf36"])
    assert stored_content_checksum(changed.checksum) == changed.checksum


def test_answers_with_the_format_1_checksum_verify_and_export_as_before(tmp_path: Path) -> None:
    db_path = tmp_path / "s.db"
    scenario_db(db_path)
    with closing(sqlite3.connect(db_path)) as conn:
        stored = conn.execute(
            "SELECT DISTINCT instrument_id, instrument_version, instrument_checksum FROM answers"
        ).fetchall()
    assert {(i, c) for i, _, c in stored} == set(FORMAT1.items())
    for instrument_id, version, checksum in stored:
        assert shows_content(load_instrument(instrument_id), version, checksum)
    result = storage.verify_database(db_path)
    assert result.ok, result.message
    with controlled_clock(), storage.open_database(db_path, readonly=True) as db:
        exports.export_csv(db, tmp_path / "csv")
    with (tmp_path / "csv" / "answers_long.csv").open(encoding="utf-8", newline="") as f:
        exported = {(r["instrument"], r["instrument_checksum"]) for r in csv.DictReader(f)}
    assert exported == set(FORMAT1.items())
