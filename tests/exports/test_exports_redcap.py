"""REDCap export: the data dictionary header is REDCap's byte for byte, events follow REDCap's
unique-name rule (checked on a real export), and records are flat longitudinal rows whose values
match the wide CSV."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop import exports, storage
from respine_desktop.exports.redcap import unique_event_name
from respine_desktop.instruments import load_instrument
from respine_desktop.study import load_study
from tests.support.exports import DATA, controlled_clock, scenario_db

EXAMPLES = DATA / "redcap_examples"


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("redcap")
    scenario_db(root / "study.db")
    with controlled_clock(), storage.open_database(root / "study.db", readonly=True) as db:
        exports.export_redcap(db, root / "redcap")
        exports.export_csv(db, root / "csv")
    yield root


def read(path: Path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


@pytest.mark.req("EXP-03")
def test_dictionary_header_is_redcaps_byte_for_byte(out: Path) -> None:
    ours = (out / "redcap" / "data_dictionary.csv").read_bytes()
    for example in ("longitudinal.dictionary.csv", "repeating-instruments.dictionary.csv"):
        real = (EXAMPLES / example).read_bytes()
        assert ours[: ours.index(b"\n") + 1] == real[: real.index(b"\n") + 1]
    assert all(len(r) == 18 for r in read(out / "redcap" / "data_dictionary.csv"))


@pytest.mark.req("EXP-03")
def test_dictionary_defines_every_item_with_its_codes(out: Path) -> None:
    rows = read(out / "redcap" / "data_dictionary.csv")[1:]
    assert rows[0][:4] == ["record_id", "registration", "", "text"]
    by_name = {r[0]: r for r in rows}
    for instrument_id in ("odi", "sf36"):
        for item in load_instrument(instrument_id).items:
            row = by_name[item.id]
            assert (row[1], row[3]) == (instrument_id, "radio")
            codes = [c.split(",", 1)[0] for c in row[5].split(" | ")]
            assert codes == [str(c) for c in item.codes]
    vas = by_name["vas_pain"]
    assert (vas[3], vas[7], vas[8], vas[9]) == ("text", "number_1dp", "0", "100")
    assert load_instrument("odi").checksum in by_name["odi_01"][17]
    assert all(c.isalnum() or c == "_" for r in rows for c in r[0])
    assert {"vas_score", "odi_score", "sf36_pcs", "sf36_mcs", "rand36_ht"} <= set(by_name)


def test_unique_event_names_follow_redcaps_rule_on_a_real_export() -> None:
    rows = read(EXAMPLES / "longitudinal.event.csv")
    assert rows[0][:3] == ["event_name", "arm_num", "unique_event_name"]
    for name, arm, unique, *_ in rows[1:]:
        assert unique_event_name(name, int(arm)) == unique


def test_events_and_designations_cover_every_visit(out: Path) -> None:
    study = load_study()
    events = read(out / "redcap" / "events.csv")
    # the columns of REDCap 14.7's own event export
    assert events[0] == read(EXAMPLES / "longitudinal.event.csv")[0]
    assert [e[0].split()[0] for e in events[1:]] == list(study.visit_codes)
    assert [e[2] for e in events[1:]] == [unique_event_name(e[0]) for e in events[1:]]
    assert events[1][3] == "day 0 (-14/+0)" and events[5][3] == "day 365 (-30/+30)"
    design = read(out / "redcap" / "instrument_designation.csv")
    assert design[0] == ["arm_num", "unique_event_name", "form"]
    pairs = {(d[1], d[2]) for d in design[1:]}
    assert ("m0_baseline_arm_1", "registration") in pairs
    assert ("m12_12_months_arm_1", "sf36") in pairs
    assert read(out / "redcap" / "arms.csv") == [["arm_num", "name"], ["1", study.id]]


def test_records_are_flat_longitudinal_rows_in_dictionary_order(out: Path) -> None:
    rows = read(out / "redcap" / "records.csv")
    head = rows[0]
    assert head[:2] == ["record_id", "redcap_event_name"]
    dictionary = read(out / "redcap" / "data_dictionary.csv")[1:]
    expected: list[str] = []
    form = None
    for name, field_form, *_ in dictionary:
        if form is not None and field_form != form:
            expected.append(f"{form}_complete")
        form = field_form
        if name != "record_id":
            expected.append(name)
    expected.append(f"{form}_complete")
    assert head[2:] == expected
    design = {(d[1], d[2]) for d in read(out / "redcap" / "instrument_designation.csv")[1:]}
    for row in rows[1:]:
        values = dict(zip(head, row, strict=True))
        event = values["redcap_event_name"]
        for form in ("registration", "visit", "vas", "odi", "sf36", "scores"):
            if values[f"{form}_complete"]:
                assert (event, form) in design, (event, form)


def test_record_values_and_completion_match_the_wide_csv(out: Path) -> None:
    rows = read(out / "redcap" / "records.csv")
    head = rows[0]
    records = {(r[0], r[1]): dict(zip(head, r, strict=True)) for r in rows[1:]}
    with open(out / "csv" / "visits_wide.csv", newline="", encoding="utf-8") as f:
        wide = list(csv.DictReader(f))
    checked = 0
    for w in wide:
        event = unique_event_name(f"{w['visit']} {load_study().visit(w['visit']).label['en']}")
        r = records.get((w["subject_id"], event))
        if w["status"] in ("complete", "parked"):
            assert r is not None
            for item in ("odi_01", "odi_08", "sf36_05", "sf36_36"):
                assert r[item] == ("SKIP" if w[item] == ".S" else w[item])
            assert float(r["vas_pain"]) == float(w["vas_pain"])
            expected = "2" if w["status"] == "complete" else "0"
            assert r["vas_complete"] == expected
            if w["status"] == "complete":
                assert float(r["sf36_pcs"]) == float(w["SF36_PCS"])
                assert r["rand36_ht"] == w["RAND36_HT"]
            checked += 1
    assert checked == 7
    assert records["RSP-01-003", "m0_baseline_arm_1"]["registration_complete"] == "2"
    assert records["RSP-01-001", "m0_baseline_arm_1"]["year_of_birth"] == "1961"


def test_missing_data_codes_visit_dates_and_missed_visits(out: Path) -> None:
    project = read(out / "redcap" / "project.csv")
    assert project[0] == ["project_title", "is_longitudinal", "missing_data_codes"]
    assert project[1][2] == (
        "SKIP, Skipped by the patient | UNCOMP, Uncomputable (too many items skipped) | "
        "INCMP, Session not finished (parked or in progress) | "
        "WDRAWN, Subject withdrawn before the visit"
    )
    rows = read(out / "redcap" / "records.csv")
    head = rows[0]
    records = {(r[0], r[1]): dict(zip(head, r, strict=True)) for r in rows[1:]}
    m0 = records["RSP-01-001", "m0_baseline_arm_1"]
    assert (m0["odi_08"], m0["sf36_05"], m0["odi_01"]) == ("SKIP", "SKIP", "3")
    # day 0 = 2026-03-02 - 400 days; M6 on day 182
    m6 = records["RSP-01-001", "m6_6_months_arm_1"]
    assert (m6["visit_date"], m6["visit_status"], m6["visit_complete"]) == ("2025-07-27", "1", "2")
    missed = records["RSP-01-001", "m3_3_months_arm_1"]
    assert (missed["visit_status"], missed["missed_reason"]) == ("5", "subject unreachable")
    assert missed["vas_pain"] == "" and missed["vas_complete"] == ""
    parked = records["RSP-01-002", "m3_3_months_arm_1"]
    assert (parked["visit_date"], parked["visit_status"]) == ("2026-02-25", "3")
    design = {(d[1], d[2]) for d in read(out / "redcap" / "instrument_designation.csv")[1:]}
    assert ("m3_3_months_arm_1", "visit") in design
    dictionary = {r[0]: r for r in read(out / "redcap" / "data_dictionary.csv")[1:]}
    assert "| 5, Missed |" in dictionary["visit_status"][5]
    assert dictionary["visit_status"][5].endswith(
        "6, Withdrawn (the subject left the study before this visit was done)"
    )
