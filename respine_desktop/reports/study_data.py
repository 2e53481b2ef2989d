"""The study's numbers for the study summary, aggregated in one streaming pass over subjects.

Every read of one summary happens in ONE read transaction (`storage.read_snapshot`), so totals
add up even while another process writes. The data are those known at the end of the `on` day
(`storage.report_reads`: a true cut-off). Memory stays bounded whatever the number of subjects:
subjects are read in chunks and folded into running accumulators (Welford's mean and variance,
counts) per group (all subjects, and each arm when an arms file is given).

Flow categories of a subject at a visit (they add up to the subjects registered): done,
missed (marked, with its reason), withdrawn (withdrawal recorded, visit not done before it),
lost to follow-up (window closed without data or mark, and no later visit done), overdue
(window closed without data or mark, a later visit done), open (window open, or a sitting in
progress), not yet due. "Due" = registered − open − not yet due.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date

from respine_desktop import schedule
from respine_desktop.reports.arms import Arms, ArmsFileError
from respine_desktop.reports.measures import (
    MeasureSpec,
    chart_measures,
    mcid_points,
    score_methods,
    sf36_label,
    table_measures,
)
from respine_desktop.reports.stats import Interval, mean_ci, wilson
from respine_desktop.scoring import endpoints
from respine_desktop.scoring.endpoints import is_responder
from respine_desktop.storage import (
    StudyDb,
    current_scoring_versions,
    list_sites,
    read_snapshot,
)
from respine_desktop.storage.report_reads import ReportSubject, cutoff, iter_report_subjects
from respine_desktop.study import Study

Progress = Callable[[float, str], None]
"""Called with the fraction done (0..1) and what is being done, for a progress bar. An
exception raised by the callback stops the work (nothing is written)."""

ALL_SUBJECTS = "All subjects"
# How many progress calls the subject pass makes at most.
_PROGRESS_STEPS = 50


@dataclass(frozen=True, slots=True)
class Stat:
    """n, mean and sample SD (None below 2 values) of one measure at one visit."""

    n: int
    mean: float | None
    sd: float | None
    ci: Interval | None = None


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
        return Stat(self.n, self.mean, sd, mean_ci(self.n, self.mean, sd).ci)


@dataclass(frozen=True, slots=True)
class ResponderTally:
    """Responder counts at one follow-up visit; `rate` = responders / determined."""

    visit: str
    primary: bool
    with_data: int
    responders: int
    non_responders: int
    undetermined: int
    due: int = 0

    @property
    def rate_ci(self) -> Interval | None:
        """Wilson 95 % CI of responders / determined."""
        return wilson(self.responders, self.determined)

    @property
    def sensitivity_ci(self) -> Interval | None:
        """Wilson 95 % CI of responders / due (missing counted as non-responders)."""
        return wilson(self.responders, self.due)

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
    changes: Mapping[str, Mapping[str, Stat]] = field(default_factory=dict)
    mcid: Mapping[str, Mapping[str, tuple[int, int]]] = field(default_factory=dict)
    uncomputable: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    flow: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    missed_reasons: Mapping[str, int] = field(default_factory=dict)

    def change(self, visit: str, key: str) -> Stat:
        return self.changes.get(visit, {}).get(key, Stat(0, None, None))

    def flow_count(self, visit: str, category: str) -> int:
        return self.flow.get(visit, {}).get(category, 0)

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
    sf36_label: str
    measures: tuple[MeasureSpec, ...]
    table_measures: tuple[MeasureSpec, ...]
    change_measures: tuple[MeasureSpec, ...]
    overall: GroupSummary
    arms: tuple[GroupSummary, ...]
    arms_use: ArmsUse | None
    scoring_versions: tuple[str, ...]
    # the primary endpoint visit's e-signatures by the cut-off: subjects whose newest one is
    # valid, and those whose newest one a later change broke
    primary_signed: int = 0
    primary_signed_broken: int = 0

    @property
    def groups(self) -> tuple[GroupSummary, ...]:
        """The groups plots and tables show: the arms when split, else all subjects."""
        return self.arms or (self.overall,)

    def visit_label(self, code: str) -> str:
        return self.study.visit(code).label.get("en", code)


FLOW = ("done", "missed", "withdrawn", "lost", "overdue", "open", "not_yet_due")
FLOW_LABELS = {
    "done": "Done",
    "missed": "Missed",
    "withdrawn": "Withdrawn",
    "lost": "Lost to follow-up",
    "overdue": "Overdue",
    "open": "Open",
    "not_yet_due": "Not yet due",
}


class _Group:
    __slots__ = (
        "changes",
        "flow",
        "mcid",
        "missed",
        "name",
        "responders",
        "stats",
        "subjects",
        "uncomputable",
    )

    def __init__(
        self, name: str, visits: tuple[str, ...], keys: tuple[str, ...], changed: tuple[str, ...]
    ) -> None:
        self.name = name
        self.subjects = 0
        self.stats = {v: {k: _Accumulator() for k in keys} for v in visits}
        self.changes = {v: {k: _Accumulator() for k in changed} for v in visits}
        self.mcid = {v: {k: [0, 0] for k in changed} for v in visits}
        self.uncomputable = {v: dict.fromkeys(keys, 0) for v in visits}
        self.flow = {v: dict.fromkeys(FLOW, 0) for v in visits}
        self.missed: dict[str, int] = {}
        # visit -> [with data, responders, non-responders, undetermined, due]
        self.responders = {v: [0, 0, 0, 0, 0] for v in visits}

    def freeze(self, primary: str, baseline: str) -> GroupSummary:
        def frozen(accs: dict[str, dict[str, _Accumulator]]) -> dict[str, dict[str, Stat]]:
            return {v: {k: a.stat() for k, a in by.items()} for v, by in accs.items()}

        return GroupSummary(
            name=self.name,
            subjects=self.subjects,
            stats=frozen(self.stats),
            responders=tuple(
                ResponderTally(v, v == primary, *counts)
                for v, counts in self.responders.items()
                if v != baseline
            ),
            changes=frozen(self.changes),
            mcid={v: {k: (c[0], c[1]) for k, c in by.items()} for v, by in self.mcid.items()},
            uncomputable=self.uncomputable,
            flow=self.flow,
            missed_reasons=dict(sorted(self.missed.items(), key=lambda kv: (-kv[1], kv[0]))),
        )


def scaled_progress(progress: Progress | None, start: float, end: float) -> Progress | None:
    """`progress` mapped onto [start, end] (for a step of a longer job)."""
    if progress is None:
        return None
    outer = progress

    def inner(fraction: float, message: str) -> None:
        outer(start + (end - start) * min(1.0, max(0.0, fraction)), message)

    return inner


def check_arms(arms: Arms, codes: set[str]) -> None:
    """ArmsFileError unless the arms file lists every subject of the database and no other."""
    listed = set(arms.by_subject)
    unknown = sorted(listed - codes)
    missing = sorted(codes - listed)
    problems = []
    for what, found in (("not in the database", unknown), ("missing from the file", missing)):
        if found:
            first = ", ".join(found[:_NAMED])
            more = f" and {len(found) - _NAMED} more" if len(found) > _NAMED else ""
            problems.append(f"{len(found)} subject(s) {what} ({first}{more})")
    if problems:
        raise ArmsFileError(
            f"arms file {arms.source}: every subject must be listed exactly once: "
            + "; ".join(problems)
        )


_NAMED = 5


def _category(
    study: Study, subject: ReportSubject, index: int, on: date, done_after: list[bool]
) -> str:
    visit = study.visits[index]
    record = subject.visits.get(visit.code)
    state = record.state if record else None
    if state == "complete":
        return "done"
    if state == "missed":
        return "missed"
    window = schedule.visit_window(visit, subject.day0)
    if subject.withdrawn_on is not None and subject.withdrawn_on <= window.closes:
        return "withdrawn"
    if state is not None or window.opens <= on <= window.closes:
        return "open"
    if on < window.opens:
        return "not_yet_due"
    return "overdue" if done_after[index] else "lost"


def _fold(
    study: Study,
    subject: ReportSubject,
    on: date,
    groups: list[_Group],
    measures: tuple[MeasureSpec, ...],
    changed: tuple[MeasureSpec, ...],
) -> None:
    ep = study.endpoint
    codes = study.visit_codes
    done = [(r := subject.visits.get(c)) is not None and r.state == "complete" for c in codes]
    done_after = [any(done[i + 1 :]) for i in range(len(codes))]
    values: dict[str, dict[str, float | None]] = {}
    for group in groups:
        group.subjects += 1
    for index, code in enumerate(codes):
        category = _category(study, subject, index, on, done_after)
        record = subject.visits.get(code)
        for group in groups:
            group.flow[code][category] += 1
        if category == "missed" and record is not None:
            reason = (record.missed_reason or "(no reason)").strip()
            for group in groups:
                group.missed[reason] = group.missed.get(reason, 0) + 1
        if category != "done" or record is None:
            continue
        planned = set(study.visit(code).instruments)
        vals: dict[str, float | None] = {}
        for m in measures:
            if m.instrument_id not in planned and m.instrument_id not in record.scores:
                continue
            value = record.scores.get(m.instrument_id, {}).get(m.key)
            vals[m.key] = value
            for group in groups:
                if value is None:
                    group.uncomputable[code][m.key] += 1
                else:
                    group.stats[code][m.key].add(value)
        values[code] = vals
    baseline = values.get(ep.baseline_visit, {})
    for index, code in enumerate(codes):
        if code == ep.baseline_visit:
            continue
        follow = values.get(code)
        if follow is not None:
            for m in changed:
                b, v = baseline.get(m.key), follow.get(m.key)
                if b is None or v is None:
                    continue
                attained = _mcid(study, m.key, b, v)
                for group in groups:
                    group.changes[code][m.key].add(v - b)
                    if attained is not None:
                        group.mcid[code][m.key][1] += 1
                        group.mcid[code][m.key][0] += int(attained)
            result = is_responder(
                baseline.get("VAS"),
                follow.get("VAS"),
                baseline.get("ODI"),
                follow.get("ODI"),
                odi_rule=ep.odi_rule,
                vas_points=ep.vas_points,
                vas_percent=ep.vas_percent,
                odi_threshold=ep.odi_threshold,
            )
            slot = 1 if result is True else 2 if result is False else 3
            for group in groups:
                group.responders[code][0] += 1
                group.responders[code][slot] += 1
        due = _category(study, subject, index, on, done_after) not in ("open", "not_yet_due")
        if due:
            for group in groups:
                group.responders[code][4] += 1


def _mcid(study: Study, key: str, baseline: float, value: float) -> bool | None:
    m = study.mcid
    if key == "VAS":
        return endpoints.vas_mcid(baseline, value, points=m.vas_points, percent=m.vas_percent)
    if key == "ODI":
        return endpoints.odi_mcid(baseline, value, points=m.odi_points, percent=m.odi_percent)
    if key == "PCS":
        return endpoints.pcs_mcid(baseline, value, points=m.pcs_points)
    if key == "MCS":
        return endpoints.mcs_mcid(baseline, value, points=m.mcs_points)
    return None


def study_summary(
    db: StudyDb,
    *,
    arms: Arms | None = None,
    on: date | None = None,
    progress: Progress | None = None,
) -> StudySummary:
    """Aggregate the whole study as known at the end of `on` (default today), in one pass and
    one read snapshot.

    `arms` splits every table by arm; it must list every subject of the database exactly once
    (`ArmsFileError` naming the first unknown or missing ones). `progress(fraction, message)` is
    called as the work advances.
    """
    with read_snapshot(db):
        return _study_summary(db, arms, on or schedule.today(), progress)


def _study_summary(
    db: StudyDb, arms: Arms | None, on: date, progress: Progress | None
) -> StudySummary:
    from respine_desktop.storage import list_subjects, visit_signature_states

    study = db.study
    codes = {s.code for s in list_subjects(db)}
    if arms is not None:
        check_arms(arms, codes)
    if progress:
        progress(0.0, "reading subjects")
    total = len(codes)
    measures = table_measures(study)
    charted = chart_measures(study)
    keys = tuple(dict.fromkeys(m.key for m in (*measures, *charted)))
    all_measures = tuple({m.key: m for m in (*measures, *charted)}.values())
    changed = tuple(m for m in charted if mcid_points(study, m.key) is not None)
    changed_keys = tuple(m.key for m in changed)
    visits = study.visit_codes
    baseline_code = study.endpoint.baseline_visit
    primary_code = study.endpoint.visit
    overall = _Group(ALL_SUBJECTS, visits, keys, changed_keys)
    by_arm: dict[str, _Group] = {}
    if arms is not None:
        by_arm = {name: _Group(name, visits, keys, changed_keys) for name in arms.names}
    step = max(1, total // _PROGRESS_STEPS)
    if progress:
        progress(0.05, f"reading scores: 0/{total} subjects")
    registered = 0
    for done, subject in enumerate(
        iter_report_subjects(db, on=on, methods=score_methods(study)), start=1
    ):
        registered += 1
        groups = [overall]
        if arms is not None:
            groups.append(by_arm[arms.by_subject[subject.code]])
        _fold(study, subject, on, groups, all_measures, changed)
        if progress and (done % step == 0 or done == total):
            progress(0.05 + 0.95 * done / max(total, 1), f"reading scores: {done}/{total} subjects")
    signed = visit_signature_states(db, primary_code, before=cutoff(on))
    arms_use = None
    if arms is not None:
        arms_use = ArmsUse(arms.source, arms.sha256, len(arms.by_subject), len(arms.by_subject))
    summary = StudySummary(
        study=study,
        on=on,
        sites=tuple(list_sites(db)),
        subjects=registered,
        sf36_label=sf36_label(study),
        measures=charted,
        table_measures=measures,
        change_measures=changed,
        overall=overall.freeze(primary_code, baseline_code),
        arms=tuple(g.freeze(primary_code, baseline_code) for g in by_arm.values()),
        arms_use=arms_use,
        scoring_versions=tuple(current_scoring_versions(db)),
        primary_signed=sum(1 for state in signed.values() if state == "valid"),
        primary_signed_broken=sum(1 for state in signed.values() if state == "broken"),
    )
    if progress:
        progress(1.0, "study data gathered")
    return summary
