"""The columns of the CSV export and their codebook: one definition for the header and the book.

``codebook.csv`` has one row per column of ``answers_long.csv`` and ``visits_wide.csv``
(``code`` empty) followed, for a coded column, by one row per code with its label: item options
(English text, as on the kiosk), visit statuses, flags. Scores are unrounded doubles; round only
for display.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from respine_desktop import scoring
from respine_desktop.exports.missing_codes import MissingCode
from respine_desktop.exports.visit_values import (
    CHANGE_NAMES,
    CONFLICT,
    ENDPOINT_MEASURES,
    MCID_NAMES,
    RESPONDER,
    SCORE_COLUMNS,
)
from respine_desktop.instruments import Item, load_instrument
from respine_desktop.storage import VISIT_STATUSES
from respine_desktop.study import Study

ANSWERS_LONG = "answers_long.csv"
VISITS_WIDE = "visits_wide.csv"
CODEBOOK = "codebook.csv"
AUDIT_TRAIL = "audit_trail.csv"
CODEBOOK_HEADER = ("file", "column", "description", "type", "unit", "code", "code_label")
LANGUAGE = "en"


@dataclass(frozen=True)
class Column:
    """One column of an exported file, with what the codebook says about it."""

    name: str
    description: str
    type: str
    unit: str = ""
    codes: tuple[tuple[str, str], ...] = ()


ANSWER_STATUSES = (
    ("answered", "the patient (or a staff correction) gave a value"),
    ("skipped", "the patient chose to skip the item, or it was left unanswered at submission"),
)
VISIT_STATUS_TEXT = {
    "not_yet_due": "nothing stored and the visit window opens after the export day",
    "due": "nothing stored and the export day is inside the visit window",
    "overdue": "nothing stored and the window closed (not marked missed)",
    "missed": "staff marked the visit missed, with a reason",
    "in_progress": "a questionnaire session is open",
    "parked": "a session was parked (idle timeout or staff) and can be resumed",
    "complete": "the questionnaires were submitted",
    CONFLICT: "two kiosks each recorded this visit (merged bundles): values are from the version "
    "an investigator chose in the console's conflict review, else from the one submitted last; "
    "answers_long.csv holds both versions",
}
FLAG_CODES = (("1", "yes"), ("0", "no"))
UNDETERMINED = "; .D = undetermined (missing data, or a relative criterion on a baseline of 0)"
VISIT_NUMBER = "place of the visit in the schedule, 1 for the first (sorts visits in time order)"
MISSING_CODES = tuple((m.value, m.label) for m in MissingCode)


def answers_long_columns() -> tuple[Column, ...]:
    """The columns of ``answers_long.csv``: one row per answer version."""
    return (
        Column("subject_id", "pseudonymous study subject id", "string"),
        Column("visit", "visit code of the schedule", "string"),
        Column("visit_number", VISIT_NUMBER, "integer"),
        Column("instrument", "instrument id (vas, odi, sf36)", "string"),
        Column("instrument_version", "version of the instrument shown", "string"),
        Column("instrument_checksum", "SHA-256 of the instrument file shown", "string"),
        Column("item", "item id (see visits_wide.csv for its options)", "string"),
        Column(
            "code",
            "the answer: option code of a choice item, mm for the VAS; empty when skipped",
            "number",
        ),
        Column(
            "label",
            "text of the chosen option in the answer's language (in English for a language a "
            "site installed); empty for the VAS or a skip",
            "string",
        ),
        Column("language", "language the item was shown in (ISO 639-1)", "string"),
        Column("device", "id of the kiosk that recorded the answer", "string"),
        Column("session", "id of the questionnaire session", "string"),
        Column("given_at", "when the answer was recorded", "datetime (ISO 8601 UTC)"),
        Column(
            "superseded_by",
            "answer_id of the row that replaced this one; empty for a current answer",
            "string",
        ),
        Column(
            "counts",
            "1 if this row is a value the visit's results use: a current answer of the session "
            "the visit stands for (in a conflict, the chosen or last submitted session); 0 for a "
            "superseded row or the other session of a conflict",
            "flag",
            codes=FLAG_CODES,
        ),
        Column(
            "reason",
            "reason given for a staff correction (a leading ' is added when it starts with "
            "= + - @, a tab or a carriage return, so that spreadsheets show it as text)",
            "string",
        ),
        Column("answer_id", "id of this answer row", "string"),
        Column("status", "answered or skipped", "code", codes=ANSWER_STATUSES),
        Column("given_by", "staff id of a correction; empty when the patient answered", "string"),
        Column(
            "vas_calibration",
            "VAS answers drawn on a line: id of the device's VAS line calibration in force, or "
            "uncalibrated; empty for other items",
            "string",
        ),
    )


def item_column(item: Item, instrument_title: str) -> Column:
    """The wide column of one item, with its options as codes."""
    text = item.text.get(LANGUAGE) or next(iter(item.text.values()))
    stem = item.stem.get(LANGUAGE, "")
    description = f"{instrument_title} {item.label}: {(stem + ' ' + text).strip()}"
    if item.type == "vas":
        return Column(item.id, description, "decimal", "mm", MISSING_CODES)
    codes = tuple((str(c.code), c.text.get(LANGUAGE) or "") for c in item.choices)
    return Column(item.id, description, "code", "", codes + MISSING_CODES)


def item_instruments(study: Study) -> list[tuple[str, str]]:
    """(item id, instrument id) of every item column of the wide file, in column order."""
    return [
        (item.id, instrument_id)
        for instrument_id in study.instrument_order
        for item in load_instrument(instrument_id).items
    ]


def item_columns(study: Study) -> tuple[Column, ...]:
    """The item columns of the wide file, instruments in the study's order."""
    out: list[Column] = []
    for instrument_id in study.instrument_order:
        instrument = load_instrument(instrument_id)
        title = instrument.short_title.get(LANGUAGE, instrument.id)
        out.extend(item_column(item, title) for item in instrument.items)
    return tuple(out)


def _score_column(name: str, instrument: str, method: str | None, key: str) -> Column:
    label = scoring.label(instrument, method)
    unit = "mm" if instrument == "vas" else "%" if instrument == "odi" else "0-100"
    if key in ("PCS", "MCS"):
        unit = "norm-based (mean 50, SD 10)"
    what = "health change item" if key == "HT" else f"{key} score"
    return Column(
        name,
        f"{label}: {what}, computed at export with {scoring.SCORING_VERSION}",
        "decimal",
        unit,
        MISSING_CODES,
    )


def endpoint_columns(study: Study) -> tuple[Column, ...]:
    """Change from baseline, MCID flags and responder columns."""
    base = study.endpoint.baseline_visit
    mcid = study.mcid
    thresholds = {
        "VAS": f"improvement >= {mcid.vas_points:g} mm or >= {mcid.vas_percent:g} % of baseline",
        "ODI": f"improvement >= {mcid.odi_points:g} points or >= {mcid.odi_percent:g} % "
        "of baseline",
        "PCS": f"improvement >= {mcid.pcs_points:g} points",
        "MCS": f"improvement >= {mcid.mcs_points:g} points",
    }
    out = [
        Column(
            name,
            f"{col} at this visit minus {col} at {base} (.N at {base}, .D when either is missing)",
            "decimal",
            codes=MISSING_CODES,
        )
        for name, (_, col) in zip(CHANGE_NAMES, ENDPOINT_MEASURES, strict=True)
    ]
    out += [
        Column(
            name,
            f"MCID attained versus {base}: {thresholds[measure]} ({mcid.source})" + UNDETERMINED,
            "flag",
            codes=FLAG_CODES + MISSING_CODES,
        )
        for name, (measure, _) in zip(MCID_NAMES, ENDPOINT_MEASURES, strict=True)
    ]
    ep = study.endpoint
    odi = (
        f"ODI improvement >= {ep.odi_threshold:g} % of baseline"
        if ep.odi_rule == "relative"
        else f"ODI improvement >= {ep.odi_threshold:g} points"
    )
    out.append(
        Column(
            RESPONDER,
            f"responder versus {base}: (VAS improvement >= {ep.vas_points:g} mm and >= "
            f"{ep.vas_percent:g} % of baseline) or ({odi}); the primary endpoint is its value "
            f"at {ep.visit}" + UNDETERMINED,
            "flag",
            codes=FLAG_CODES + MISSING_CODES,
        )
    )
    return tuple(out)


def visits_wide_columns(study: Study) -> tuple[Column, ...]:
    """The columns of ``visits_wide.csv``: one row per subject × scheduled visit."""
    statuses = tuple((s, VISIT_STATUS_TEXT[s]) for s in (*VISIT_STATUSES, CONFLICT))
    visits = ", ".join(study.visit_codes)
    return (
        Column("subject_id", "pseudonymous study subject id", "string"),
        Column("site", "site code", "string"),
        Column("visit", f"visit code ({visits})", "string"),
        Column("visit_number", VISIT_NUMBER, "integer"),
        Column("day0", "day 0 of the subject (the injection day)", "date (ISO 8601)"),
        Column("year_of_birth", "year of birth (empty when not recorded)", "integer"),
        Column("visit_date", "day the questionnaires were submitted", "date (ISO 8601)"),
        Column(
            "study_day",
            "days from day 0 (day 0 = 0) to visit_date, or to session_date when the session "
            "is not submitted",
            "integer",
            "days",
        ),
        Column("session_id", "id of the session the visit's values come from", "string"),
        Column(
            "session_date",
            "day that session started (also for a parked or in-progress visit)",
            "date (ISO 8601)",
        ),
        Column("status", "visit status on the export day", "code", codes=statuses),
        *item_columns(study),
        *(_score_column(*c) for c in SCORE_COLUMNS),
        *endpoint_columns(study),
    )


def audit_trail_columns() -> tuple[Column, ...]:
    """The columns of ``audit_trail.csv`` (for the header and the codebook)."""
    return (
        Column(
            "sequence", "number of the entry in its device's audit chain (1, 2, ...)", "integer"
        ),
        Column("device", "id of the device that wrote the entry", "string"),
        Column("time", "when the entry was written", "datetime (ISO 8601 UTC)"),
        Column("actor", "staff id; empty for the patient at the kiosk or the system", "string"),
        Column(
            "action",
            "what happened (e.g. answer.corrected, visit.missed, conflict.resolved)",
            "string",
        ),
        Column(
            "table",
            "kind of record the entry is about (subject, visit, session, answer ...)",
            "string",
        ),
        Column("row", "id of that record", "string"),
        Column("subject_id", "code of the subject concerned; empty if none", "string"),
        Column("reason", "reason given (correction, missed visit, conflict choice)", "string"),
        Column("details", "the entry's payload (JSON)", "string"),
    )


def codebook_rows(study: Study) -> Iterator[tuple[str, ...]]:
    """The rows of ``codebook.csv`` (without the header)."""
    for file, columns in (
        (ANSWERS_LONG, answers_long_columns()),
        (VISITS_WIDE, visits_wide_columns(study)),
        (AUDIT_TRAIL, audit_trail_columns()),
    ):
        for c in columns:
            yield (file, c.name, c.description, c.type, c.unit, "", "")
            for code, label in c.codes:
                yield (file, c.name, "", "", "", code, label)
