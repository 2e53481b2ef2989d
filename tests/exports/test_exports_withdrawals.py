"""Withdrawals and subject / visit facts in the exports (issue 14), against values worked out by
hand from the scenario (`support.exports.scenario_db`, test day 2026-03-02):

RSP-01-001: day 0 = 2026-03-02 - 400 days = 2025-01-26, born 1961; M0 day 0, M1 day 30
(2025-02-25), M3 missed, M6 day 182 (2025-07-27), M12 day 365 (2026-01-26), M24 not due.
RSP-01-002: day 0 = 2026-03-02 - 100 days = 2025-11-22; M0, M1 submitted, M3 parked; withdrawn
here on 2026-02-28 (day 98): M3 (window closes day 105), M6, M12 and M24 are ``withdrawn``.
"""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pyreadstat
import pytest

from respine_desktop import exports, storage
from respine_desktop.exports.redcap import export_redcap
from respine_desktop.exports.stats import export_stats
from tests.support.exports import NOW, controlled_clock, odm_errors, scenario_db
from tests.support.storage import coord

NS = "{http://www.cdisc.org/ns/odm/v1.3}"
REASON = "moved abroad, Łódź ő ğ"
WITHDRAWN_ON = date(2026, 2, 28)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    root = tmp_path_factory.mktemp("withdrawals")
    scenario_db(root / "study.db")
    with controlled_clock(), storage.open_database(root / "study.db") as db:
        staff = coord(db)
        storage.withdraw_subject(db, "RSP-01-002", staff=staff, on=WITHDRAWN_ON, reason=REASON)
        exports.export_csv(db, root / "csv", workers=1)
        exports.export_odm(db, root / "s.xml")
        exports.export_odm(db, root / "h.xml", history=True)
        export_stats(db, root / "stats")
        export_redcap(db, root / "redcap")
        staff_id = staff.id
    yield root, staff_id


def wide(root: Path) -> dict[tuple[str, str], dict[str, str]]:
    with (root / "csv" / "visits_wide.csv").open(encoding="utf-8", newline="") as f:
        return {(r["subject_id"], r["visit"]): r for r in csv.DictReader(f)}


def test_visits_wide_carries_the_withdrawal_and_the_withdrawn_code(
    out: tuple[Path, str],
) -> None:
    rows = wide(out[0])
    for visit in ("M0", "M1", "M3", "M6", "M12", "M24"):
        row = rows["RSP-01-002", visit]
        assert (row["withdrawn_on"], row["withdrawal_reason"]) == ("2026-02-28", REASON)
        assert rows["RSP-01-001", visit]["withdrawn_on"] == ""
        assert rows["RSP-01-001", visit]["withdrawal_reason"] == ""
    statuses = [rows["RSP-01-002", v]["status"] for v in ("M0", "M1", "M3", "M6", "M12", "M24")]
    assert statuses == ["complete", "complete", "withdrawn", "withdrawn", "withdrawn", "withdrawn"]
    m3 = rows["RSP-01-002", "M3"]
    assert m3["vas_pain"] == "75.5"  # what the parked session recorded stays
    assert m3["VAS"] == ".W" and m3["VAS_CHG"] == ".W"
    m6 = rows["RSP-01-002", "M6"]
    assert (m6["odi_01"], m6["ODI"], m6["RESPONDER"]) == (".W", ".W", ".W")
    assert m6["session_id"] == "" and m6["visit_number"] == "4"
    assert rows["RSP-01-002", "M1"]["VAS"] == "79"  # done before the withdrawal
    assert rows["RSP-01-001", "M3"]["status"] == "missed"
    assert rows["RSP-01-001", "M24"]["VAS"] == ".N"


def test_the_codebook_documents_the_columns_and_the_code(out: tuple[Path, str]) -> None:
    root = out[0]
    with (root / "csv" / "codebook.csv").open(encoding="utf-8", newline="") as f:
        book = list(csv.DictReader(f))
    wide_rows = [r for r in book if r["file"] == "visits_wide.csv"]
    names = [r["column"] for r in wide_rows if r["description"]]
    assert names.index("withdrawn_on") == names.index("status") + 1
    assert names.index("withdrawal_reason") == names.index("status") + 2
    assert any(r["column"] == "status" and r["code"] == "withdrawn" for r in wide_rows)
    assert any(
        r["column"] == "VAS"
        and r["code"] == ".W"
        and r["code_label"] == "missing: subject withdrawn"
        for r in wide_rows
    )


def test_stats_files_carry_the_withdrawal_and_its_missing_code(out: tuple[Path, str]) -> None:
    root = out[0] / "stats"
    frame, meta = pyreadstat.read_sav(str(root / "visits_wide.sav"), user_missing=True)
    rows: dict[tuple[str, str], dict[str, Any]] = {
        (r["subject_id"], r["visit"]): r for r in frame.to_dict("records")
    }
    assert rows["RSP-01-002", "M6"]["VAS"] == -9997
    assert meta.variable_value_labels["VAS"][-9997.0] == "missing: subject withdrawn"
    assert rows["RSP-01-002", "M6"]["withdrawal_reason"] == REASON
    assert str(rows["RSP-01-002", "M6"]["withdrawn_on"])[:10] == "2026-02-28"
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["withdrawn_on"].startswith("day the subject withdrew")
    dta, dmeta = pyreadstat.read_dta(str(root / "visits_wide.dta"), user_missing=True)
    stata = {(r["subject_id"], r["visit"]): r for r in dta.to_dict("records")}
    assert stata["RSP-01-002", "M12"]["ODI"] == "w"
    assert dmeta.variable_value_labels["ODI"]["w"] == "missing: subject withdrawn"
    xpt, xmeta = pyreadstat.read_xport(str(root / "visits_wide.xpt"))
    assert {"WDRAWNDT", "WDREASON"} <= set(xmeta.column_names)
    sas = {(r["SUBJID"], r["VISIT"]): r for r in xpt.to_dict("records")}
    assert sas["RSP-01-002", "M24"]["VAS"] == -9997
    script = (root / "read_stats.sas").read_text(encoding="utf-8")
    assert "if _n(_i) = -9997 then _n(_i) = .W;" in script
    with (root / "stats_names.csv").open(encoding="utf-8") as f:
        text = f.read()
    assert "withdrawn_on" in text and "WDRAWNDT" in text


@pytest.mark.parametrize("name", ["s.xml", "h.xml"])
def test_both_odm_files_validate(out: tuple[Path, str], name: str) -> None:
    assert odm_errors(out[0] / name) == []


def subject(root: Path, name: str, code: str) -> ET.Element:
    found = ET.parse(root / name).getroot().find(f".//{NS}SubjectData[@SubjectKey='{code}']")
    assert found is not None
    return found


def values(element: ET.Element, form: str) -> dict[str, str]:
    return {
        str(i.get("ItemOID")): str(i.get("Value"))
        for f in element.iter(f"{NS}FormData")
        if f.get("FormOID") == form
        for i in f.iter(f"{NS}ItemData")
    }


def event(element: ET.Element, oid: str) -> ET.Element | None:
    return next((e for e in element if e.get("StudyEventOID") == oid), None)


def test_odm_metadata_declares_the_subject_and_visit_forms(out: tuple[Path, str]) -> None:
    mdv = ET.parse(out[0] / "s.xml").getroot().find(f".//{NS}MetaDataVersion")
    assert mdv is not None
    refs = mdv.findall(f"{NS}Protocol/{NS}StudyEventRef")
    assert [r.get("StudyEventOID") for r in refs][:2] == ["SE.SUBJECT", "SE.M0"]
    assert [int(str(r.get("OrderNumber"))) for r in refs] == list(range(1, 8))
    m1 = mdv.find(f"{NS}StudyEventDef[@OID='SE.M1']")
    assert m1 is not None
    forms = m1.findall(f"{NS}FormRef")
    assert forms[0].get("FormOID") == "F.VISIT"
    assert [int(str(f.get("OrderNumber"))) for f in forms] == list(range(1, len(forms) + 1))
    items = {str(d.get("OID")): str(d.get("DataType")) for d in mdv.findall(f"{NS}ItemDef")}
    assert {
        k: items[k]
        for k in (
            "IT.DAY0",
            "IT.YEAR_OF_BIRTH",
            "IT.WITHDRAWN_ON",
            "IT.WITHDRAWAL_REASON",
            "IT.VISIT_NUMBER",
            "IT.VISIT_DATE",
            "IT.STUDY_DAY",
            "IT.SESSION_ID",
            "IT.VISIT_STATUS",
        )
    } == {
        "IT.DAY0": "date",
        "IT.YEAR_OF_BIRTH": "integer",
        "IT.WITHDRAWN_ON": "date",
        "IT.WITHDRAWAL_REASON": "text",
        "IT.VISIT_NUMBER": "integer",
        "IT.VISIT_DATE": "date",
        "IT.STUDY_DAY": "integer",
        "IT.SESSION_ID": "text",
        "IT.VISIT_STATUS": "text",
    }
    lang = "{http://www.w3.org/XML/1998/namespace}lang"
    question = mdv.findall(f"{NS}ItemDef[@OID='IT.DAY0']/{NS}Question/{NS}TranslatedText")
    fr = next((t for t in question if t.get(lang) == "fr"), None)
    assert fr is not None and fr.text == "Jour 0 (le jour de l'injection)"
    statuses = mdv.findall(f"{NS}CodeList[@OID='CL.VISIT_STATUS']/{NS}CodeListItem")
    assert "withdrawn" in {s.get("CodedValue") for s in statuses}


def test_odm_snapshot_has_day0_birth_year_withdrawal_and_visit_facts(
    out: tuple[Path, str],
) -> None:
    one = subject(out[0], "s.xml", "RSP-01-001")
    first = one.find(f"{NS}StudyEventData")
    assert first is not None and first.get("StudyEventOID") == "SE.SUBJECT"
    assert values(one, "F.SUBJECT") == {"IT.DAY0": "2025-01-26", "IT.YEAR_OF_BIRTH": "1961"}
    assert values(one, "F.WITHDRAWAL") == {}
    facts = {
        e.get("StudyEventOID"): values(e, "F.VISIT") for e in one.findall(f"{NS}StudyEventData")
    }
    with storage.open_database(out[0] / "study.db", readonly=True) as db:
        session_of = {s.visit_code: s.id for s in storage.subject_sessions(db, "RSP-01-001")}
    assert facts["SE.M6"] == {
        "IT.VISIT_NUMBER": "4",
        "IT.VISIT_DATE": "2025-07-27",
        "IT.STUDY_DAY": "182",
        "IT.SESSION_ID": session_of["M6"],
        "IT.VISIT_STATUS": "complete",
    }
    assert facts["SE.M1"]["IT.STUDY_DAY"] == "30"
    assert facts["SE.M1"]["IT.VISIT_DATE"] == "2025-02-25"
    assert facts["SE.M3"] == {"IT.VISIT_NUMBER": "3", "IT.VISIT_STATUS": "missed"}
    assert "SE.M24" not in facts  # not due: nothing to say
    two = subject(out[0], "s.xml", "RSP-01-002")
    assert values(two, "F.SUBJECT") == {"IT.DAY0": "2025-11-22"}  # no year of birth recorded
    assert values(two, "F.WITHDRAWAL") == {
        "IT.WITHDRAWN_ON": "2026-02-28",
        "IT.WITHDRAWAL_REASON": REASON,
    }
    m12 = event(two, "SE.M12")
    assert m12 is not None
    assert values(m12, "F.VISIT") == {"IT.VISIT_NUMBER": "5", "IT.VISIT_STATUS": "withdrawn"}
    m3 = event(two, "SE.M3")
    assert m3 is not None and values(m3, "F.VISIT")["IT.VISIT_STATUS"] == "withdrawn"
    assert values(m3, "F.VISIT")["IT.STUDY_DAY"] == "95"  # the parked session's day


def test_odm_history_audits_the_withdrawal(out: tuple[Path, str]) -> None:
    root, staff_id = out
    two = subject(root, "h.xml", "RSP-01-002")
    se = event(two, "SE.SUBJECT")
    assert se is not None and se.get("TransactionType") == "Upsert"
    form = next(f for f in se.findall(f"{NS}FormData") if f.get("FormOID") == "F.WITHDRAWAL")
    record = form.find(f"{NS}AuditRecord")
    assert record is not None
    user = record.find(f"{NS}UserRef")
    assert user is not None and user.get("UserOID") == f"USR.{staff_id}"
    assert record.findtext(f"{NS}DateTimeStamp") == NOW.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    assert record.findtext(f"{NS}ReasonForChange") == REASON
    items = list(form.iter(f"{NS}ItemData"))
    assert {i.get("TransactionType") for i in items} == {"Insert"}
    assert values(se, "F.WITHDRAWAL")["IT.WITHDRAWN_ON"] == "2026-02-28"
    # a withdrawn visit with nothing recorded is there, audited by the withdrawal
    m24 = event(two, "SE.M24")
    assert m24 is not None
    assert m24.findtext(f"{NS}AuditRecord/{NS}ReasonForChange") == REASON
    assert values(m24, "F.VISIT") == {"IT.VISIT_NUMBER": "6", "IT.VISIT_STATUS": "withdrawn"}
    # the snapshot and the history agree on every visit fact
    snap = subject(root, "s.xml", "RSP-01-002")
    for e in snap.findall(f"{NS}StudyEventData"):
        other = event(two, str(e.get("StudyEventOID")))
        assert other is not None
        assert values(other, "F.VISIT") == values(e, "F.VISIT")


def test_redcap_dictionary_and_records_carry_the_withdrawal(out: tuple[Path, str]) -> None:
    root = out[0] / "redcap"
    with (root / "data_dictionary.csv").open(encoding="utf-8", newline="") as f:
        fields = {r[0]: r for r in csv.reader(f)}
    assert fields["withdrawn_on"][1] == "registration"
    assert fields["withdrawn_on"][7] == "date_ymd"
    assert fields["withdrawal_reason"][3] == "notes"
    assert "6, Withdrawn" in fields["visit_status"][5]
    with (root / "records.csv").open(encoding="utf-8", newline="") as f:
        records = {(r["record_id"], r["redcap_event_name"]): r for r in csv.DictReader(f)}
    base = records["RSP-01-002", "m0_baseline_arm_1"]
    assert (base["withdrawn_on"], base["withdrawal_reason"]) == ("2026-02-28", REASON)
    assert records["RSP-01-001", "m0_baseline_arm_1"]["withdrawn_on"] == ""
    m6 = next(r for (code, event), r in records.items() if code == "RSP-01-002" and "m6" in event)
    assert (m6["visit_status"], m6["visit_complete"], m6["session_id"]) == ("6", "2", "")
    m3 = next(r for (code, event), r in records.items() if code == "RSP-01-002" and "m3" in event)
    assert m3["visit_status"] == "6" and m3["vas_pain"] == "75.5"
    with (root / "project.csv").open(encoding="utf-8", newline="") as f:
        project = list(csv.reader(f))
    assert "WDRAWN, Subject withdrawn before the visit" in project[1][2]
