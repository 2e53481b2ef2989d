"""The study summary PDF: flow of subjects through visits, mean ± SD per visit, responders.

Like the trial paper's Figure 1 (flow) and Figure 2 (evolution of pain, disability and quality of
life), made from the database; split by arm only when an arms file is given (the application
never stores allocation).
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm

from respine_desktop.instruments import load_instrument
from respine_desktop.reports import fmt
from respine_desktop.reports.charts import study_charts
from respine_desktop.reports.pdf import (
    Footer,
    build,
    frame_width,
    image,
    info_table,
    para,
    rich,
    spacer,
    styles,
    table,
)
from respine_desktop.reports.rules import endpoint_text, scoring_rules
from respine_desktop.reports.study_data import GroupSummary, StudySummary


def title(summary: StudySummary) -> str:
    return f"{summary.study.id} study summary"


def _flow(summary: StudySummary, s: dict[str, Any]) -> list[Any]:
    rows: list[list[Any]] = [
        [
            "Visit",
            "",
            "Window opened",
            "Completed",
            "Missed",
            "Overdue",
            "Open",
            "Due",
            "Not yet due",
            "Completeness",
        ]
    ]
    for count in summary.flow:
        rows.append(
            [
                count.visit_code,
                summary.visit_label(count.visit_code),
                count.window_opened,
                count.complete,
                count.count("missed"),
                count.count("overdue"),
                count.count("in_progress") + count.count("parked"),
                count.count("due"),
                count.count("not_yet_due"),
                fmt.rate(count.complete, count.expected),
            ]
        )
    widths = [12 * mm, 20 * mm, 20 * mm, 17 * mm, 14 * mm, 15 * mm, 12 * mm, 12 * mm, 19 * mm, None]
    return [
        para("Flow of subjects through visits", s["h2"]),
        rich(f"Subjects registered: <b>{summary.subjects}</b>", s["key"]),
        spacer(3),
        table(rows, widths, align_right_from=2),
        para(
            "Completed = questionnaires submitted. Open = a session in progress or parked. "
            "Completeness = completed / expected, where expected = visits completed or whose "
            f"window had closed by {summary.on.isoformat()} (due visits still inside their window "
            "are not counted).",
            s["note"],
        ),
    ]


def _stats(summary: StudySummary, s: dict[str, Any]) -> list[Any]:
    split = bool(summary.arms)
    head = ["Visit", *(["Arm"] if split else []), *(m.label for m in summary.measures)]
    rows: list[list[Any]] = [head]
    for code in summary.study.visit_codes:
        for group in summary.groups:
            cells = []
            for m in summary.measures:
                st = group.stat(code, m.key)
                cells.append(
                    f"{fmt.mean_sd(st.mean, st.sd)} (n={st.n})" if st.n else f"{fmt.MISSING} (n=0)"
                )
            rows.append([code, *([para(group.name, s["cell"])] if split else []), *cells])
    first = [14 * mm] + ([30 * mm] if split else [])
    col = (frame_width() - sum(first)) / len(summary.measures)
    units = ", ".join(f"{m.key} in {m.unit}" for m in summary.measures if m.unit)
    return [
        para("Scores per visit: mean \u00b1 SD (n)", s["h2"]),
        para(
            f"{units}; SF-36: {summary.sf36_label}. SD = sample standard deviation; "
            "n = subjects with the score at that visit.",
            s["note"],
        ),
        spacer(2),
        table(rows, first + [col] * len(summary.measures), align_right_from=len(first)),
    ]


def _charts(summary: StudySummary, s: dict[str, Any]) -> list[Any]:
    return [
        para("Evolution of pain, disability and quality of life", s["h2"]),
        image(study_charts(summary), frame_width()),
    ]


def _responder_rows(group: GroupSummary, split: bool, s: dict[str, Any]) -> list[list[Any]]:
    rows = []
    for r in group.responders:
        rows.append(
            [
                r.visit,
                *([para(group.name, s["cell"])] if split else []),
                "primary" if r.primary else "secondary",
                r.with_data,
                r.responders,
                r.non_responders,
                r.undetermined,
                fmt.rate(r.responders, r.determined),
            ]
        )
    return rows


def _responders(summary: StudySummary, s: dict[str, Any]) -> list[Any]:
    ep = summary.study.endpoint
    split = bool(summary.arms)
    lines = []
    for group in summary.groups:
        primary = group.primary
        if primary is None:
            continue
        who = f" ({escape(group.name)})" if split else ""
        shown = fmt.rate(primary.responders, primary.determined)
        lines.append(
            f"Responder rate at {ep.visit}{who}: <b>{shown}</b>"
            f" &#8212; denominator: {primary.determined} subjects whose responder status at "
            f"{ep.visit} is determined ({primary.with_data} with {ep.visit} questionnaires, "
            f"{primary.undetermined} undetermined)"
        )
    head = [
        "Visit",
        *(["Arm"] if split else []),
        "Endpoint",
        "With data",
        "Responders",
        "Non-resp.",
        "Undeterm.",
        "Rate (responders / determined)",
    ]
    rows: list[list[Any]] = [head]
    highlight = []
    visits = [r.visit for r in summary.groups[0].responders]
    for visit in visits:
        for group in summary.groups:
            tally = group.responder(visit)
            if tally is None:
                continue
            rows += _responder_rows(
                GroupSummary(group.name, group.subjects, {}, (tally,)), split, s
            )
            if tally.primary:
                highlight.append(len(rows) - 1)
    first = [14 * mm] + ([30 * mm] if split else [])
    widths = [*first, 20 * mm, 17 * mm, 19 * mm, 17 * mm, 18 * mm, None]
    return [
        para("Responders", s["h2"]),
        *[rich(line, s["body"]) for line in lines],
        spacer(2),
        para(endpoint_text(summary.study), s["note"]),
        spacer(3),
        table(rows, widths, align_right_from=len(first) + 1, highlight_rows=highlight),
        para(
            "With data = subjects with submitted questionnaires at the visit. Undetermined = a "
            "criterion could not be evaluated (baseline or follow-up score missing, or a relative "
            "criterion against a baseline of 0). Visits other than the primary endpoint's are "
            "reported as follow-up only.",
            s["note"],
        ),
    ]


def _arms(summary: StudySummary, s: dict[str, Any]) -> list[Any]:
    use = summary.arms_use
    if use is None:
        return [
            para(
                "Not split by arm: the application never stores treatment allocation (give an "
                "arms file after unblinding to split plots and responders by arm).",
                s["note"],
            )
        ]
    groups = ", ".join(f"{g.name}: {g.subjects} subjects" for g in summary.arms)
    return [
        para(
            f"Split by arm from {use.source} (SHA-256 {use.sha256}): {use.listed} subjects "
            f"listed, {use.matched} found in this database, {use.unmatched} not. {groups}. "
            "Allocation is read from the file for this report only and is not stored.",
            s["note"],
        )
    ]


def _rules(summary: StudySummary, s: dict[str, Any]) -> list[Any]:
    versions = ", ".join(summary.scoring_versions) or "none yet"
    rows: list[list[Any]] = [["Instrument", "Version", "Content checksum (SHA-256)"]]
    credits = []
    for instrument_id in summary.study.instrument_order:
        inst = load_instrument(instrument_id)
        rows.append([inst.title.get("en", inst.id), inst.version, inst.checksum])
        credits.append(inst.credit.get("en", ""))
    return [
        para("Instruments and scoring rules", s["h2"]),
        table(rows, [55 * mm, 22 * mm, None], align_right_from=None, font_size=7),
        spacer(4),
        para(f"Scores as stored: {versions}. " + " ".join(scoring_rules(summary.study)), s["body"]),
        para(" ".join(credits), s["note"]),
    ]


def study_pdf(summary: StudySummary, footer: Footer) -> tuple[bytes, int]:
    """The study summary PDF of `summary`: (bytes, page count)."""
    s = styles()
    study = summary.study
    info = [
        ["Study", study.title],
        ["Protocol", study.protocol],
        ["Sites", ", ".join(summary.sites)],
        ["Statuses as of", summary.on.isoformat()],
    ]
    story: list[Any] = [
        para(f"{study.id} study summary", s["title"]),
        info_table(info, s["cell"]),
        *_arms(summary, s),
        *_flow(summary, s),
        *_stats(summary, s),
        *_responders(summary, s),
        *_charts(summary, s),
        *_rules(summary, s),
    ]
    return build(story, footer, title=title(summary), subject=f"{study.id} study summary")
