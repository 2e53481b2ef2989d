"""Charts of VAS, ODI, PCS and MCS over visits: one subject's trajectory, or the study's mean ± SD.

matplotlib's object API only (a `Figure` with an Agg canvas, never pyplot: no global state, safe
off the UI thread). The ``draw_*`` functions draw into a figure the caller owns (the Qt console
can pass a figure on its own canvas); the ``*_png`` functions return PNG bytes for the PDFs.

Subject charts: the visits of the schedule on the x axis, the subject's values joined by a line
that breaks at visits without a value (a missed visit is a gap, and labelled), the baseline as a
dashed line and the MCID as a band around it. Study charts: mean ± SD per visit per group, with
n per visit under the visit code.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.transforms import blended_transform_factory
from PIL import Image

from respine_desktop.reports.data import PatientSummary
from respine_desktop.reports.measures import MeasureSpec, mcid_points
from respine_desktop.reports.study_data import StudySummary

PATIENT_SIZE = (7.2, 4.6)  # inches
STUDY_SIZE = (7.2, 4.9)
DPI = 150
COLORS = ("#1f5f9f", "#c4432b", "#2e8b57", "#8a4fa8", "#d08a00", "#4a4a4a", "#1a9da5", "#a0522d")
_FONT = 7.5
# What a visit without a value is labelled with on a subject chart.
_GAP_LABELS = {
    "missed": "missed",
    "overdue": "overdue",
    "in_progress": "open",
    "parked": "open",
    "due": "due",
}


def new_figure(size: tuple[float, float]) -> Figure:
    """A figure of `size` inches on its own Agg canvas (no pyplot).

    No layout engine: the ``draw_*`` functions place their axes with fixed margins, which costs
    nothing, where constrained layout measures every text twice (a third of a chart's time).
    """
    fig = Figure(figsize=size)
    FigureCanvasAgg(fig)
    return fig


def _margins(fig: Figure, **margins: float) -> None:
    # A caller's figure may have its own layout engine (the console's): leave it in charge.
    if fig.get_layout_engine() is None:
        fig.subplots_adjust(**margins)


def png(fig: Figure, dpi: int = DPI) -> bytes:
    """The figure rendered as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()


def rgb_image(fig: Figure, dpi: int = DPI) -> Image.Image:
    """The figure rendered as an RGB bitmap (what a PDF embeds; no PNG round trip, no alpha)."""
    fig.set_dpi(dpi)
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    canvas.draw()  # type: ignore[no-untyped-call]
    width, height = canvas.get_width_height(physical=True)
    buffer = canvas.buffer_rgba()  # type: ignore[no-untyped-call]
    rgba = Image.frombuffer("RGBA", (width, height), buffer, "raw", "RGBA", 0, 1)
    return rgba.convert("RGB")


def _title(spec: MeasureSpec) -> str:
    unit = f" ({spec.unit})" if spec.unit else ""
    direction = "lower = better" if spec.lower_is_better else "higher = better"
    return f"{spec.label}{unit}, {direction}"


def _limits(spec: MeasureSpec, values: Sequence[float]) -> tuple[float, float]:
    if spec.key in ("VAS", "ODI") or not values:
        return (0.0, 100.0)
    lo, hi = min(values), max(values)
    pad = max(5.0, (hi - lo) * 0.15)
    return (max(0.0, lo - pad), min(100.0, hi + pad))


MONTH = 30.4375  # days: x axes are to time scale, in months since day 0


def _months(days: float) -> float:
    return days / MONTH


def _tick(code: str, month: float) -> str:
    text = f"{month:.0f}"
    return text if code == f"M{text}" else f"{code}"


def _style(ax: Axes, ticks: Sequence[float], codes: Sequence[str], spec: MeasureSpec) -> None:
    # Fixed title and (empty) axis-label positions: matplotlib's automatic placement measures
    # every tick label of the figure to avoid overlaps, half of the chart's drawing time.
    ax.set_title(_title(spec), fontsize=_FONT + 1, y=1.0, pad=4)
    ax.xaxis.set_label_coords(0.5, -0.17)
    ax.yaxis.set_label_coords(-0.1, 0.5)
    # Visits are months apart on a time scale (M0 and M1 are close): ticks show the month, and
    # the visit code only where the month says something else.
    labels = [_tick(code, t) for code, t in zip(codes, ticks, strict=True)]
    ax.set_xticks(list(ticks), labels)
    ax.set_xlim(min(ticks) - 1, max(ticks) + 1)
    ax.set_xlabel("months since day 0", fontsize=_FONT - 0.5, labelpad=1)
    ax.tick_params(labelsize=_FONT)
    ax.grid(axis="y", alpha=0.3, linewidth=0.6)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def _threshold(summary: PatientSummary, key: str, baseline: float) -> float | None:
    """The follow-up value at which the responder criterion of `key` is met (VAS, ODI)."""
    ep = summary.study.endpoint
    if key == "VAS":
        return baseline - max(ep.vas_points, baseline * ep.vas_percent / 100)
    if key == "ODI":
        if ep.odi_rule == "relative":
            return baseline * (1 - ep.odi_threshold / 100)
        return baseline - ep.odi_threshold
    return None


def _patient_axis(ax: Axes, summary: PatientSummary, spec: MeasureSpec) -> None:
    visits = summary.visits
    codes = [v.code for v in visits]
    ticks = [_months((v.target - summary.day0).days) for v in visits]
    xs = [
        _months(((v.actual_date or v.target) - summary.day0).days) if v.has_scores else t
        for v, t in zip(visits, ticks, strict=True)
    ]
    raw = [v.value(spec.key) for v in visits]
    ys = [math.nan if y is None else y for y in raw]
    known = [y for y in raw if y is not None]
    baseline = summary.visit(summary.baseline_visit).value(spec.key)
    mcid = mcid_points(summary.study, spec.key)
    band: list[float] = []
    if baseline is not None:
        if mcid is not None:
            band = [baseline - mcid, baseline + mcid]
            ax.axhspan(
                band[0],
                band[1],
                color="#9fb7d0",
                alpha=0.25,
                linewidth=0,
                label="baseline \u00b1 MCID",
            )
        ax.axhline(baseline, color="#555555", linestyle="--", linewidth=1, label="baseline")
        threshold = _threshold(summary, spec.key, baseline)
        if threshold is not None:
            ax.axhline(
                threshold,
                color="#c4432b",
                linestyle=":",
                linewidth=1.2,
                label="responder threshold",
            )
            band.append(threshold)
    ax.plot(xs, ys, color=COLORS[0], marker="o", markersize=4, linewidth=1.8, label="subject")
    lo, hi = _limits(spec, known + band)
    ax.set_ylim(lo, hi)
    on_axes = blended_transform_factory(ax.transData, ax.transAxes)
    for x, visit, y in zip(xs, visits, raw, strict=True):
        gap = _GAP_LABELS.get(visit.status)
        if y is None and gap is not None:
            if visit.status == "missed":
                ax.axvspan(x - 0.4, x + 0.4, color="#eeeeee", linewidth=0, zorder=0)
            ax.text(
                x,
                0.5,
                gap,
                transform=on_axes,
                rotation=90,
                ha="center",
                va="center",
                fontsize=_FONT - 0.5,
                color="#777777",
            )
    if not known:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", color="#777777")
    _style(ax, ticks, codes, spec)


def draw_patient_charts(fig: Figure, summary: PatientSummary) -> None:
    """Draw the subject's four charts (2 × 2) into `fig`."""
    axes = fig.subplots(2, 2)
    for ax, spec in zip(axes.flat, summary.chart_measures, strict=True):
        _patient_axis(ax, summary, spec)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncols=4, fontsize=_FONT, frameon=False)
    _margins(fig, left=0.065, right=0.985, top=0.94, bottom=0.13, wspace=0.16, hspace=0.42)


def svg(fig: Figure) -> bytes:
    """The figure as SVG (text as paths: no font needed where it is drawn), for vector PDFs."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="svg", metadata={"Date": None})
    return buffer.getvalue()


def patient_charts(summary: PatientSummary) -> bytes:
    """The subject's four charts as SVG (vector)."""
    fig = new_figure(PATIENT_SIZE)
    draw_patient_charts(fig, summary)
    return svg(fig)


def _study_axis(ax: Axes, summary: StudySummary, spec: MeasureSpec) -> None:
    codes = summary.study.visit_codes
    ticks = [_months(summary.study.visit(c).day) for c in codes]
    groups = summary.groups
    width = min(0.5, 2.4 / len(groups)) if len(groups) > 1 else 0.0
    extent: list[float] = []
    for g, group in enumerate(groups):
        offset = (g - (len(groups) - 1) / 2) * width
        stats = [group.stat(code, spec.key) for code in codes]
        xs = [t + offset for t in ticks]
        means = [math.nan if s.mean is None else s.mean for s in stats]
        color = COLORS[g % len(COLORS)]
        ax.plot(xs, means, color=color, marker="o", markersize=3.5, linewidth=1.4, label=group.name)
        bars = [
            (x, s.mean, s.sd)
            for x, s in zip(xs, stats, strict=True)
            if s.mean is not None and s.sd is not None
        ]
        if bars:
            ax.errorbar(
                [b[0] for b in bars],
                [b[1] for b in bars],
                yerr=[b[2] for b in bars],
                fmt="none",
                ecolor=color,
                elinewidth=0.9,
                capsize=2,
            )
        for s in stats:
            if s.mean is not None:
                sd = s.sd or 0.0
                extent += [s.mean - sd, s.mean + sd]
    ax.set_ylim(*_limits(spec, extent))
    _style(ax, ticks, codes, spec)
    if not extent:
        ax.text(0.5, 0.5, "no data", transform=ax.transAxes, ha="center", color="#777777")


def study_size(summary: StudySummary) -> tuple[float, float]:
    """The study chart's size in inches: taller by one legend row per two arms."""
    rows = math.ceil(len(summary.groups) / 2) if len(summary.groups) > 1 else 0
    return (STUDY_SIZE[0], STUDY_SIZE[1] + 0.2 * rows)


def draw_study_charts(fig: Figure, summary: StudySummary) -> None:
    """Draw mean ± SD per visit of the four measures (2 × 2) into `fig`, one line per group.

    x axes are to time scale (months since day 0); with several arms their points are spread a
    little around each visit so that error bars do not hide each other. n per visit and arm are
    in the report's tables, not under the axes (they would overlap with 8 arms)."""
    axes = fig.subplots(2, 2)
    for ax, spec in zip(axes.flat, summary.measures, strict=True):
        _study_axis(ax, summary, spec)
    note = "Mean \u00b1 SD per visit (n in the tables); x axis to time scale"
    height = fig.get_figheight()
    if len(summary.groups) > 1:
        handles, labels = axes.flat[0].get_legend_handles_labels()
        fig.legend(
            handles,
            labels,
            loc="lower center",
            ncols=2,
            fontsize=_FONT,
            frameon=False,
            title=note,
            title_fontsize=_FONT,
        )
        rows = math.ceil(len(labels) / 2)
        bottom = (0.45 + 0.17 * rows) / height
    else:
        fig.text(0.5, 0.015, note, ha="center", va="bottom", fontsize=_FONT)
        bottom = 0.5 / height
    _margins(fig, left=0.065, right=0.985, top=0.945, bottom=bottom + 0.03, wspace=0.16, hspace=0.5)


def study_charts(summary: StudySummary) -> bytes:
    """The study's four mean ± SD charts as SVG (vector)."""
    fig = new_figure(study_size(summary))
    draw_study_charts(fig, summary)
    return svg(fig)
