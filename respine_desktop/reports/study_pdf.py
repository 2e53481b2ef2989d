"""The study summary PDF: flow of subjects through visits, mean ± SD per visit, responders.

Like the trial paper's Figure 1 (flow) and Figure 2 (evolution of pain, disability and quality of
life), made from the database; split by arm only when an arms file is given (the application
never stores allocation).
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import CondPageBreak, Flowable

from respine_desktop.instruments import load_instrument
from respine_desktop.reports import fmt
from respine_desktop.reports.charts import study_charts
from respine_desktop.reports.measures import MeasureSpec
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
from respine_desktop.reports.rules import endpoint_text, scoring_rules
from respine_desktop.reports.stats import METHODS, Interval, fisher_p, newcombe, wilson
from respine_desktop.reports.study_data import (
    FLOW,
    GroupSummary,
    ResponderTally,
    Stat,
    StudySummary,
)


def title(summary: StudySummary) -> str:
    return f"{summary.study.id} study summary, data cut-off {summary.on.isoformat()}"


def _domains(summary: StudySummary) -> tuple[MeasureSpec, ...]:
    charted = {m.key for m in summary.measures}
    return tuple(
        m for m in summary.table_measures if m.instrument_id == "sf36" and m.key not in charted
    )


def _group_cell(group: GroupSummary, s: dict[str, Any]) -> Any:
    return para(group.name, s["cell"])


def _first(split: bool) -> list[float]:
    return [13 * mm] + ([34 * mm] if split else [])


_FLOW_HEADS = {
    "done": "Done",
    "missed": "Missed",
    "withdrawn": "With-\ndrawn",
    "lost": "Lost",
    "overdue": "Over-\ndue",
    "open": "Open",
    "not_yet_due": "Not\ndue",
}


def _flow(summary: StudySummary, s: dict[str, Any]) -> list[Any]:
    split = bool(summary.arms)
    rows: list[list[Any]] = [
        [
            "Visit",
            *(["Arm"] if split else []),
            "Regist-\nered",
            *(_FLOW_HEADS[c] for c in FLOW),
            "Due",
            "Done / due",
        ]
    ]
    for code in summary.study.visit_codes:
        for group in summary.groups:
            counts = [group.flow_count(code, c) for c in FLOW]
            due = (
                group.subjects
                - group.flow_count(code, "open")
                - group.flow_count(code, "not_yet_due")
            )
            rows.append(
                [
                    code,
                    *([_group_cell(group, s)] if split else []),
                    group.subjects,
                    *counts,
                    due,
                    fmt.rate(group.flow_count(code, "done"), due),
                ]
            )
    first = _first(split)
    rest = frame_width() - sum(first) - 24 * mm
    widths = [*first, *([rest / 9] * 9), 24 * mm]
    per_arm = "; ".join(f"{escape(g.name)}: {g.subjects}" for g in summary.arms)
    return [
        para("Flow of subjects through visits", s["h2"]),
        rich(
            f"Subjects registered by {summary.on.isoformat()}: <b>{summary.subjects}</b>"
            + (f" ({per_arm})" if per_arm else ""),
            s["key"],
        ),
        spacer(3),
        table(rows, widths, align_right_from=len(first), font_size=7),
        para(
            "Each row adds up to the subjects registered: Done = questionnaires submitted; Missed "
            "= marked missed with a reason; Withdrawn = withdrawal recorded before the window "
            "closed, visit not done; Lost = window closed without data or mark and no later visit "
            "done; Overdue = window closed without data or mark, a later visit done; Open = window "
            "open (or a sitting in progress); Not due = window not yet open. Due = registered "
            "minus open and not due.",
            s["note"],
        ),
        rich(_signed_line(summary), s["key"]),
    ]


def _signed_line(summary: StudySummary) -> str:
    """How many subjects' primary endpoint visits are e-signed (21 CFR Part 11)."""
    visit = summary.study.endpoint.visit
    done = summary.overall.flow_count(visit, "done")
    text = (
        f"{visit} visits e-signed by an investigator: <b>{summary.primary_signed}</b> of "
        f"{summary.subjects} subjects ({done} with {visit} done)"
    )
    if summary.primary_signed_broken:
        text += (
            f"; <b>{summary.primary_signed_broken} BROKEN</b> (data changed after signing, to "
            "sign again)"
        )
    return text + "."


def _missed(summary: StudySummary, s: dict[str, Any]) -> list[Any]:
    reasons = list(summary.overall.missed_reasons)
    if not reasons:
        return [para("Missed visits: none marked by the cut-off.", s["note"])]
    split = bool(summary.arms)
    groups = [*summary.arms, summary.overall] if split else [summary.overall]
    rows: list[list[Any]] = [["Reason", *(para(g.name, s["cell"]) for g in groups)]]
    for reason in reasons:
        rows.append([para(reason, s["cell"]), *(g.missed_reasons.get(reason, 0) for g in groups)])
    col = min(24 * mm, (frame_width() - 60 * mm) / len(groups))
    return [
        para("Missed visits by reason (all visits)", s["h2"]),
        table(rows, [None, *([col] * len(groups))], align_right_from=1, font_size=7),
    ]


def _stat_cells(st: Stat, uncomputable: int) -> list[Any]:
    ci = st.ci
    return [
        st.n,
        fmt.mean_sd(st.mean, st.sd),
        fmt.ci(ci.low if ci else None, ci.high if ci else None),
        uncomputable,
    ]


def _scores(
    summary: StudySummary, s: dict[str, Any], measures: tuple[MeasureSpec, ...], heading: str
) -> list[Any]:
    split = bool(summary.arms)
    rows: list[list[Any]] = [
        [
            "Measure",
            "Visit",
            *(["Arm"] if split else []),
            "n",
            "Mean \u00b1 SD",
            "95 % CI",
            "Uncomp.",
        ]
    ]
    for m in measures:
        for code in summary.study.visit_codes:
            for group in summary.groups:
                st = group.stat(code, m.key)
                unc = group.uncomputable.get(code, {}).get(m.key, 0)
                rows.append(
                    [
                        para(m.label, s["cell"]),
                        code,
                        *([_group_cell(group, s)] if split else []),
                        *_stat_cells(st, unc),
                    ]
                )
    widths = [40 * mm, 12 * mm, *([34 * mm] if split else []), 10 * mm, 28 * mm, 30 * mm, None]
    return [
        para(heading, s["h2"]),
        para(
            "n = subjects with the score; 95 % CI of the mean from Student's t; Uncomp. = visits "
            f"done whose score could not be computed (too many items skipped). SF-36: "
            f"{summary.sf36_label}.",
            s["note"],
        ),
        spacer(2),
        table(rows, widths, align_right_from=3 if split else 2, font_size=7),
    ]


def _changes(summary: StudySummary, s: dict[str, Any]) -> list[Any]:
    split = bool(summary.arms)
    baseline = summary.study.endpoint.baseline_visit
    rows: list[list[Any]] = [
        [
            "Measure",
            "Visit",
            *(["Arm"] if split else []),
            "n",
            "Change \u00b1 SD",
            "95 % CI",
            "MCID attained (Wilson 95 % CI)",
        ]
    ]
    for m in summary.change_measures:
        for code in summary.study.visit_codes:
            if code == baseline:
                continue
            for group in summary.groups:
                st = group.change(code, m.key)
                k, n = group.mcid.get(code, {}).get(m.key, (0, 0))
                w = wilson(k, n)
                ci = st.ci
                rows.append(
                    [
                        m.key,
                        code,
                        *([_group_cell(group, s)] if split else []),
                        st.n,
                        fmt.mean_sd(st.mean, st.sd),
                        fmt.ci(ci.low if ci else None, ci.high if ci else None),
                        _rci(k, n, w),
                    ]
                )
    widths = [15 * mm, 12 * mm, *([34 * mm] if split else []), 10 * mm, 26 * mm, 28 * mm, None]
    return [
        para(f"Change from baseline ({baseline}) and MCID", s["h2"]),
        para(
            "Change = follow-up minus baseline, per subject with both scores (negative = better "
            "for VAS and ODI, positive = better for PCS and MCS); 95 % CI from Student's t. MCID "
            "(study configuration) attained: subjects attaining it / subjects with both scores.",
            s["note"],
        ),
        spacer(2),
        table(rows, widths, align_right_from=3 if split else 2, font_size=7),
    ]


def _charts(chart: Flowable, s: dict[str, Any]) -> list[Any]:
    return [
        CondPageBreak(120 * mm),
        para("Evolution of pain, disability and quality of life", s["h2"]),
        chart,
    ]


def _rci(k: int, n: int, interval: Interval | None) -> str:
    return fmt.rate_ci(
        k, n, interval.low if interval else None, interval.high if interval else None
    )


def _pairs(summary: StudySummary) -> list[tuple[GroupSummary, GroupSummary]]:
    arms = summary.arms
    return [(arms[i], arms[j]) for i in range(len(arms)) for j in range(i + 1, len(arms))]


def _between(a: ResponderTally, b: ResponderTally, *, due: bool) -> tuple[str, str, str]:
    n1 = a.due if due else a.determined
    n2 = b.due if due else b.determined
    if not n1 or not n2:
        return fmt.MISSING, fmt.MISSING, fmt.MISSING
    diff = 100 * (a.responders / n1 - b.responders / n2)
    interval = newcombe(a.responders, n1, b.responders, n2)
    p = fisher_p(a.responders, n1, b.responders, n2)
    sign = "+" if round(diff, 1) > 0 else ""
    return (
        f"{sign}{fmt.number(diff)} points",
        fmt.ci(interval.low if interval else None, interval.high if interval else None, scale=100),
        fmt.MISSING if p is None else fmt.p_value(p),
    )


def _responders(summary: StudySummary, s: dict[str, Any]) -> list[Any]:
    ep = summary.study.endpoint
    split = bool(summary.arms)
    lines = []
    for group in summary.groups:
        r = group.primary
        if r is None:
            continue
        who = f" ({escape(group.name)})" if split else ""
        ci, sens = r.rate_ci, r.sensitivity_ci
        lines.append(
            f"Responder rate at {ep.visit}{who}: <b>"
            f"{_rci(r.responders, r.determined, ci)}"
            f"</b>; missing as non-responder: "
            f"{_rci(r.responders, r.due, sens)}"
        )
    head = [
        "Visit",
        *(["Arm"] if split else []),
        "With\ndata",
        "Un-\ndet.",
        "Responders / determined\n(Wilson 95 % CI)",
        "Missing = non-responder:\nresponders / due (Wilson CI)",
    ]
    rows: list[list[Any]] = [head]
    highlight = []
    visits = [r.visit for r in summary.groups[0].responders]
    for visit in visits:
        for group in summary.groups:
            r = group.responder(visit)
            if r is None:
                continue
            ci, sens = r.rate_ci, r.sensitivity_ci
            rows.append(
                [
                    visit,
                    *([_group_cell(group, s)] if split else []),
                    r.with_data,
                    r.undetermined,
                    _rci(r.responders, r.determined, ci),
                    _rci(r.responders, r.due, sens),
                ]
            )
            if r.primary:
                highlight.append(len(rows) - 1)
    first = [12 * mm] + ([30 * mm] if split else [])
    rest = frame_width() - sum(first) - 22 * mm
    widths = [*first, 11 * mm, 11 * mm, rest / 2, rest / 2]
    story: list[Any] = [
        para("Responders", s["h2"]),
        *[rich(line, s["body"]) for line in lines],
        spacer(2),
        para(endpoint_text(summary.study), s["note"]),
        spacer(3),
        table(rows, widths, align_right_from=len(first), highlight_rows=highlight, font_size=7),
        para(
            "Highlighted: the primary endpoint's visit. With data = subjects with submitted "
            "questionnaires at the visit. Undet. = a "
            "criterion could not be evaluated (a score missing, or a relative criterion against a "
            "baseline of 0). Due = subjects whose visit window had closed or who did the visit by "
            "the cut-off (withdrawn and lost included).",
            s["note"],
        ),
    ]
    pairs = _pairs(summary)
    if pairs:
        rows = [["Visit", "Comparison", "Analysis", "Difference", "Newcombe 95 % CI", "Fisher p"]]
        highlight = []
        for visit in visits:
            for a, b in pairs:
                ra, rb = a.responder(visit), b.responder(visit)
                if ra is None or rb is None:
                    continue
                for due, label in ((False, "observed"), (True, "missing = non-resp.")):
                    rows.append(
                        [
                            visit,
                            para(f"{a.name} \u2212 {b.name}", s["cell"]),
                            label,
                            *_between(ra, rb, due=due),
                        ]
                    )
                    if ra.primary:
                        highlight.append(len(rows) - 1)
        story += [
            para("Between-arm difference in responder rate", s["h2"]),
            para(
                "Difference = first arm's rate minus the second's, in percentage points; 95 % CI "
                "by Newcombe's hybrid score method (method 10); p from the two-sided Fisher exact "
                "test on the 2 \u00d7 2 table (responders vs not).",
                s["note"],
            ),
            spacer(2),
            table(
                rows,
                [22 * mm, None, 30 * mm, 22 * mm, 32 * mm, 16 * mm],
                align_right_from=3,
                highlight_rows=highlight,
                font_size=7,
            ),
        ]
    return story


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
            f"listed, each of the database's subjects exactly once. Registered by the cut-off: "
            f"{groups}. Allocation is read from the file for this report only and is not stored.",
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
        [
            "Data cut-off",
            f"{summary.on.isoformat()} (only what was recorded by the end of that day, UTC)",
        ],
    ]
    chart = vector(study_charts(summary), frame_width())  # parsed once, drawn in every layout

    def story() -> list[Any]:
        return [
            para(f"{study.id} study summary", s["title"]),
            info_table(info, s["cell"]),
            *_arms(summary, s),
            *_flow(summary, s),
            *_missed(summary, s),
            *_responders(summary, s),
            *_scores(summary, s, summary.measures, "Scores per visit: mean \u00b1 SD (n), 95 % CI"),
            *_changes(summary, s),
            *_charts(chart, s),
            CondPageBreak(60 * mm),
            spacer(10),
            para("Statistical appendix", s["title"]),
            *_scores(summary, s, _domains(summary), "SF-36 domains per visit"),
            para("Methods", s["h2"]),
            para(METHODS, s["body"]),
            *_rules(summary, s),
        ]

    return build(story, footer, title=title(summary), subject=f"{study.id} study summary")
