"""The ODM file's Study: GlobalVariables, BasicDefinitions and the MetaDataVersion (visits,
forms, item groups, items with their texts in every language, code lists, the data flags; the
subject-level and visit forms from `odm_subject`)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from respine_desktop import scoring
from respine_desktop.exports import odm_subject
from respine_desktop.exports.odm_signatures import SIGNATURE_FLAG_TYPES, SIGNATURE_FLAGS
from respine_desktop.exports.odm_xml import Xml as _Xml
from respine_desktop.exports.odm_xml import oid, texts
from respine_desktop.exports.visit_values import SCORE_COLUMNS
from respine_desktop.instruments import Instrument, Item, load_instrument
from respine_desktop.study import Study

FLAG_VALUES = "CL.FLAG.VALUE"
FLAG_TYPES = "CL.FLAG.TYPE"
SCORES_FORM = "F.SCORES"
MM = "MU.MM"

# Flag value -> (flag type, English decode)
FLAGS: Mapping[str, tuple[str, str]] = {
    "SKIPPED": ("MISSING_DATA_REASON", "skipped by the patient (or unanswered at submission)"),
    "MISSED": ("MISSING_DATA_REASON", "visit marked missed by staff"),
    "CONFLICT": ("DATA_REVIEW", "two kiosks recorded this visit; review needed"),
    "INCOMPLETE": ("DATA_REVIEW", "answers of a session not submitted (parked or in progress)"),
    "UNCOMPUTABLE": ("MISSING_DATA_REASON", "score not computable (too many items skipped)"),
    **SIGNATURE_FLAGS,
}
FLAG_TYPE_TEXT: Mapping[str, str] = {
    "MISSING_DATA_REASON": "why a value is missing",
    "DATA_REVIEW": "the data needs review",
    **SIGNATURE_FLAG_TYPES,
}


def score_item_oid(column: str) -> str:
    return oid("IT.SCORE", column)


def score_group_oid(instrument: str, method: str | None) -> str:
    return "IG.SCORES." + ("RAND36" if method == "rand" else instrument.upper())


def _question(item: Item) -> dict[str, str]:
    return {
        lang: (item.stem.get(lang, "") + " " + text).strip() for lang, text in item.text.items()
    }


def _code_lists(instruments: list[Instrument]) -> tuple[dict[str, str], list[tuple[str, Item]]]:
    """The code list OID of every choice item, and the distinct lists (first item using each)."""
    by_content: dict[tuple[object, ...], str] = {}
    of_item: dict[str, str] = {}
    distinct: list[tuple[str, Item]] = []
    for instrument in instruments:
        for item in instrument.items:
            if item.type != "choice":
                continue
            key = tuple((c.code, tuple(sorted(c.text.items()))) for c in item.choices)
            if key not in by_content:
                by_content[key] = oid("CL", item.id)
                distinct.append((by_content[key], item))
            of_item[item.id] = by_content[key]
    return of_item, distinct


def metadata_version_oid(study: Study) -> str:
    """Changes whenever an instrument file or the scoring version changes."""
    content = "|".join(
        [*(load_instrument(i).checksum for i in study.instrument_order), scoring.SCORING_VERSION]
    )
    return f"MDV.{study.id.upper()}.{hashlib.sha256(content.encode()).hexdigest()[:12]}"


def write_study(x: _Xml, study: Study, mdv: str) -> None:
    instruments = [load_instrument(i) for i in study.instrument_order]
    with x.element("Study", {"OID": study.oid}):
        with x.element("GlobalVariables"):
            x.leaf("StudyName", None, study.id)
            x.leaf("StudyDescription", None, study.title)
            x.leaf("ProtocolName", None, study.protocol)
        with x.element("BasicDefinitions"), x.element("MeasurementUnit", {"OID": MM, "Name": "mm"}):
            texts(x, "Symbol", {"en": "mm"})
        names = ", ".join(f"{i.id} {i.version}" for i in instruments)
        with x.element("MetaDataVersion", {"OID": mdv, "Name": f"{study.id} ePRO ({names})"}):
            _write_metadata(x, study, instruments)


def _write_metadata(x: _Xml, study: Study, instruments: list[Instrument]) -> None:
    with x.element("Protocol"):
        odm_subject.write_protocol_ref(x)
        for n, visit in enumerate(study.visits, start=2):
            x.leaf(
                "StudyEventRef",
                {"StudyEventOID": oid("SE", visit.code), "OrderNumber": str(n), "Mandatory": "Yes"},
            )
    odm_subject.write_event_def(x)
    for visit in study.visits:
        name = visit.label.get("en") or visit.code
        attrs = {"OID": oid("SE", visit.code), "Name": name, "Repeating": "No", "Type": "Scheduled"}
        with x.element("StudyEventDef", attrs):
            texts(x, "Description", {k: f"{visit.code}: {v}" for k, v in visit.label.items()})
            odm_subject.write_visit_form_ref(x)
            for n, instrument_id in enumerate(visit.instruments, start=2):
                x.leaf(
                    "FormRef",
                    {"FormOID": oid("F", instrument_id), "OrderNumber": str(n), "Mandatory": "Yes"},
                )
            x.leaf(
                "FormRef",
                {
                    "FormOID": SCORES_FORM,
                    "OrderNumber": str(len(visit.instruments) + 2),
                    "Mandatory": "No",
                },
            )
    for inst in instruments:
        with x.element(
            "FormDef",
            {"OID": oid("F", inst.id), "Name": inst.title.get("en", inst.id), "Repeating": "No"},
        ):
            texts(
                x,
                "Description",
                {
                    lang: f"{title} (version {inst.version}, {inst.checksum}). "
                    f"{inst.credit.get(lang, '')} {inst.licence.get(lang, '')}".strip()
                    for lang, title in inst.title.items()
                },
            )
            x.leaf("ItemGroupRef", {"ItemGroupOID": oid("IG", inst.id), "Mandatory": "Yes"})
            x.leaf("Alias", {"Context": "RESPINE instrument version", "Name": inst.version})
            x.leaf("Alias", {"Context": "RESPINE instrument checksum", "Name": inst.checksum})
    groups = score_groups()
    with x.element("FormDef", {"OID": SCORES_FORM, "Name": "Scores", "Repeating": "No"}):
        texts(
            x,
            "Description",
            {"en": f"Scores derived from the answers with {scoring.SCORING_VERSION}"},
        )
        for group in groups:
            x.leaf("ItemGroupRef", {"ItemGroupOID": group, "Mandatory": "No"})
    odm_subject.write_form_defs(x)
    for inst in instruments:
        with x.element(
            "ItemGroupDef", {"OID": oid("IG", inst.id), "Name": inst.id, "Repeating": "No"}
        ):
            for n, item in enumerate(inst.items, start=1):
                x.leaf(
                    "ItemRef",
                    {
                        "ItemOID": oid("IT", item.id),
                        "OrderNumber": str(n),
                        "Mandatory": "No" if item.optional else "Yes",
                    },
                )
    for group, columns in groups.items():
        instrument, method = columns[0][1], columns[0][2]
        with x.element(
            "ItemGroupDef",
            {"OID": group, "Name": scoring.label(instrument, method), "Repeating": "No"},
        ):
            for n, (column, *_) in enumerate(columns, start=1):
                x.leaf(
                    "ItemRef",
                    {"ItemOID": score_item_oid(column), "OrderNumber": str(n), "Mandatory": "No"},
                )
    odm_subject.write_group_defs(x)
    code_list_of, code_lists = _code_lists(instruments)
    for inst in instruments:
        for item in inst.items:
            _write_item_def(x, item, code_list_of.get(item.id))
    for column, instrument, method, key in SCORE_COLUMNS:
        attrs = {"OID": score_item_oid(column), "Name": column, "DataType": "float"}
        with x.element("ItemDef", attrs):
            texts(x, "Description", {"en": f"{scoring.label(instrument, method)}: {key}"})
    odm_subject.write_item_defs(x)
    for list_oid, item in code_lists:
        with x.element(
            "CodeList", {"OID": list_oid, "Name": f"options of {item.id}", "DataType": "integer"}
        ):
            for c in item.choices:
                with x.element("CodeListItem", {"CodedValue": str(c.code)}):
                    texts(x, "Decode", c.text)
    with x.element(
        "CodeList", {"OID": FLAG_VALUES, "Name": "RESPINE data flags", "DataType": "text"}
    ):
        for value, (_, text) in FLAGS.items():
            with x.element("CodeListItem", {"CodedValue": value}):
                texts(x, "Decode", {"en": text})
    with x.element(
        "CodeList", {"OID": FLAG_TYPES, "Name": "RESPINE flag types", "DataType": "text"}
    ):
        for value, text in FLAG_TYPE_TEXT.items():
            with x.element("CodeListItem", {"CodedValue": value}):
                texts(x, "Decode", {"en": text})
    odm_subject.write_code_lists(x)


def score_groups() -> dict[str, list[tuple[str, str, str | None, str]]]:
    groups: dict[str, list[tuple[str, str, str | None, str]]] = {}
    for column in SCORE_COLUMNS:
        groups.setdefault(score_group_oid(column[1], column[2]), []).append(column)
    return groups


def _write_item_def(x: _Xml, item: Item, code_list: str | None) -> None:
    if item.type == "vas":
        attrs = {
            "OID": oid("IT", item.id),
            "Name": item.id,
            "DataType": "float",
            "Length": "5",
            "SignificantDigits": "1",
        }
    else:
        width = max(len(str(c)) for c in item.codes)
        attrs = {
            "OID": oid("IT", item.id),
            "Name": item.id,
            "DataType": "integer",
            "Length": str(width),
        }
    with x.element("ItemDef", attrs):
        texts(x, "Question", _question(item))
        if item.type == "vas":
            x.leaf("MeasurementUnitRef", {"MeasurementUnitOID": MM})
            for comparator, value in (("GE", item.minimum), ("LE", item.maximum)):
                with x.element("RangeCheck", {"Comparator": comparator, "SoftHard": "Hard"}):
                    x.leaf("CheckValue", None, f"{value:g}")
        if code_list is not None:
            x.leaf("CodeListRef", {"CodeListOID": code_list})
