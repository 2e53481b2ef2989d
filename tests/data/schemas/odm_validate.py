#!/usr/bin/env python3
"""Validate CDISC ODM 1.3.2 XML documents against the official XSD set.

Schema set: odm-1.3.2/ beside this file (see the README.md there for provenance).

Usage:
    python tests/data/schemas/odm_validate.py --selftest          # built-in valid/invalid docs
    python tests/data/schemas/odm_validate.py FILE.xml [FILE...]  # validate files (exit 1 if any invalid)
    python tests/data/schemas/odm_validate.py --schema-dir DIR ...
    python tests/data/schemas/odm_validate.py --print-example {transactional,snapshot,typed}

Needs lxml (pip install lxml). Never touches the network: the schema is
loaded from local files and the parser forbids network access and entity
expansion.

XSD validation checks structure, element order, required attributes and
datatypes. It does NOT check that OID references resolve (UserRef/@UserOID ->
AdminData/User/@OID, FormData/@FormOID -> FormDef/@OID, ...): the ODM 1.3.2
XSD has xs:unique constraints on metadata only, no xs:keyref. A small extra
check for that (check_references) is included and run by --selftest and on
files unless --xsd-only is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from lxml import etree

ODM_NS = "http://www.cdisc.org/ns/odm/v1.3"
NS = {"odm": ODM_NS}
DEFAULT_SCHEMA_DIR = Path(__file__).resolve().parent / "odm-1.3.2"

_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def load_schema(schema_dir: Path = DEFAULT_SCHEMA_DIR) -> etree.XMLSchema:
    """Compile ODM1-3-2.xsd (which imports xml.xsd, xmldsig-core-schema.xsd
    and includes ODM1-3-2-foundation.xsd from the same folder)."""
    xsd = Path(schema_dir) / "ODM1-3-2.xsd"
    doc = etree.parse(str(xsd), _PARSER)
    return etree.XMLSchema(doc)


def parse(source) -> etree._ElementTree:
    if isinstance(source, (bytes, str)) and (
        isinstance(source, bytes) or source.lstrip().startswith("<")
    ):
        data = source.encode("utf-8") if isinstance(source, str) else source
        return etree.ElementTree(etree.fromstring(data, _PARSER))
    return etree.parse(str(source), _PARSER)


def validate(tree: etree._ElementTree, schema: etree.XMLSchema) -> list[str]:
    """Return a list of XSD error strings (empty = valid)."""
    if schema.validate(tree):
        return []
    return [f"line {e.line}: {e.message}" for e in schema.error_log]


def check_references(tree: etree._ElementTree) -> list[str]:
    """Referential checks the XSD cannot express (only for definitions that
    are present in the same file; a ClinicalData-only file is checked for
    AuditRecord User/Location refs only if AdminData is present)."""
    root = tree.getroot()
    errors: list[str] = []

    def oids(xpath: str) -> set[str]:
        return set(root.xpath(xpath, namespaces=NS))

    users = oids("//odm:AdminData/odm:User/@OID")
    locations = oids("//odm:AdminData/odm:Location/@OID")
    sigdefs = oids("//odm:AdminData/odm:SignatureDef/@OID")
    has_admin = bool(root.xpath("//odm:AdminData", namespaces=NS))
    if has_admin:
        for ref in root.xpath(
            "//odm:UserRef/@UserOID | //odm:InvestigatorRef/@UserOID", namespaces=NS
        ):
            if ref not in users:
                errors.append(f"UserOID {ref!r} has no AdminData/User")
        for ref in root.xpath(
            "//odm:LocationRef/@LocationOID | //odm:SiteRef/@LocationOID", namespaces=NS
        ):
            if ref not in locations:
                errors.append(f"LocationOID {ref!r} has no AdminData/Location")
        for ref in root.xpath("//odm:SignatureRef/@SignatureOID", namespaces=NS):
            if ref not in sigdefs:
                errors.append(f"SignatureOID {ref!r} has no AdminData/SignatureDef")

    mdv = root.xpath("//odm:Study/odm:MetaDataVersion", namespaces=NS)
    if mdv:
        defs = {
            "StudyEventOID": oids("//odm:StudyEventDef/@OID"),
            "FormOID": oids("//odm:FormDef/@OID"),
            "ItemGroupOID": oids("//odm:ItemGroupDef/@OID"),
            "ItemOID": oids("//odm:ItemDef/@OID"),
        }
        for attr, known in defs.items():
            for el in root.xpath(f"//odm:ClinicalData//*[@{attr}]", namespaces=NS):
                ref = el.get(attr)
                if ref not in known:
                    errors.append(
                        f"line {el.sourceline}: {etree.QName(el).localname}/@{attr}={ref!r} "
                        f"has no definition in MetaDataVersion"
                    )
    for cd in root.xpath("//odm:ClinicalData", namespaces=NS):
        study = cd.get("StudyOID")
        if mdv and study not in oids("//odm:Study/@OID"):
            errors.append(f"ClinicalData/@StudyOID={study!r} has no Study")
    return errors


# --------------------------------------------------------------------------
# Self-test documents. VALID_DOC is also the suggested target shape of the
# RESPINE export .
# --------------------------------------------------------------------------
VALID_DOC = """<?xml version="1.0" encoding="UTF-8"?>
<ODM xmlns="http://www.cdisc.org/ns/odm/v1.3"
     ODMVersion="1.3.2" FileType="Transactional" Granularity="AllClinicalData"
     FileOID="RESPINE.SITE01.EXPORT.20250301T101500Z"
     CreationDateTime="2025-03-01T10:15:00Z" AsOfDateTime="2025-03-01T10:14:00Z"
     Originator="RESPINE site 01" SourceSystem="respine-epro" SourceSystemVersion="0.1.0">
  <Study OID="RESPINE">
    <GlobalVariables>
      <StudyName>RESPINE</StudyName>
      <StudyDescription>Low-back-pain trial ePRO</StudyDescription>
      <ProtocolName>RESPINE</ProtocolName>
    </GlobalVariables>
    <MetaDataVersion OID="MDV.1" Name="ePRO v1">
      <Protocol>
        <StudyEventRef StudyEventOID="SE.BASELINE" Mandatory="Yes"/>
      </Protocol>
      <StudyEventDef OID="SE.BASELINE" Name="Baseline" Repeating="No" Type="Scheduled">
        <FormRef FormOID="F.VAS" Mandatory="Yes"/>
      </StudyEventDef>
      <FormDef OID="F.VAS" Name="Pain VAS" Repeating="No">
        <ItemGroupRef ItemGroupOID="IG.VAS" Mandatory="Yes"/>
      </FormDef>
      <ItemGroupDef OID="IG.VAS" Name="Pain VAS" Repeating="No">
        <ItemRef ItemOID="IT.VAS_BACK" Mandatory="Yes"/>
        <ItemRef ItemOID="IT.VAS_LEG" Mandatory="No"/>
      </ItemGroupDef>
      <ItemDef OID="IT.VAS_BACK" Name="VAS_BACK" DataType="integer" Length="3">
        <Question><TranslatedText xml:lang="en">Back pain intensity (0-100 mm)</TranslatedText></Question>
        <RangeCheck Comparator="GE" SoftHard="Hard"><CheckValue>0</CheckValue></RangeCheck>
        <RangeCheck Comparator="LE" SoftHard="Hard"><CheckValue>100</CheckValue></RangeCheck>
      </ItemDef>
      <ItemDef OID="IT.VAS_LEG" Name="VAS_LEG" DataType="integer" Length="3">
        <Question><TranslatedText xml:lang="en">Leg pain intensity (0-100 mm)</TranslatedText></Question>
      </ItemDef>
    </MetaDataVersion>
  </Study>
  <AdminData StudyOID="RESPINE">
    <!-- ODM 1.3.2: "Study subjects are not users in this sense" -> patient self-entry is
         attributed to the ePRO kiosk account; the subject is identified by SubjectKey -->
    <User OID="USR.EPRO.SITE01-TAB1" UserType="Other">
      <LoginName>epro-site01-tab1</LoginName>
      <DisplayName>ePRO kiosk SITE01-TAB1 (patient self-entry)</DisplayName>
    </User>
    <User OID="USR.CRC.JDOE" UserType="Investigator">
      <LoginName>jdoe</LoginName>
      <FullName>J. Doe</FullName>
    </User>
    <Location OID="LOC.SITE01" Name="Site 01" LocationType="Site">
      <MetaDataVersionRef StudyOID="RESPINE" MetaDataVersionOID="MDV.1" EffectiveDate="2025-01-01"/>
    </Location>
  </AdminData>
  <ClinicalData StudyOID="RESPINE" MetaDataVersionOID="MDV.1">
    <!-- transaction 1: patient completes the VAS on kiosk 1 (subject first seen in this file) -->
    <SubjectData SubjectKey="01-1001" TransactionType="Insert">
      <AuditRecord EditPoint="Monitoring">
        <UserRef UserOID="USR.EPRO.SITE01-TAB1"/>
        <LocationRef LocationOID="LOC.SITE01"/>
        <DateTimeStamp>2025-03-01T09:02:11+01:00</DateTimeStamp>
        <SourceID>kiosk=SITE01-TAB1;questionnaire_instance=42</SourceID>
      </AuditRecord>
      <SiteRef LocationOID="LOC.SITE01"/>
      <StudyEventData StudyEventOID="SE.BASELINE">
        <FormData FormOID="F.VAS">
          <ItemGroupData ItemGroupOID="IG.VAS">
            <ItemData ItemOID="IT.VAS_BACK" Value="63"/>
            <ItemData ItemOID="IT.VAS_LEG" Value="20"/>
          </ItemGroupData>
        </FormData>
      </StudyEventData>
    </SubjectData>
    <!-- transaction 2: coordinator corrects one value, with a reason -->
    <SubjectData SubjectKey="01-1001" TransactionType="Update">
      <AuditRecord EditPoint="Monitoring">
        <UserRef UserOID="USR.CRC.JDOE"/>
        <LocationRef LocationOID="LOC.SITE01"/>
        <DateTimeStamp>2025-03-01T09:30:00+01:00</DateTimeStamp>
        <ReasonForChange>Patient corrected leg-pain entry at review</ReasonForChange>
        <SourceID>audit_log_id=1077</SourceID>
      </AuditRecord>
      <StudyEventData StudyEventOID="SE.BASELINE">
        <FormData FormOID="F.VAS">
          <ItemGroupData ItemGroupOID="IG.VAS">
            <ItemData ItemOID="IT.VAS_LEG" Value="25"/>
          </ItemGroupData>
        </FormData>
      </StudyEventData>
    </SubjectData>
  </ClinicalData>
</ODM>
"""

# (name, transform of VALID_DOC, expect XSD-valid?, expect reference errors?)
CASES = [
    ("valid: transactional doc, SubjectData-level AuditRecords", lambda d: d, True, False),
    (
        "valid: snapshot (current values only, no TransactionType/AuditRecord)",
        lambda d: _snapshot_doc(),
        True,
        False,
    ),
    (
        "valid: typed ItemDataInteger + AuditRecords/AuditRecordID",
        lambda d: _typed_doc(),
        True,
        False,
    ),
    (
        "invalid: AuditRecord without LocationRef",
        lambda d: d.replace('        <LocationRef LocationOID="LOC.SITE01"/>\n', "", 1),
        False,
        False,
    ),
    (
        "invalid: AuditRecord children out of order (DateTimeStamp first)",
        lambda d: d.replace(
            '        <UserRef UserOID="USR.EPRO.SITE01-TAB1"/>\n'
            '        <LocationRef LocationOID="LOC.SITE01"/>\n'
            "        <DateTimeStamp>2025-03-01T09:02:11+01:00</DateTimeStamp>\n",
            "        <DateTimeStamp>2025-03-01T09:02:11+01:00</DateTimeStamp>\n"
            '        <UserRef UserOID="USR.EPRO.SITE01-TAB1"/>\n'
            '        <LocationRef LocationOID="LOC.SITE01"/>\n',
        ),
        False,
        False,
    ),
    (
        "invalid: partial DateTimeStamp (date only)",
        lambda d: d.replace("2025-03-01T09:02:11+01:00", "2025-03-01"),
        False,
        False,
    ),
    (
        "invalid: typed ItemDataInteger with non-integer content",
        lambda d: _typed_doc().replace(">63</ItemDataInteger>", ">sixty-three</ItemDataInteger>"),
        False,
        False,
    ),
    (
        "invalid: ODM root without required FileOID",
        lambda d: d.replace('     FileOID="RESPINE.SITE01.EXPORT.20250301T101500Z"\n', ""),
        False,
        False,
    ),
    (
        "invalid: bad FileType enumeration",
        lambda d: d.replace('FileType="Transactional"', 'FileType="Export"'),
        False,
        False,
    ),
    (
        "invalid: AuditRecord after SiteRef in SubjectData",
        lambda d: _move_audit_after_siteref(d),
        False,
        False,
    ),
    (
        "invalid: FormData directly under SubjectData (REDCap classic-project shape)",
        lambda d: d.replace('      <StudyEventData StudyEventOID="SE.BASELINE">\n', "", 1).replace(
            "      </StudyEventData>\n", "", 1
        ),
        False,
        False,
    ),
    (
        "XSD-valid but dangling refs: unknown UserOID and FormOID",
        lambda d: d.replace('UserOID="USR.EPRO.SITE01-TAB1"/>', 'UserOID="USR.NOBODY"/>').replace(
            '<FormData FormOID="F.VAS">', '<FormData FormOID="F.ODI">', 1
        ),
        True,
        True,
    ),
]


def _first_audit(d: str) -> tuple[int, int]:
    start = d.index("      <AuditRecord EditPoint")
    end = d.index("</AuditRecord>", start) + len("</AuditRecord>\n")
    return start, end


def _move_audit_after_siteref(d: str) -> str:
    start, end = _first_audit(d)
    audit = d[start:end]
    d2 = d[:start] + d[end:]
    anchor = d2.index('<SiteRef LocationOID="LOC.SITE01"/>\n') + len(
        '<SiteRef LocationOID="LOC.SITE01"/>\n'
    )
    return d2[:anchor] + audit + d2[anchor:]


def _snapshot_doc() -> str:
    """Current values only: what an EDC import (REDCap, OpenClinica) expects."""
    d = VALID_DOC.replace('FileType="Transactional"', 'FileType="Snapshot"')
    d = d.replace(' TransactionType="Insert"', "")
    d = d.split("    <!-- transaction 2")[0] + "  </ClinicalData>\n</ODM>\n"
    d = d.replace(
        "<!-- transaction 1: patient completes the VAS on kiosk 1 (subject first seen in this file) -->",
        "<!-- snapshot: current value of every item, no history -->",
    )
    start, end = _first_audit(d)
    d = d[:start] + d[end:]
    return d.replace('Value="20"', 'Value="25"')


def _typed_doc() -> str:
    """Typed ItemData[TYPE] cannot hold child elements, so item-level audit goes
    through ClinicalData/AuditRecords + @AuditRecordID (ID required there)."""
    d = (
        VALID_DOC.replace(
            '<ItemData ItemOID="IT.VAS_BACK" Value="63"/>',
            '<ItemDataInteger ItemOID="IT.VAS_BACK">63</ItemDataInteger>',
        )
        .replace(
            '<ItemData ItemOID="IT.VAS_LEG" Value="20"/>',
            '<ItemDataInteger ItemOID="IT.VAS_LEG">20</ItemDataInteger>',
        )
        .replace(
            '<ItemData ItemOID="IT.VAS_LEG" Value="25"/>',
            '<ItemDataInteger ItemOID="IT.VAS_LEG" AuditRecordID="AR.1077">25</ItemDataInteger>',
        )
    )
    # move transaction 2's AuditRecord into ClinicalData/AuditRecords with an ID
    t2 = d.index("    <!-- transaction 2")
    start = d.index("      <AuditRecord EditPoint", t2)
    end = d.index("</AuditRecord>", start) + len("</AuditRecord>\n")
    audit = d[start:end].replace(
        '<AuditRecord EditPoint="Monitoring">', '<AuditRecord ID="AR.1077" EditPoint="Monitoring">'
    )
    d = d[:start] + d[end:]
    return d.replace(
        "  </ClinicalData>",
        "    <AuditRecords>\n" + audit + "    </AuditRecords>\n  </ClinicalData>",
    )


def selftest(schema: etree.XMLSchema, verbose: bool = True) -> bool:
    ok_all = True
    for name, transform, expect_valid, expect_ref_errors in CASES:
        doc = transform(VALID_DOC)
        tree = parse(doc)
        errs = validate(tree, schema)
        refs = check_references(tree) if not errs else []
        ok = (not errs) == expect_valid and bool(refs) == expect_ref_errors
        ok_all &= ok
        if verbose:
            print(f"[{'PASS' if ok else 'FAIL'}] {name}")
            for e in (errs + refs)[:3]:
                print(f"         {e}")
    return ok_all


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--schema-dir", type=Path, default=DEFAULT_SCHEMA_DIR)
    ap.add_argument("--selftest", action="store_true")
    ap.add_argument("--xsd-only", action="store_true", help="skip reference checks")
    ap.add_argument(
        "--print-example",
        choices=["transactional", "snapshot", "typed"],
        help="print one of the built-in example documents and exit",
    )
    args = ap.parse_args(argv)
    if args.print_example:
        print(
            {"transactional": VALID_DOC, "snapshot": _snapshot_doc(), "typed": _typed_doc()}[
                args.print_example
            ],
            end="",
        )
        return 0

    schema = load_schema(args.schema_dir)
    print(f"schema loaded: {args.schema_dir / 'ODM1-3-2.xsd'}")
    rc = 0
    if args.selftest:
        passed = selftest(schema)
        print("selftest:", "all cases behaved as expected" if passed else "FAILED")
        rc |= 0 if passed else 1
    for f in args.files:
        tree = parse(f)
        errs = validate(tree, schema)
        if not errs and not args.xsd_only:
            errs = check_references(tree)
        print(f"{f}: {'valid' if not errs else 'INVALID'}")
        for e in errs:
            print(f"    {e}")
        rc |= 1 if errs else 0
    if not args.selftest and not args.files:
        ap.print_usage()
    return rc


if __name__ == "__main__":
    sys.exit(main())
