"""The study's numbers for the study summary, aggregated in one streaming pass over subjects.

Memory stays bounded whatever the number of subjects: scores are read one subject at a time
(`storage.iter_study_scores`) and folded into running accumulators (Welford's mean and variance,
responder tallies) per group (all subjects, and each arm when an arms file is given); the flow
of subjects through visits is counted by the database (`storage.visit_status_counts`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date

from respine_desktop import schedule
from respine_desktop.reports.arms import Arms
from respine_desktop.reports.measures import MeasureSpec, chart_measures, score_methods, sf36_label
from respine_desktop.scoring.endpoints import is_responder
from respine_desktop.storage import (
    StudyDb,
    VisitCount,
    count_subjects,
    current_scoring_versions,
    iter_study_scores,
    list_sites,
    visit_status_counts,
)
from respine_desktop.study import Study

Progress = Callable[[float, str], None]
"""Called with the fraction done (0..1) and what is being done, for a progress bar. An
exception raised by the callback stops the work (nothing is written)."""

ALL_SUBJECTS = "All subjects"
NO_ARM = "(not in arms file)"
# How many progress calls the subject pass makes at most.
_PROGRESS_STEPS = 50


@dataclass(frozen=True, slots=True)
class Stat:
    """n, mean and sample SD (None below 2 values) of one measure at one visit."""

    n: int
    mean: float | None
    sd: float | None


class _Accumulator:
    """Welford's running mean and variance (numerically stable in one pass)."""

    __slots__ = ("m2", "mean", "n")

    def __init__(self) -> None:
        self.n = 0
        self.mean = 0.0
        self.m2 = 0.0

    def add(self, x: float) -> None:
        self.n += 1
        delta = x - self.mean
        self.mean += delta / self.n
        self.m2 += delta * (x - self.mean)

    def stat(self) -> Stat:
        if self.n == 0:
            return Stat(0, None, None)
        sd = math.sqrt(self.m2 / (self.n - 1)) if self.n > 1 else None
        return Stat(self.n, self.mean, sd)


@dataclass(frozen=True, slots=True)
class ResponderTally:
    """Responder counts at one follow-up visit; `rate` = responders / determined."""

    visit: str
    primary: bool
    with_data: int
    responders: int
    non_responders: int
    undetermined: int

    @property
    def determined(self) -> int:
        return self.responders + self.non_responders

    @property
    def rate(self) -> float | None:
        return self.responders / self.determined if self.determined else None


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """The statistics of one group of subjects (all subjects, or one arm)."""

    name: str
    subjects: int
    stats: Mapping[str, Mapping[str, Stat]]
    responders: tuple[ResponderTally, ...]

    def stat(self, visit: str, key: str) -> Stat:
        return self.stats.get(visit, {}).get(key, Stat(0, None, None))

    def responder(self, visit: str) -> ResponderTally | None:
        return next((r for r in self.responders if r.visit == visit), None)

    @property
    def primary(self) -> ResponderTally | None:
        return next((r for r in self.responders if r.primary), None)


@dataclass(frozen=True, slots=True)
class ArmsUse:
    """Which arms file split the summary and how well it matched the database."""

    source: str
    sha256: str
    listed: int
    matched: int

    @property
    def unmatched(self) -> int:
        """Subjects of the file not in this database (e.g. registered on another kiosk)."""
        return self.listed - self.matched


@dataclass(frozen=True, slots=True)
class StudySummary:
    """Everything the study summary shows."""

    study: Study
    on: date
    sites: tuple[str, ...]
    subjects: int
    flow: tuple[VisitCount, ...]
    sf36_label: str
    measures: tuple[MeasureSpec, ...]
    overall: GroupSummary
    arms: tuple[GroupSummary, ...]
    arms_use: ArmsUse | None
    scoring_versions: tuple[str, ...]

    @property
    def groups(self) -> tuple[GroupSummary, ...]:
        """The groups plots and tables show: the arms when split, else all subjects."""
        return self.arms or (self.overall,)

    def visit_label(self, code: str) -> str:
        return self.study.visit(code).label.get("en", code)


class _Group:
    __slots__ = ("name", "responders", "stats", "subjects")

    def __init__(self, name: str, visits: tuple[str, ...], keys: tuple[str, ...]) -> None:
        self.name = name
        self.subjects = 0
        self.stats = {v: {k: _Accumulator() for k in keys} for v in visits}
        # visit -> [with data, responders, non-responders, undetermined]
        self.responders = {v: [0, 0, 0, 0] for v in visits}

    def freeze(self, primary: str, baseline: str) -> GroupSummary:
        return GroupSummary(
            name=self.name,
            subjects=self.subjects,
            stats={v: {k: a.stat() for k, a in accs.items()} for v, accs in self.stats.items()},
            responders=tuple(
                ResponderTally(v, v == primary, *counts)
                for v, counts in self.responders.items()
                if v != baseline
            ),
        )


def scaled_progress(progress: Progress | None, start: float, end: float) -> Progress | None:
    """`progress` mapped onto [start, end] (for a step of a longer job)."""
    if progress is None:
        return None
    outer = progress

    def inner(fraction: float, message: str) -> None:
        outer(start + (end - start) * min(1.0, max(0.0, fraction)), message)

    return inner


def study_summary(
    db: StudyDb,
    *,
    arms: Arms | None = None,
    on: date | None = None,
    progress: Progress | None = None,
) -> StudySummary:
    """Aggregate the whole study in one pass (statuses as of `on`, default today).

    `arms` splits the statistics and responder tallies by arm (subjects missing from the file
    form a group of their own). `progress(fraction, message)` is called as the work advances.
    """
    study = db.study
    on = on or schedule.today()
    if progress:
        progress(0.0, "counting visits")
    flow = tuple(visit_status_counts(db, on))
    total = count_subjects(db)
    measures = chart_measures(study)
    keys = tuple(m.key for m in measures)
    visits = study.visit_codes
    ep = study.endpoint
    baseline_code = ep.baseline_visit
    primary_code = study.endpoint.visit
    overall = _Group(ALL_SUBJECTS, visits, keys)
    by_arm: dict[str, _Group] = {}
    if arms is not None:
        by_arm = {name: _Group(name, visits, keys) for name in arms.names}
    matched = 0
    step = max(1, total // _PROGRESS_STEPS)
    if progress:
        progress(0.05, f"reading scores: 0/{total} subjects")
    for done, subject in enumerate(iter_study_scores(db, methods=score_methods(study)), start=1):
        groups = [overall]
        if arms is not None:
            arm = arms.arm(subject.code)
            if arm is None:
                group = by_arm.get(NO_ARM)
                if group is None:
                    group = by_arm[NO_ARM] = _Group(NO_ARM, visits, keys)
            else:
                matched += 1
                group = by_arm[arm]
            groups.append(group)
        values = {
            visit: {
                m.key: inst.get(m.instrument_id, {}).get(m.key)
                for m in measures
                if m.instrument_id in inst
            }
            for visit, inst in subject.scores.items()
            if visit in overall.stats
        }
        baseline = values.get(baseline_code, {})
        for group in groups:
            group.subjects += 1
        for visit, vals in values.items():
            for key, value in vals.items():
                if value is not None:
                    for group in groups:
                        group.stats[visit][key].add(value)
            if visit == baseline_code:
                continue
            result = is_responder(
                baseline.get("VAS"),
                vals.get("VAS"),
                baseline.get("ODI"),
                vals.get("ODI"),
                odi_rule=ep.odi_rule,
                vas_points=ep.vas_points,
                vas_percent=ep.vas_percent,
                odi_threshold=ep.odi_threshold,
            )
            slot = 1 if result is True else 2 if result is False else 3
            for group in groups:
                counts = group.responders[visit]
                counts[0] += 1
                counts[slot] += 1
        if progress and (done % step == 0 or done == total):
            progress(0.05 + 0.95 * done / max(total, 1), f"reading scores: {done}/{total} subjects")
    arms_use = None
    if arms is not None:
        arms_use = ArmsUse(arms.source, arms.sha256, len(arms.by_subject), matched)
    summary = StudySummary(
        study=study,
        on=on,
        sites=tuple(list_sites(db)),
        subjects=total,
        flow=flow,
        sf36_label=sf36_label(study),
        measures=measures,
        overall=overall.freeze(primary_code, baseline_code),
        arms=tuple(g.freeze(primary_code, baseline_code) for g in by_arm.values()),
        arms_use=arms_use,
        scoring_versions=tuple(current_scoring_versions(db)),
    )
    if progress:
        progress(1.0, "study data gathered")
    return summary
