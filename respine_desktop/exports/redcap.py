"""REDCap export: a longitudinal project's definition and its data, for the Data Import Tool.

Files (UTF-8 without BOM, comma separated, LF line ends, as REDCap 14 writes them; see
the real exports in ``tests/data/redcap_examples/``):

* ``data_dictionary.csv``: REDCap's 18-column data dictionary (header byte for byte as REDCap
  writes it): a ``registration`` form (``record_id`` = the pseudonymous subject code, site, year of
  birth, day 0), one form per instrument (``vas``: the VAS as a 0-100 number with one decimal;
  ``odi``, ``sf36``: radio buttons with the instrument's codes and English option texts; the
  instrument version and checksum in the field annotation of its first field) and a read-only
  ``scores`` form (scores derived at export through the scoring API, both SF-36 sets);
* ``arms.csv`` (one arm), ``events.csv`` (one event per visit, in the columns of REDCap 14.7's
  event export: ``event_name,arm_num,unique_event_name,custom_event_label,event_id``; the custom
  label gives the target day and window, ``event_id`` is left for REDCap to number) and
  ``instrument_designation.csv`` (which forms each event collects);
* ``project.csv``: the project attributes, with REDCap's ``missing_data_codes`` (``SKIP``
  skipped item, ``UNCOMP`` uncomputable score, ``INCMP`` item of an unfinished session,
  ``WDRAWN`` item of a visit the subject withdrew before finishing);
* the registration form also holds ``withdrawn_on`` and ``withdrawal_reason`` (a withdrawn
  subject); a visit the subject withdrew before has its row with ``visit_status`` withdrawn;
* a ``visit`` form on every event: ``visit_date`` (submission day, or the day an unfinished
  session started), ``visit_status``, ``session_id`` and ``missed_reason`` (a missed visit has its
  row with the reason);
* ``records.csv``: flat longitudinal records ``record_id,redcap_event_name,<fields>,
  <form>_complete`` in dictionary order, one row per subject × event with data (the baseline
  event always, for the registration form). ``<form>_complete`` is 2 (Complete) for a submitted
  session, 0 (Incomplete) for an open one, empty when the form has no data. Skipped items hold
  ``SKIP``, uncomputable scores ``UNCOMP``, the unanswered items of a started form of an
  unfinished session ``INCMP`` (the project's missing-data codes).

The six files are written complete as ``.partial`` and replaced as a set, like the CSV files
(`subject_parts.replace_set`: a journal, then the renames; a set a kill interrupted is finished
by the next export into the folder).

Event names: ``<visit code> <label>`` (e.g. "M0 Baseline"); REDCap derives the unique event names
(``m0_baseline_arm_1``) with its rule, which `unique_event_name` reproduces for the records file.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from respine_desktop import scoring
from respine_desktop.exports.csv_export import cell, csv_line
from respine_desktop.exports.files import output_folder, partial_path, partial_texts
from respine_desktop.exports.progress import Progress, Ticker
from respine_desktop.exports.subject_parts import SET_JOURNAL, finish_interrupted_set, replace_set
from respine_desktop.exports.visit_values import (
    SCORE_COLUMNS,
    WITHDRAWN,
    VisitValues,
    visit_values,
)
from respine_desktop.files import check_target
from respine_desktop.instruments import Instrument, Item, load_instrument
from respine_desktop.storage import StudyDb, Withdrawal, read_snapshot
from respine_desktop.storage.export_reads import count_subject_records, iter_subject_records
from respine_desktop.study import Study, Visit

# Byte for byte the first line of a REDCap 14 data dictionary download.
DICTIONARY_HEADER = (
    '"Variable / Field Name","Form Name","Section Header","Field Type","Field Label",'
    '"Choices, Calculations, OR Slider Labels","Field Note",'
    '"Text Validation Type OR Show Slider Number","Text Validation Min","Text Validation Max",'
    'Identifier?,"Branching Logic (Show field only if...)","Required Field?","Custom Alignment",'
    '"Question Number (surveys only)","Matrix Group Name","Matrix Ranking?","Field Annotation"\n'
)
DICTIONARY = "data_dictionary.csv"
ARMS = "arms.csv"
EVENTS = "events.csv"
DESIGNATION = "instrument_designation.csv"
RECORDS = "records.csv"
PROJECT = "project.csv"
ARM = 1
LANGUAGE = "en"
REGISTRATION = "registration"
VISIT = "visit"
SCORES = "scores"
# REDCap's missing-data codes (project setting ``missing_data_codes``, "CODE, Label | ...");
# a record cell holding one of them is a missing value with that reason.
MISSING_DATA_CODES = (
    ("SKIP", "Skipped by the patient"),
    ("UNCOMP", "Uncomputable (too many items skipped)"),
    ("INCMP", "Session not finished (parked or in progress)"),
    ("WDRAWN", "Subject withdrawn before the visit"),
)
SKIP, UNCOMP, INCMP, WDRAWN = (code for code, _ in MISSING_DATA_CODES)
# visit_status choices of the visit form
VISIT_STATUS = (
    ("1", "complete", "Complete"),
    ("2", "conflict", "Complete, recorded on two kiosks (see the conflict review)"),
    ("3", "parked", "Parked"),
    ("4", "in_progress", "In progress"),
    ("5", "missed", "Missed"),
    ("6", "withdrawn", "Withdrawn (the subject left the study before this visit was done)"),
)
# events.csv as REDCap 14.7 exports it (tests/data/redcap_examples/longitudinal.event.csv)
EVENT_COLUMNS = ("event_name", "arm_num", "unique_event_name", "custom_event_label", "event_id")
RECORD_ID = "record_id"
COMPLETE, INCOMPLETE = "2", "0"


@dataclass(frozen=True)
class RedcapExport:
    """What `export_redcap` wrote."""

    directory: Path
    files: tuple[Path, ...]
    records: int
    rows: int


@dataclass(frozen=True)
class Field:
    """One row of the data dictionary (the 18 columns, most of them empty)."""

    name: str
    form: str
    type: str
    label: str
    section: str = ""
    choices: str = ""
    note: str = ""
    validation: str = ""
    minimum: str = ""
    maximum: str = ""
    identifier: str = ""
    question_number: str = ""
    annotation: str = ""

    def row(self) -> tuple[str, ...]:
        return (
            self.name,
            self.form,
            self.section,
            self.type,
            self.label,
            self.choices,
            self.note,
            self.validation,
            self.minimum,
            self.maximum,
            self.identifier,
            "",
            "",
            "",
            self.question_number,
            "",
            "",
            self.annotation,
        )


def unique_event_name(event_name: str, arm: int = ARM) -> str:
    """The unique event name REDCap generates: lower case, spaces to ``_``, other characters
    dropped, cut to 18 characters, then ``_arm_<n>`` (e.g. "Deadline to opt out of study" ->
    ``deadline_to_opt_ou_arm_2``)."""
    base = re.sub(r"[^a-z0-9_]", "", event_name.lower().replace(" ", "_"))[:18]
    return f"{base}_arm_{arm}"


def _custom_label(visit: Visit) -> str:
    """The event's custom label: its target day and window (REDCap 14.7's event export has no
    day offset columns)."""
    return f"day {visit.day} (-{visit.window_before}/+{visit.window_after})"


def event_name(study: Study, code: str) -> str:
    visit = study.visit(code)
    return f"{code} {visit.label.get(LANGUAGE, '')}".strip()


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _item_field(instrument: Instrument, item: Item, first: bool, section: str) -> Field:
    text = _one_line(item.text.get(LANGUAGE) or next(iter(item.text.values())))
    annotation = f"{instrument.id} {instrument.version} {instrument.checksum}" if first else ""
    if item.type == "vas":
        low, high = item.anchors.get(LANGUAGE, ("", ""))
        return Field(
            item.id,
            instrument.id,
            "text",
            text,
            section=section,
            note=_one_line(f"{item.minimum:g} = {low}; {item.maximum:g} = {high} (mm)"),
            validation="number_1dp",
            minimum=f"{item.minimum:g}",
            maximum=f"{item.maximum:g}",
            question_number=item.label,
            annotation=annotation,
        )
    choices = " | ".join(
        f"{c.code}, {_one_line(c.text.get(LANGUAGE) or '').replace('|', '/')}" for c in item.choices
    )
    return Field(
        item.id,
        instrument.id,
        "radio",
        text,
        section=section,
        choices=choices,
        question_number=item.label,
        annotation=annotation,
    )


def score_field_name(column: str) -> str:
    return {"VAS": "vas_score", "ODI": "odi_score"}.get(column, column.lower())


def dictionary_fields(study: Study) -> list[Field]:
    """Every field of the project, forms in order (registration, instruments, scores)."""
    fields = [
        Field(RECORD_ID, REGISTRATION, "text", "Study subject id (pseudonymous)"),
        Field("site", REGISTRATION, "text", "Site code"),
        Field(
            "year_of_birth",
            REGISTRATION,
            "text",
            "Year of birth",
            validation="integer",
            minimum="1900",
            maximum="2100",
        ),
        Field(
            "day0",
            REGISTRATION,
            "text",
            "Day 0 (injection day)",
            validation="date_ymd",
            identifier="y",
        ),
        Field(
            "withdrawn_on",
            REGISTRATION,
            "text",
            "Day the subject withdrew from the study (empty while in the study)",
            validation="date_ymd",
            identifier="y",
            annotation="@READONLY",
        ),
        Field(
            "withdrawal_reason",
            REGISTRATION,
            "notes",
            "Reason for the withdrawal",
            annotation="@READONLY",
        ),
        Field(
            "visit_date",
            VISIT,
            "text",
            "Visit date (questionnaires submitted; for an unfinished visit, the day its session "
            "started)",
            section="Visit",
            validation="date_ymd",
            identifier="y",
        ),
        Field(
            "visit_status",
            VISIT,
            "radio",
            "Visit status on the export day",
            choices=" | ".join(f"{code}, {label}" for code, _, label in VISIT_STATUS),
        ),
        Field("session_id", VISIT, "text", "Session the visit's values come from"),
        Field(
            "missed_reason",
            VISIT,
            "notes",
            "Reason the visit was missed",
            annotation="@READONLY",
        ),
    ]
    for instrument_id in study.instrument_order:
        instrument = load_instrument(instrument_id)
        previous_stem = ""
        for n, item in enumerate(instrument.items):
            stem = _one_line(item.stem.get(LANGUAGE, ""))
            section = ""
            if n == 0:
                section = instrument.title.get(LANGUAGE, instrument.id)
            if stem and stem != previous_stem:
                section = f"{section}: {stem}" if section else stem
            previous_stem = stem
            fields.append(_item_field(instrument, item, n == 0, section))
    for n, (column, scored, method, key) in enumerate(SCORE_COLUMNS):
        fields.append(
            Field(
                score_field_name(column),
                SCORES,
                "text",
                f"{scoring.label(scored, method)}: {key}",
                section=f"Scores computed with {scoring.SCORING_VERSION}" if n == 0 else "",
                validation="number",
                annotation="@READONLY",
            )
        )
    return fields


def forms(study: Study) -> list[str]:
    return [REGISTRATION, VISIT, *study.instrument_order, SCORES]


def record_columns(fields: list[Field]) -> list[str]:
    """``record_id, redcap_event_name``, then each form's fields followed by its complete flag."""
    out = [RECORD_ID, "redcap_event_name"]
    form = None
    for f in fields:
        if form is not None and f.form != form:
            out.append(f"{form}_complete")
        form = f.form
        if f.name != RECORD_ID:
            out.append(f.name)
    out.append(f"{form}_complete")
    return out


def _answer_text(item_types: Mapping[str, str], item_id: str, value: float | None) -> str:
    if value is None:
        return SKIP
    if item_types.get(item_id) == "vas":
        return f"{float(value):.1f}"
    return cell(value)


def _rows(
    study: Study,
    columns: list[str],
    item_types: Mapping[str, str],
    record_values: Iterator[tuple[str, str, int | None, str, list[VisitValues], Withdrawal | None]],
) -> Iterator[list[str]]:
    baseline = study.visits[0].code
    score_names = {c[0]: score_field_name(c[0]) for c in SCORE_COLUMNS}
    column_instrument = {c[0]: c[1] for c in SCORE_COLUMNS}
    item_ids = {i: [item.id for item in load_instrument(i).items] for i in study.instrument_order}
    for code, site, year, day0, visits, withdrawal in record_values:
        for v in visits:
            values: dict[str, str] = {}
            if v.code == baseline:
                values.update(
                    site=site,
                    year_of_birth="" if year is None else str(year),
                    day0=day0,
                    registration_complete=COMPLETE,
                )
                if withdrawal is not None:
                    values.update(
                        withdrawn_on=withdrawal.withdrawn_on.isoformat(),
                        withdrawal_reason=_one_line(withdrawal.reason),
                    )
            state = COMPLETE if v.submitted else INCOMPLETE
            status = _STATUS_CODE.get(v.status)
            if v.session is not None and status is not None:
                started = v.session.started_at[:10]
                values.update(
                    visit_date=v.visit_date.isoformat() if v.visit_date else started,
                    visit_status=status,
                    session_id=v.session.id,
                    visit_complete=COMPLETE if v.submitted else INCOMPLETE,
                )
            elif v.status == "missed" and v.visit is not None:
                values.update(
                    visit_status=_STATUS_CODE["missed"],
                    missed_reason=_one_line(v.visit.missed_reason or ""),
                    visit_complete=COMPLETE,
                )
            elif v.status == WITHDRAWN:
                values.update(visit_status=_STATUS_CODE[WITHDRAWN], visit_complete=COMPLETE)
            by_form: dict[str, list[str]] = {}
            for a in v.answers.values():
                values[a.item_id] = _answer_text(item_types, a.item_id, a.value)
                values[f"{a.instrument_id}_complete"] = state
                by_form.setdefault(a.instrument_id, []).append(a.item_id)
            if not v.submitted:
                gap = WDRAWN if v.status == WITHDRAWN else INCMP
                for form in by_form:
                    for item in item_ids.get(form, ()):
                        values.setdefault(item, gap)  # not reached yet
            if v.submitted:
                for column, name in score_names.items():
                    score = v.scores.get(column)
                    scored = column_instrument[column] in by_form
                    values[name] = cell(score) if score is not None or not scored else UNCOMP
                values[f"{SCORES}_complete"] = COMPLETE
            if not values:
                continue
            values[RECORD_ID] = code
            values["redcap_event_name"] = unique_event_name(event_name(study, v.code))
            yield [values.get(c, "") for c in columns]


_STATUS_CODE = {name: code for code, name, _ in VISIT_STATUS}


def project_rows(study: Study) -> list[tuple[str, ...]]:
    """``project.csv``: the project attributes REDCap's project import/export uses (its
    ``missing_data_codes`` in REDCap's "CODE, Label | CODE, Label" form)."""
    codes = " | ".join(f"{code}, {label}" for code, label in MISSING_DATA_CODES)
    return [
        ("project_title", "is_longitudinal", "missing_data_codes"),
        (study.title, "1", codes),
    ]


def export_redcap(
    db: StudyDb, out: str | Path, *, progress: Progress | None = None
) -> RedcapExport:
    """Write the REDCap project files and records into the directory `out`."""
    with output_folder(Path(out)) as directory:
        finish_interrupted_set(directory)  # an earlier export killed while replacing its files
        # One consistent view of the database, however long the export takes.
        with read_snapshot(db):
            study = db.study
            fields = dictionary_fields(study)
            columns = record_columns(fields)
            item_types = {
                item.id: item.type
                for i in study.instrument_order
                for item in load_instrument(i).items
            }
            total = count_subject_records(db)
            ticker = Ticker(progress, total, "REDCap export")
            counts = {"records": 0, "rows": 0}
            names = (DICTIONARY, ARMS, EVENTS, DESIGNATION, RECORDS, PROJECT)
            paths = tuple(check_target(directory / n) for n in names)

            def records() -> Iterator[
                tuple[str, str, int | None, str, list[VisitValues], Withdrawal | None]
            ]:
                for record in iter_subject_records(db, history=False):
                    s = record.subject
                    yield (
                        s.code,
                        s.site_code,
                        s.year_of_birth,
                        s.day0.isoformat(),
                        list(visit_values(study, record, with_endpoints=False)),
                        record.withdrawal,
                    )
                    counts["records"] += 1
                    ticker.tick(counts["records"], s.code)

            with partial_texts(paths) as files:
                f_dict, f_arms, f_events, f_design, f_records, f_project = files
                csv.writer(f_project, lineterminator="\n").writerows(project_rows(study))
                f_dict.write(DICTIONARY_HEADER)
                writer = csv.writer(f_dict, lineterminator="\n")
                writer.writerows(f.row() for f in fields)
                csv.writer(f_arms, lineterminator="\n").writerows(
                    [("arm_num", "name"), (str(ARM), study.id)]
                )
                events = csv.writer(f_events, lineterminator="\n")
                events.writerow(EVENT_COLUMNS)
                design = csv.writer(f_design, lineterminator="\n")
                design.writerow(("arm_num", "unique_event_name", "form"))
                for n, visit in enumerate(study.visits):
                    name = event_name(study, visit.code)
                    unique = unique_event_name(name)
                    # event_id: REDCap numbers the events when they are created
                    events.writerow((name, ARM, unique, _custom_label(visit), ""))
                    for form in [
                        *([REGISTRATION] if n == 0 else []),
                        VISIT,
                        *visit.instruments,
                        SCORES,
                    ]:
                        design.writerow((ARM, unique, form))
                f_records.write(csv_line(columns, "\n"))
                for row in _rows(study, columns, item_types, records()):
                    f_records.write(csv_line(row, "\n"))
                    counts["rows"] += 1
            # All six complete and fsynced as .partial: replaced together (see subject_parts).
            pairs = [(partial_path(p), p) for p in paths]
            try:
                replace_set(pairs)
            finally:
                if not (directory / SET_JOURNAL).exists():
                    for partial, _ in pairs:
                        partial.unlink(missing_ok=True)
            ticker.done(
                f"REDCap export: {counts['records']} records, {counts['rows']} event rows "
                f"in {directory}"
            )
            return RedcapExport(directory, paths, counts["records"], counts["rows"])
