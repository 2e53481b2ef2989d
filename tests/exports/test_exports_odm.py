"""CDISC ODM 1.3.2 export: both file types validate against the official XSD, every OID reference
resolved (odm_validate.py), the snapshot holds the current values, --history every answer version
with its AuditRecord, and skipped items are IsNull with a SKIPPED flag."""

from __future__ import annotations

import csv
import subprocess
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import exports, storage
from tests.support.exports import (
    DATA,
    PYTHON,
    TODAY,
    controlled_clock,
    demo_db,
    do_visit,
    new_db,
    odm_errors,
    odm_validator,
    scenario_db,
)
from tests.support.storage import coord, inv

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("odm")
    scenario_db(root / "study.db")
    with controlled_clock(), storage.open_database(root / "study.db", readonly=True) as db:
        exports.export_odm(db, root / "snapshot.xml")
        exports.export_odm(db, root / "history.xml", history=True)
    yield root


def tree(path: Path):  # type: ignore[no-untyped-def]
    return odm_validator().parse(path)


@pytest.mark.req("EXP-01")
@pytest.mark.parametrize("name", ["snapshot.xml", "history.xml"])
def test_every_export_validates_with_every_reference_resolved(files: Path, name: str) -> None:
    assert odm_errors(files / name) == []


@pytest.mark.parametrize("name", ["snapshot.xml", "history.xml"])
def test_the_reference_validator_command_accepts_the_file(files: Path, name: str) -> None:
    run = subprocess.run(
        [PYTHON, str(DATA / "schemas" / "odm_validate.py"), str(files / name)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{files / name}: valid" in run.stdout


def test_a_demo_study_validates_in_both_file_types(tmp_path: Path) -> None:
    demo_db(tmp_path / "demo.db", subjects=12)
    with controlled_clock(), storage.open_database(tmp_path / "demo.db", readonly=True) as db:
        exports.export_odm(db, tmp_path / "s.xml")
        exports.export_odm(db, tmp_path / "h.xml", history=True)
    assert odm_errors(tmp_path / "s.xml") == []
    assert odm_errors(tmp_path / "h.xml") == []


def test_metadata_defines_visits_forms_items_code_lists_and_texts(files: Path) -> None:
    root = tree(files / "snapshot.xml").getroot()
    events = root.xpath("//odm:StudyEventDef/@OID", namespaces=NS)
    assert events == ["SE.SUBJECT", "SE.M0", "SE.M1", "SE.M3", "SE.M6", "SE.M12", "SE.M24"]
    assert set(root.xpath("//odm:FormDef/@OID", namespaces=NS)) == {
        "F.VAS",
        "F.ODI",
        "F.SF36",
        "F.SCORES",
        "F.SUBJECT",
        "F.WITHDRAWAL",
        "F.VISIT",
    }
    assert len(root.xpath("//odm:ItemGroupDef[@OID='IG.ODI']/odm:ItemRef", namespaces=NS)) == 10
    question = root.xpath(
        "//odm:ItemDef[@OID='IT.ODI_03']/odm:Question/odm:TranslatedText/text()", namespaces=NS
    )
    assert question == ["Section 3: Lifting"]
    vas_fr = root.xpath(
        "//odm:ItemDef[@OID='IT.VAS_PAIN']/odm:Question/odm:TranslatedText[@xml:lang='fr']",
        namespaces=NS,
    )
    assert len(vas_fr) == 1
    ref = root.xpath("//odm:ItemDef[@OID='IT.ODI_03']/odm:CodeListRef/@CodeListOID", namespaces=NS)
    decodes = root.xpath(
        f"//odm:CodeList[@OID='{ref[0]}']/odm:CodeListItem/@CodedValue", namespaces=NS
    )
    assert decodes == ["0", "1", "2", "3", "4", "5"]
    assert root.xpath("//odm:AdminData/odm:Location/@OID", namespaces=NS) == ["LOC.01"]


def test_snapshot_holds_current_values_without_audit_records(files: Path) -> None:
    root = tree(files / "snapshot.xml").getroot()
    assert root.get("FileType") == "Snapshot"
    assert root.xpath("//odm:AuditRecord", namespaces=NS) == []
    m1 = root.xpath(
        "//odm:SubjectData[@SubjectKey='RSP-01-001']/odm:StudyEventData[@StudyEventOID='SE.M1']"
        "//odm:ItemData[@ItemOID='IT.ODI_03']/@Value",
        namespaces=NS,
    )
    assert m1 == ["4"]  # the corrected value
    with storage.open_database(files / "study.db", readonly=True) as db:
        current = sum(
            len(storage.current_answers(db, s.id))
            for code in ("RSP-01-001", "RSP-01-002")
            for s in storage.subject_sessions(db, code)
        )
    answers = root.xpath(
        "//odm:FormData[not(@FormOID='F.SUBJECT' or @FormOID='F.VISIT')]"
        "//odm:ItemData[not(starts-with(@ItemOID, 'IT.SCORE.'))]",
        namespaces=NS,
    )
    assert len(answers) == current
    missed = root.xpath(
        "//odm:StudyEventData[@StudyEventOID='SE.M3']/odm:Annotation/odm:Flag/odm:FlagValue/text()",
        namespaces=NS,
    )
    assert missed == ["MISSED"]


def test_skipped_items_are_null_with_a_skipped_flag(files: Path) -> None:
    for name in ("snapshot.xml", "history.xml"):
        root = tree(files / name).getroot()
        nulls = root.xpath(
            "//odm:SubjectData[@SubjectKey='RSP-01-001']/odm:StudyEventData"
            "[@StudyEventOID='SE.M0']//odm:ItemData[@IsNull='Yes']",
            namespaces=NS,
        )
        assert sorted(n.get("ItemOID") for n in nulls) == ["IT.ODI_08", "IT.SF36_05"]
        for n in nulls:
            assert n.get("Value") is None
            flag = n.xpath("odm:Annotation/odm:Flag/odm:FlagValue", namespaces=NS)[0]
            assert flag.text == "SKIPPED" and flag.get("CodeListOID") == "CL.FLAG.VALUE"


def test_answers_of_an_unsubmitted_session_are_flagged_incomplete(files: Path) -> None:
    assert odm_errors(files / "snapshot.xml") == []
    root = tree(files / "snapshot.xml").getroot()
    flagged = root.xpath(
        "//odm:FormData[odm:Annotation/odm:Flag/odm:FlagValue='INCOMPLETE']", namespaces=NS
    )
    where = {
        (f.getparent().getparent().get("SubjectKey"), f.getparent().get("StudyEventOID"))
        for f in flagged
    }
    assert where == {("RSP-01-002", "SE.M3")}  # the parked session only
    assert sorted(f.get("FormOID") for f in flagged) == ["F.ODI", "F.SF36", "F.VAS"]
    for form in flagged:
        flag = form.xpath("odm:Annotation/odm:Flag", namespaces=NS)[0]
        assert flag.xpath("odm:FlagType/text()", namespaces=NS) == ["DATA_REVIEW"]
        assert form.xpath("odm:ItemGroupData/odm:ItemData", namespaces=NS)  # answers so far
    decoded = root.xpath(
        "//odm:CodeList[@OID='CL.FLAG.VALUE']/odm:CodeListItem/@CodedValue", namespaces=NS
    )
    assert "INCOMPLETE" in decoded


def test_history_has_every_answer_version_with_its_audit_record(files: Path) -> None:
    root = tree(files / "history.xml").getroot()
    assert root.get("FileType") == "Transactional"
    items = root.xpath(
        "//odm:ItemData[odm:AuditRecord/odm:SourceID[starts-with(text(), 'answer ')]]",
        namespaces=NS,
    )
    with storage.open_database(files / "study.db", readonly=True) as db:
        total = storage.counts(db).answers
        inv = storage.get_staff(db, "inv")
        devices = {d for (d,) in db.conn.execute("SELECT id FROM devices")}
    assert len(items) == total
    for item in items:
        audit = item.find("odm:AuditRecord", NS)
        assert [c.tag.split("}")[1] for c in audit][:3] == [
            "UserRef",
            "LocationRef",
            "DateTimeStamp",
        ]
        assert item.get("TransactionType") in ("Insert", "Update")
    versions = root.xpath(
        "//odm:SubjectData[@SubjectKey='RSP-01-001']/odm:StudyEventData[@StudyEventOID='SE.M1']"
        "//odm:ItemData[@ItemOID='IT.ODI_03']",
        namespaces=NS,
    )
    assert [(v.get("TransactionType"), v.get("Value")) for v in versions] == [
        ("Insert", "2"),
        ("Update", "4"),
    ]
    correction = versions[1].find("odm:AuditRecord", NS)
    assert correction.find("odm:UserRef", NS).get("UserOID") == f"USR.{inv.id}"
    reason = correction.find("odm:ReasonForChange", NS).text
    assert reason == "patient ticked the wrong statement"
    patient = versions[0].find("odm:AuditRecord/odm:UserRef", NS).get("UserOID")
    assert patient.removeprefix("USR.KIOSK.") in devices


def test_output_is_replaced_only_when_complete(tmp_path: Path) -> None:
    scenario_db(tmp_path / "s.db")
    out = tmp_path / "out.xml"
    out.write_text("previous export")
    with storage.open_database(tmp_path / "s.db", readonly=True) as db:

        def fail(fraction: float, message: str) -> None:
            if 0 < fraction < 1:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            exports.export_odm(db, out, history=True, progress=fail)
    assert out.read_text() == "previous export"
    assert not (tmp_path / "out.xml.partial").exists()


@pytest.mark.parametrize("name", ["snapshot.xml", "history.xml"])
def test_every_other_reference_resolves_too(files: Path, name: str) -> None:
    """Beyond odm_validate's checks: code lists, units and the metadata's own refs."""
    root = tree(files / name).getroot()

    def defined(xpath: str) -> set[str]:
        return set(root.xpath(xpath, namespaces=NS))

    pairs = [
        ("//@CodeListOID", "//odm:CodeList/@OID"),
        ("//@MeasurementUnitOID", "//odm:MeasurementUnit/@OID"),
        ("//odm:StudyEventRef/@StudyEventOID", "//odm:StudyEventDef/@OID"),
        ("//odm:FormRef/@FormOID", "//odm:FormDef/@OID"),
        ("//odm:ItemGroupRef/@ItemGroupOID", "//odm:ItemGroupDef/@OID"),
        ("//odm:ItemRef/@ItemOID", "//odm:ItemDef/@OID"),
        ("//odm:MetaDataVersionRef/@MetaDataVersionOID", "//odm:MetaDataVersion/@OID"),
    ]
    for refs, defs in pairs:
        assert defined(refs) <= defined(defs), refs
    values = set(root.xpath("//odm:FlagValue/text()", namespaces=NS))
    coded = defined("//odm:CodeList[@OID='CL.FLAG.VALUE']/odm:CodeListItem/@CodedValue")
    assert values <= coded


def test_free_text_is_escaped_in_xml_and_csv(tmp_path: Path) -> None:
    """A correction reason with markup, quotes, commas and a line break survives both files."""
    reason = 'R&D <b>"ticked" it, twice</b>\nsecond line'
    with controlled_clock() as c:
        with new_db(tmp_path / "s.db") as db:
            day0 = TODAY - timedelta(days=3)
            storage.register_subject(db, "RSP-01-007", day0=day0, staff=coord(db))
            s = do_visit(db, c, "RSP-01-007", "M0", day0, vas=40.0, odi=2, sf36=2)
            storage.correct_answer(db, s, "odi_01", 5, staff=inv(db), reason=reason)
        with storage.open_database(tmp_path / "s.db", readonly=True) as db:
            exports.export_odm(db, tmp_path / "h.xml", history=True)
            exports.export_csv(db, tmp_path / "csv")
    assert odm_errors(tmp_path / "h.xml") == []
    texts = tree(tmp_path / "h.xml").getroot().xpath("//odm:ReasonForChange/text()", namespaces=NS)
    assert texts == [reason]
    with open(tmp_path / "csv" / "answers_long.csv", newline="", encoding="utf-8") as f:
        reasons = [r["reason"] for r in csv.DictReader(f) if r["reason"]]
    assert reasons == [reason]
