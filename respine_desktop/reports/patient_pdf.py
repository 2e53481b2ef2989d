"""The patient summary PDF: one subject's visits, scores, changes, endpoint, charts, corrections.

Only the pseudonymous subject code identifies the subject (no year of birth, nothing else).
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable

from respine_desktop import scoring
from respine_desktop.instruments import load_instrument
from respine_desktop.reports import fmt
from respine_desktop.reports.charts import patient_charts
from respine_desktop.reports.data import Correction, PatientSummary, ResponderStatus
from respine_desktop.reports.pdf import (
    Footer,
    build,
    frame_width,
    info_table,
    para,
    rich,
    spacer,
    styles,
    table,
    vector,
)
from respine_desktop.reports.rules import endpoint_text, mcid_text, scoring_rules

STATUS_TEXT = {
    "not_yet_due": "not yet due",
    "due": "due",
    "overdue": "overdue",
    "missed": "missed",
    "in_progress": "in progress",
    "parked": "parked",
    "complete": "complete",
}


SIGNED_TEXT = {"valid": "signed", "broken": "BROKEN"}
STATE_TEXT = {"valid": "valid", "broken": "BROKEN"}


def title(summary: PatientSummary) -> str:
    return (
        f"{summary.study.id} patient summary {summary.subject_code}, "
        f"data cut-off {summary.on.isoformat()}"
    )


def _answer(value: float | int | None, status: str | None) -> str:
    if status is None:
        return fmt.MISSING
    if status == "skipped" or value is None:
        return "skipped"
    return f"{value:g}"


def _visits(summary: PatientSummary, s: dict[str, Any]) -> list[Any]:
    rows: list[list[Any]] = [
        ["Visit", "", "Target date", "Window", "Done on", "Status", "Corrected", "Signed", "Note"]
    ]
    for v in summary.visits:
        corrected = len(summary.corrected(v.code))
        signed = summary.signed(v.code)
        rows.append(
            [
                v.code,
                para(v.label, s["cell"]),
                v.target.isoformat(),
                para(f"{v.opens.isoformat()} to {v.closes.isoformat()}", s["cell"]),
                v.actual_date.isoformat() if v.actual_date else fmt.MISSING,
                STATUS_TEXT.get(v.status, v.status),
                f"{corrected} item(s)" if corrected else "",
                SIGNED_TEXT[signed] if signed else "",
                para(v.missed_reason or "", s["cell"]),
            ]
        )
    widths = [10 * mm, 19 * mm, 19 * mm, 35 * mm, 19 * mm, 17 * mm, 16 * mm, 15 * mm, None]
    return [
        para("Visits", s["h2"]),
        table(rows, widths, align_right_from=None),
    ]


def _primary(summary: PatientSummary, s: dict[str, Any]) -> list[Any]:
    """Page 1's endpoint block: the primary visit's row, its rule, and any correction."""
    ep = summary.study.endpoint
    r = summary.primary
    base = summary.visit(summary.baseline_visit)
    follow = next((v for v in summary.visits if v.code == ep.visit), None)
    rows: list[list[Any]] = [
        [
            "Primary endpoint",
            f"VAS {summary.baseline_visit} \u2192 {ep.visit} (mm)",
            "VAS criterion",
            f"ODI {summary.baseline_visit} \u2192 {ep.visit} (%)",
            "ODI criterion",
            "Responder",
        ]
    ]
    if r is not None and follow is not None:
        rows.append(
            [
                f"{ep.visit} ({STATUS_TEXT.get(follow.status, follow.status)})",
                f"{fmt.score('VAS', base.value('VAS'))} \u2192 "
                f"{fmt.score('VAS', follow.value('VAS'))}"
                + (f" (\u2212{fmt.number(r.vas_improvement)})" if r.vas_improvement else ""),
                fmt.flag(r.vas_criterion, yes="met", no="not met") if r.has_data else fmt.MISSING,
                f"{fmt.score('ODI', base.value('ODI'))} \u2192 "
                f"{fmt.score('ODI', follow.value('ODI'))}",
                fmt.flag(r.odi_criterion, yes="met", no="not met") if r.has_data else fmt.MISSING,
                _responder_cell(r),
            ]
        )
    endpoint_items = [
        c
        for c in summary.corrections
        if c.visit in (summary.baseline_visit, ep.visit) and c.instrument_id in ("vas", "odi")
    ]
    flag = (
        f"<b>Endpoint values corrected:</b> {len(endpoint_items)} answer(s) of the VAS or ODI "
        f"at {summary.baseline_visit} or {ep.visit} were corrected after submission (see "
        "Corrections)."
        if endpoint_items
        else "No VAS or ODI answer behind the endpoint was corrected after submission."
    )
    out: list[Any] = [
        para("Primary endpoint", s["h2"]),
        table(rows, [30 * mm, 36 * mm, 22 * mm, 34 * mm, 22 * mm, None], highlight_rows=[1]),
        para(
            endpoint_text(summary.study) + " VAS values to 0.1 mm, as the rule applies them.",
            s["note"],
        ),
        rich(flag, s["body"]),
    ]
    if summary.withdrawn_on is not None:
        out.append(
            rich(
                f"<b>Withdrawn</b> on {summary.withdrawn_on.isoformat()}: "
                f"{escape(summary.withdrawal_reason or '')}",
                s["body"],
            )
        )
    return out


def _appendix(summary: PatientSummary, s: dict[str, Any]) -> list[Any]:
    out: list[Any] = [
        CondPageBreak(90 * mm),
        para("Appendix: item-level answers (source data verification)", s["title"]),
        para(
            "Every answer that counts at each completed visit (the visit's counting session, as "
            "known on the cut-off day): the stored code, its label, skipped items marked, and "
            "for a corrected answer who corrected it and when (the original is in Corrections). "
            "VAS in mm to 0.1.",
            s["note"],
        ),
    ]
    for visit in summary.items:
        counts = "; ".join(
            f"{load_instrument(i).short_title.get('en', i)}: {visit.count(i)} items, "
            f"{visit.skipped(i)} skipped"
            for i in summary.study.instrument_order
            if visit.count(i)
        )
        rows: list[list[Any]] = [["Item", "Code", "Answer", "Given (UTC)", "Corrected by, when"]]
        for item in visit.items:
            rows.append(
                [
                    item.item_label,
                    "skipped" if item.skipped else _code(item.code),
                    para(item.answer_label, s["cell"]),
                    item.given_at[:19].replace("T", " "),
                    para(
                        f"{item.corrected_by}, {item.corrected_at[:19].replace('T', ' ')}"
                        if item.corrected_by and item.corrected_at
                        else "",
                        s["cell"],
                    ),
                ]
            )
        out += [
            para(
                f"{visit.visit} \u2014 session {visit.session_id[:8]} \u2014 {counts}"
                + (f" \u2014 language {', '.join(visit.languages)}" if visit.languages else ""),
                s["h3"],
            ),
            table(
                rows,
                [30 * mm, 14 * mm, None, 32 * mm, 40 * mm],
                align_right_from=None,
                font_size=6.5,
            ),
        ]
    if not summary.items:
        out.append(para("No visit was completed by the cut-off day.", s["body"]))
    return out


def _code(value: float | int | None) -> str:
    if value is None:
        return fmt.MISSING
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.1f}"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _scores(summary: PatientSummary, s: dict[str, Any]) -> list[Any]:
    codes = [v.code for v in summary.visits]
    rows: list[list[Any]] = [["Score", *codes]]
    for spec in summary.table_measures:
        unit = f" ({spec.unit})" if spec.unit else ""
        rows.append(
            [f"{spec.label}{unit}"]
            + [
                fmt.score(spec.key, v.value(spec.key)) if v.has_scores else fmt.MISSING
                for v in summary.visits
            ]
        )
    label_w = 44 * mm
    col = (frame_width() - label_w) / len(codes)
    return [
        para("Scores", s["h2"]),
        para(
            f"Pain VAS in mm (0 = no pain); ODI in % (0 = no disability); SF-36: "
            f"{summary.sf36_label}. A dash means no value (visit not done, or too few items "
            "answered to compute the score).",
            s["note"],
        ),
        spacer(2),
        table(rows, [label_w] + [col] * len(codes), header_cols=1),
        *([para(summary.vas_line, s["note"])] if summary.vas_line else []),
    ]


def _changes(summary: PatientSummary, s: dict[str, Any]) -> list[Any]:
    follow = [v for v in summary.visits if v.code != summary.baseline_visit]
    rows: list[list[Any]] = [["Change from baseline", *(v.code for v in follow)]]
    measures = sorted({c.measure for c in summary.changes}, key=["VAS", "ODI", "PCS", "MCS"].index)
    for measure in measures:
        changes = [summary.change(v.code, measure) for v in follow]
        rows.append(
            [f"{measure} change"]
            + [fmt.signed(measure, c.change) if c else fmt.MISSING for c in changes]
        )
        rows.append(
            [f"{measure} MCID reached"]
            + [
                fmt.flag(c.mcid) if c and v.has_scores else fmt.MISSING
                for c, v in zip(changes, follow, strict=True)
            ]
        )
    label_w = 44 * mm
    col = (frame_width() - label_w) / max(1, len(follow))
    return [
        para(f"Change from baseline ({summary.baseline_visit}) and MCID", s["h2"]),
        para(
            "Change = follow-up minus baseline (VAS and ODI: negative = better"
            + ("; PCS and MCS: positive = better" if "PCS" in measures else "")
            + f"). {mcid_text(summary.study)}",
            s["note"],
        ),
        spacer(2),
        table(rows, [label_w] + [col] * len(follow), header_cols=1),
    ]


def _responder_cell(r: ResponderStatus) -> str:
    if not r.has_data:
        return "no data"
    return fmt.flag(r.responder)


def _endpoint(summary: PatientSummary, s: dict[str, Any]) -> list[Any]:
    primary = summary.primary
    ep = summary.study.endpoint
    headline = (
        f"Responder at {ep.visit} (primary endpoint): "
        f"<b>{_responder_cell(primary) if primary else fmt.MISSING}</b>"
    )
    rows: list[list[Any]] = [
        [
            "Visit",
            "Endpoint",
            "VAS improvement",
            "VAS criterion",
            "ODI improvement",
            "ODI criterion",
            "Responder",
        ]
    ]
    highlight = []
    for n, r in enumerate(summary.responders, start=1):
        if r.primary:
            highlight.append(n)
        rows.append(
            [
                r.visit,
                "primary" if r.primary else "secondary (follow-up)",
                f"{fmt.number(r.vas_improvement, 1)} mm ({fmt.percent(r.vas_percent)})"
                if r.vas_improvement is not None
                else fmt.MISSING,
                fmt.flag(r.vas_criterion, yes="met", no="not met") if r.has_data else fmt.MISSING,
                f"{fmt.number(r.odi_improvement, 1)} points ({fmt.percent(r.odi_percent)})"
                if r.odi_improvement is not None
                else fmt.MISSING,
                fmt.flag(r.odi_criterion, yes="met", no="not met") if r.has_data else fmt.MISSING,
                _responder_cell(r),
            ]
        )
    widths = [12 * mm, 32 * mm, 32 * mm, 22 * mm, 36 * mm, 22 * mm, None]
    return [
        para("Endpoint: responder", s["h2"]),
        rich(headline, s["key"]),
        spacer(2),
        para(endpoint_text(summary.study), s["note"]),
        spacer(3),
        table(rows, widths, align_right_from=None, highlight_rows=highlight),
        para(
            "Improvement = baseline minus follow-up (percent of baseline in brackets). "
            "Responder status at visits other than the primary endpoint's is reported for "
            "follow-up only. Undetermined = a criterion could not be evaluated (missing data, or "
            "a relative criterion against a baseline of 0).",
            s["note"],
        ),
    ]


def _charts(chart: Flowable, s: dict[str, Any]) -> list[Any]:
    return [
        para("Trajectories", s["h2"]),
        para(
            "Dashed line: baseline; band: baseline \u00b1 MCID (points); dotted red line: the "
            "responder threshold (VAS, ODI); x axis: months since day 0, to scale (points at the "
            "day the visit was done); a visit without a value is a gap, labelled with its status.",
            s["note"],
        ),
        chart,
    ]


def _correction_row(c: Correction, s: dict[str, Any]) -> list[Any]:
    return [
        c.visit,
        para(c.item_label, s["cell"]),
        _answer(c.old_value, c.old_status),
        _answer(c.new_value, c.new_status),
        para(c.by, s["cell"]),
        para(c.at.replace("T", " "), s["cell"]),
        para(c.reason, s["cell"]),
    ]


def _corrections(summary: PatientSummary, s: dict[str, Any]) -> list[Any]:
    out: list[Any] = [para("Corrections", s["h2"])]
    if not summary.corrections:
        out.append(para("No answer of this subject was corrected after submission.", s["body"]))
        return out
    rows: list[list[Any]] = [
        ["Visit", "Item", "Old value", "New value", "By", "When (UTC)", "Reason"]
    ]
    rows += [_correction_row(c, s) for c in summary.corrections]
    widths = [12 * mm, 26 * mm, 16 * mm, 16 * mm, 22 * mm, 30 * mm, None]
    out += [
        para(
            "Staff corrections of submitted answers. The original answers are kept; the scores "
            "above are recomputed from the corrected answers.",
            s["note"],
        ),
        spacer(2),
        table(rows, widths, align_right_from=None),
    ]
    return out


def _signatures(summary: PatientSummary, s: dict[str, Any]) -> list[Any]:
    """The signature manifestations (21 CFR 11.50): username, role, time, meaning, state (the
    heading never left alone at a page's foot: a new page unless 45 mm are left)."""
    out: list[Any] = [CondPageBreak(45 * mm), para("Electronic signatures", s["h2"])]
    if not summary.signatures:
        out.append(para("No electronic signature of this subject's data.", s["body"]))
        return out
    rows: list[list[Any]] = [["Signed", "Username", "Role", "Date and time (UTC)", "Meaning",
                              "State"]]  # fmt: skip
    for g in summary.signatures:
        rows.append(
            [
                g.target,
                para(g.username, s["cell"]),
                g.role,
                para(g.signed_at.replace("T", " "), s["cell"]),
                para(f"{g.meaning}: {g.statement}", s["cell"]),
                STATE_TEXT.get(g.state, g.state),
            ]
        )
    widths = [18 * mm, 22 * mm, 22 * mm, 34 * mm, None, 16 * mm]
    out += [
        para(
            "Each signature covers the SHA-256 of the data signed (answers, corrections, scores). "
            "BROKEN: the data changed after signing (a correction, another session counted); "
            "the data must be signed again. States as of the day this report was made.",
            s["note"],
        ),
        spacer(2),
        table(rows, widths, align_right_from=None),
    ]
    return out


def _instruments(summary: PatientSummary, s: dict[str, Any]) -> list[Any]:
    rows: list[list[Any]] = [["Instrument", "Version", "Content checksum (SHA-256)"]]
    uses = summary.instruments
    if uses:
        rows += [[u.title, u.version, u.checksum] for u in uses]
    else:
        for instrument_id in summary.study.instrument_order:
            inst = load_instrument(instrument_id)
            rows.append([inst.title.get("en", inst.id), inst.version, inst.checksum])
    versions = ", ".join(summary.scoring_versions) or scoring.SCORING_VERSION
    out: list[Any] = [
        para("Instruments and scoring rules", s["h2"]),
        para(
            "Instrument versions of the answers in this report"
            if uses
            else "Instruments of this version of the application (no answers yet)",
            s["note"],
        ),
        spacer(2),
        table(rows, [55 * mm, 22 * mm, None], align_right_from=None, font_size=7),
        spacer(4),
    ]
    out.append(
        para(f"Scores as stored: {versions}. " + " ".join(scoring_rules(summary.study)), s["body"])
    )
    credits = {u.credit for u in uses} or {
        load_instrument(i).credit.get("en", "") for i in summary.study.instrument_order
    }
    out.append(para(" ".join(c for c in sorted(credits) if c), s["note"]))
    return out


def patient_pdf(summary: PatientSummary, footer: Footer) -> tuple[bytes, int]:
    """The patient summary PDF of `summary`: (bytes, page count)."""
    s = styles()
    study = summary.study
    info = [
        ["Study", study.title],
        ["Protocol", study.protocol],
        ["Subject", summary.subject_code],
        ["Site", summary.site_code],
        ["Day 0 (injection)", summary.day0.isoformat()],
        [
            "Data cut-off",
            f"{summary.on.isoformat()} (only what was recorded by the end of that day, UTC)",
        ],
    ]
    chart = vector(patient_charts(summary), frame_width())  # parsed once, drawn in every layout

    def story() -> list[Any]:
        return [
            para(f"{study.id} patient summary", s["title"]),
            info_table(info, s["cell"]),
            *_primary(summary, s),
            *_visits(summary, s),
            *_scores(summary, s),
            *_changes(summary, s),
            *_endpoint(summary, s),
            *_charts(chart, s),
            *_corrections(summary, s),
            *_signatures(summary, s),
            *_instruments(summary, s),
            *_appendix(summary, s),
        ]

    return build(
        story,
        footer,
        title=title(summary),
        subject=f"{study.id} patient summary (pseudonymous)",
    )
