"""Electronic signatures in the ODM 1.3.2 export (issues 13, 14): a signed visit or subject carries
its Signature (user, location, SignatureDef with the meaning, time), validated against the shipped
XSD with every reference resolved; a correction after signing leaves no Signature that looks
valid but a SIGNATURE_BROKEN annotation; signing again gives a valid Signature again; a document
signature (validate's) is not clinical data. Both snapshot and --history."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from respine_desktop import exports, storage
from respine_desktop.storage import StudyDb
from tests.support.cli import main_py
from tests.support.exports import (
    DATA,
    NOW,
    PYTHON,
    controlled_clock,
    odm_errors,
    odm_validator,
    scenario_db,
)
from tests.support.storage import ADMIN_PIN, INV_PIN, inv

NS = {"odm": "http://www.cdisc.org/ns/odm/v1.3"}
S1 = "RSP-01-001"
KINDS = ("snapshot", "history")


@dataclass(frozen=True)
class Files:
    root: Path
    signed: dict[str, Any]  # name -> Signature
    device_site: str

    def tree(self, stage: str, kind: str) -> Any:
        return odm_validator().parse(self.root / f"{stage}-{kind}.xml").getroot()


def _export(db: StudyDb, root: Path, stage: str) -> None:
    exports.export_odm(db, root / f"{stage}-snapshot.xml")
    exports.export_odm(db, root / f"{stage}-history.xml", history=True)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Files]:
    """Three stages: signed; M6 corrected after signing (broken); M6 signed again."""
    root = tmp_path_factory.mktemp("odm-signatures")
    scenario_db(root / "base.db")
    shutil.copy(root / "base.db", root / "study.db")
    signed: dict[str, Any] = {}
    with (
        controlled_clock(NOW + timedelta(days=1)) as c,
        storage.open_database(root / "study.db") as db,
    ):
        signed["m12"] = storage.sign(db, username="inv", pin=INV_PIN, subject_code=S1,
                                     visit_code="M12", meaning="approved")  # fmt: skip
        c.at(NOW + timedelta(days=1, minutes=5))
        signed["m6"] = storage.sign(db, username="inv", pin=INV_PIN, subject_code=S1,
                                    visit_code="M6", meaning="reviewed")  # fmt: skip
        c.at(NOW + timedelta(days=1, minutes=10))
        signed["subject"] = storage.sign(db, username="admin", pin=ADMIN_PIN, subject_code=S1,
                                         meaning="responsibility")  # fmt: skip
        report = hashlib.sha256(b"qualification report").hexdigest()
        signed["document"] = storage.sign_document(
            db, username="inv", pin=INV_PIN, document_sha256=report, title="Qualification"
        )
        site = db.site_code
        _export(db, root, "signed")
        c.at(NOW + timedelta(days=2))
        m6 = storage.chosen_session(db, S1, "M6")
        assert m6 is not None
        storage.correct_answer(db, m6, "odi_02", 3, staff=inv(db), reason="misread by patient")
        _export(db, root, "broken")
        c.at(NOW + timedelta(days=3))
        signed["m6_again"] = storage.sign(db, username="inv", pin=INV_PIN, subject_code=S1,
                                          visit_code="M6", meaning="approved")  # fmt: skip
        _export(db, root, "again")
    yield Files(root, signed, site)


def event(root: Any, visit: str, subject: str = S1) -> Any:
    (found,) = root.xpath(
        f"//odm:SubjectData[@SubjectKey='{subject}']/odm:StudyEventData"
        f"[@StudyEventOID='SE.{visit}']",
        namespaces=NS,
    )
    return found


def subject_data(root: Any, subject: str = S1) -> Any:
    (found,) = root.xpath(f"//odm:SubjectData[@SubjectKey='{subject}']", namespaces=NS)
    return found


def signature(element: Any) -> dict[str, str] | None:
    """The element's own Signature as a dict (None without one)."""
    found = element.xpath("odm:Signature", namespaces=NS)
    if not found:
        return None
    (sig,) = found
    return {
        "id": sig.get("ID"),
        "user": sig.xpath("string(odm:UserRef/@UserOID)", namespaces=NS),
        "location": sig.xpath("string(odm:LocationRef/@LocationOID)", namespaces=NS),
        "def": sig.xpath("string(odm:SignatureRef/@SignatureOID)", namespaces=NS),
        "at": sig.xpath("string(odm:DateTimeStamp)", namespaces=NS),
    }


def notes(element: Any) -> list[tuple[str, str]]:
    """(flag, comment) of the element's own signature annotations."""
    out = []
    for a in element.xpath("odm:Annotation", namespaces=NS):
        flag = a.xpath("string(odm:Flag/odm:FlagValue)", namespaces=NS)
        if flag in ("SIGNATURE_BROKEN", "SIGNED"):
            out.append((flag, a.xpath("string(odm:Comment)", namespaces=NS)))
    return out


def meaning_of(root: Any, def_oid: str) -> str:
    (defn,) = root.xpath(f"//odm:AdminData/odm:SignatureDef[@OID='{def_oid}']", namespaces=NS)
    assert defn.get("Methodology") == "Electronic"
    assert "21 CFR Part 11" in defn.xpath("string(odm:LegalReason)", namespaces=NS)
    return str(defn.xpath("string(odm:Meaning)", namespaces=NS))


@pytest.mark.req("SIG-06")
@pytest.mark.parametrize("stage", ["signed", "broken", "again"])
@pytest.mark.parametrize("kind", KINDS)
def test_every_stage_validates_against_the_xsd_with_every_reference_resolved(
    files: Files, stage: str, kind: str
) -> None:
    assert odm_errors(files.root / f"{stage}-{kind}.xml") == []


@pytest.mark.req("SIG-06")
@pytest.mark.parametrize("kind", KINDS)
def test_a_signed_visit_and_subject_carry_their_signature_user_meaning_and_time(
    files: Files, kind: str
) -> None:
    root = files.tree("signed", kind)
    m12, m6, whole = files.signed["m12"], files.signed["m6"], files.signed["subject"]
    assert signature(event(root, "M12")) == {
        "id": f"SIG.{m12.id}",
        "user": f"USR.{m12.staff_id}",
        "location": f"LOC.{files.device_site.upper()}",
        "def": "SD.APPROVED",
        "at": m12.signed_at,
    }
    assert m12.signed_at.startswith((NOW + timedelta(days=1)).date().isoformat())
    assert meaning_of(root, "SD.APPROVED") == "I approve these data as accurate and complete"
    at_m6 = signature(event(root, "M6"))
    assert at_m6 is not None and (at_m6["def"], at_m6["at"]) == ("SD.REVIEWED", m6.signed_at)
    assert meaning_of(root, "SD.REVIEWED") == "I have reviewed these data"
    subj = signature(subject_data(root))
    assert subj is not None and subj["user"] == f"USR.{whole.staff_id}"
    assert subj["def"] == "SD.RESPONSIBILITY" and subj["at"] == whole.signed_at
    # the signer is a User of AdminData, with the username that signed
    (user,) = root.xpath(f"//odm:AdminData/odm:User[@OID='USR.{m12.staff_id}']", namespaces=NS)
    assert user.xpath("string(odm:LoginName)", namespaces=NS) == "inv"
    # the schema's content order: after the element's AuditRecord, before SiteRef / Annotation
    names = [c.tag.split("}")[1] for c in subject_data(root)][:4]
    assert names.index("Signature") < names.index("SiteRef")
    assert notes(event(root, "M12")) == [] and notes(subject_data(root)) == []
    # an unsigned visit and another subject carry no signature
    assert signature(event(root, "M0")) is None
    assert (
        root.xpath("//odm:SubjectData[@SubjectKey!='RSP-01-001']//odm:Signature", namespaces=NS)
        == []
    )


@pytest.mark.req("SIG-06")
@pytest.mark.parametrize("kind", KINDS)
def test_a_correction_after_signing_leaves_no_valid_looking_signature_but_a_broken_mark(
    files: Files, kind: str
) -> None:
    root = files.tree("broken", kind)
    m6, whole = files.signed["m6"], files.signed["subject"]
    assert signature(event(root, "M6")) is None
    ((flag, comment),) = notes(event(root, "M6"))
    assert flag == "SIGNATURE_BROKEN"
    assert comment.startswith(f"SIGNATURE_BROKEN signature {m6.id} by inv (investigator)")
    assert "meaning reviewed" in comment and m6.signed_at in comment
    assert comment.endswith("not signed again")
    # the whole casebook covered M6 too: broken as well
    assert signature(subject_data(root)) is None
    ((flag, comment),) = notes(subject_data(root))
    assert flag == "SIGNATURE_BROKEN" and whole.id in comment
    # M12 did not change: still signed
    at_m12 = signature(event(root, "M12"))
    assert at_m12 is not None and at_m12["id"] == f"SIG.{files.signed['m12'].id}"
    # the flags are defined in the metadata's code lists
    values = root.xpath("//odm:CodeList[@OID='CL.FLAG.VALUE']/odm:CodeListItem/@CodedValue",
                        namespaces=NS)  # fmt: skip
    assert {"SIGNATURE_BROKEN", "SIGNED"} <= set(values)
    types = root.xpath("//odm:CodeList[@OID='CL.FLAG.TYPE']/odm:CodeListItem/@CodedValue",
                       namespaces=NS)  # fmt: skip
    assert "SIGNATURE" in types


@pytest.mark.req("SIG-06")
@pytest.mark.parametrize("kind", KINDS)
def test_signing_again_shows_a_valid_signature_and_keeps_the_broken_one_as_a_note(
    files: Files, kind: str
) -> None:
    root = files.tree("again", kind)
    again, m6 = files.signed["m6_again"], files.signed["m6"]
    sig = signature(event(root, "M6"))
    assert sig is not None
    assert (sig["id"], sig["def"], sig["at"]) == (f"SIG.{again.id}", "SD.APPROVED",
                                                  again.signed_at)  # fmt: skip
    ((flag, comment),) = notes(event(root, "M6"))
    assert flag == "SIGNATURE_BROKEN" and m6.id in comment
    assert comment.endswith(f"signed again since: {again.id}")
    # the subject signature was not renewed: still broken
    assert signature(subject_data(root)) is None


@pytest.mark.req("SIG-06")
@pytest.mark.parametrize("kind", KINDS)
def test_a_document_signature_is_not_in_the_clinical_data(files: Files, kind: str) -> None:
    root = files.tree("again", kind)
    document = files.signed["document"]
    text = (files.root / f"again-{kind}.xml").read_text(encoding="utf-8")
    assert document.id not in text and "Qualification" not in text
    assert "SD.PERFORMED" not in text
    ids = {s.get("ID") for s in root.xpath("//odm:Signature", namespaces=NS)}
    assert ids == {f"SIG.{files.signed['m12'].id}", f"SIG.{files.signed['m6_again'].id}"}


def _validates(path: Path) -> None:
    """The reference validator command (a child process) accepts `path`."""
    run = subprocess.run(
        [PYTHON, str(DATA / "schemas" / "odm_validate.py"), str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert run.returncode == 0 and f"{path}: valid" in run.stdout, run.stdout + run.stderr


@pytest.mark.req("SIG-06", "SIG-03")
def test_sign_correct_sign_again_and_export_through_the_commands(files: Files) -> None:
    """Issue 13's done-when through real processes: `sign`, a correction, `export odm`
    (broken, validated), `sign` again, `export odm` (valid again, validated)."""
    db = files.root / "cli.db"
    shutil.copy(files.root / "base.db", db)

    def sign(meaning: str) -> None:
        run = main_py("sign", "--db", db, "--subject", S1, "--visit", "M6", "--meaning", meaning,
                      user="inv", pin=INV_PIN)  # fmt: skip
        assert run.returncode == 0, run.stderr

    def export(name: str, *options: str) -> Any:
        run = main_py("export", "odm", "--db", db, "--out", files.root / name, *options)
        assert run.returncode == 0, run.stderr
        _validates(files.root / name)
        return odm_validator().parse(files.root / name).getroot()

    sign("reviewed")
    with storage.open_database(db) as opened:
        (first,) = storage.list_signatures(opened, S1)
        m6 = storage.chosen_session(opened, S1, "M6")
        assert m6 is not None
        storage.correct_answer(opened, m6, "odi_04", 2, staff=inv(opened), reason="re-read")
    root = export("cli-broken.xml", "--history")
    assert signature(event(root, "M6")) is None
    ((flag, comment),) = notes(event(root, "M6"))
    assert flag == "SIGNATURE_BROKEN" and first.id in comment
    sign("approved")
    with storage.open_database(db, readonly=True) as opened:
        again = storage.list_signatures(opened, S1)[-1]
    for name, options in (("cli-again.xml", ()), ("cli-again-history.xml", ("--history",))):
        root = export(name, *options)
        sig = signature(event(root, "M6"))
        assert sig is not None and (sig["id"], sig["def"]) == (f"SIG.{again.id}", "SD.APPROVED")
        assert sig["user"] == f"USR.{again.staff_id}" and sig["at"] == again.signed_at
