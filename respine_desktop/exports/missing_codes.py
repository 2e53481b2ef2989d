"""Why a value is missing: one code per reason, the same in every file that carries it.

An empty cell used to mean "not due", "skipped", "uncomputable" and "undetermined" alike. Each
missing cell of ``visits_wide`` now says why, with one code per reason, written in each format's
own way (see `MissingCode` and ``docs/exports.md``):

=============  ====  ======  =====  ======================================================
reason         CSV   SPSS    Stata  when
=============  ====  ======  =====  ======================================================
skipped        .S    -9991   .s     the patient skipped the item (or left it at submission)
not due        .N    -9992   .n     the visit is not due yet / not done yet inside its window,
                                    the instrument is not given at that visit, or no change
                                    from baseline exists (the baseline visit itself)
missed         .M    -9993   .m     the visit was marked missed, or its window closed with
                                    nothing recorded (overdue)
uncomputable   .U    -9994   .u     the visit was submitted but the score cannot be computed
                                    (too many items skipped: the instrument's rule)
undetermined   .D    -9995   .d     an endpoint (change, MCID, responder) of a submitted
                                    follow-up cannot be decided (a score missing at baseline
                                    or here, or a relative criterion on a baseline of 0)
incomplete     .I    -9996   .i     the visit's session is parked or in progress: item not
                                    answered yet, no scores
withdrawn      .W    -9997   .w     the subject withdrew before the visit was done (the
                                    visit's status is ``withdrawn``)
=============  ====  ======  =====  ======================================================

SAS reads the XPORT file's -999x codes as the special missing values .S .N .M .U .D .I .W (the
read-in ``.sas`` script converts them); R reads the SPSS file with haven (user-defined missing).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import date

from respine_desktop.exports.visit_values import (
    ENDPOINT_NAMES,
    SCORE_COLUMNS,
    SCORE_NAMES,
    WITHDRAWN,
    VisitValues,
)
from respine_desktop.storage.export_reads import SubjectRecord
from respine_desktop.study import Study


class MissingCode(enum.Enum):
    """A reason for a missing value; its value is the CSV text."""

    SKIPPED = ".S"
    NOT_DUE = ".N"
    MISSED = ".M"
    UNCOMPUTABLE = ".U"
    UNDETERMINED = ".D"
    INCOMPLETE = ".I"
    WITHDRAWN = ".W"

    def __str__(self) -> str:
        return self.value

    @property
    def numeric(self) -> int:
        """The SPSS / SAS XPORT code (a user-defined missing value, -9991 to -9997)."""
        return _NUMERIC[self]

    @property
    def letter(self) -> str:
        """The Stata extended missing value's letter (``.s`` is written ``s``)."""
        return self.value[1].lower()

    @property
    def label(self) -> str:
        """The value label: the reason in words."""
        return _LABELS[self]


_NUMERIC = {code: -9991 - k for k, code in enumerate(MissingCode)}
_LABELS = {
    MissingCode.SKIPPED: "missing: skipped",
    MissingCode.NOT_DUE: "missing: not due",
    MissingCode.MISSED: "missing: visit missed",
    MissingCode.UNCOMPUTABLE: "missing: uncomputable",
    MissingCode.UNDETERMINED: "missing: undetermined",
    MissingCode.INCOMPLETE: "missing: session incomplete",
    MissingCode.WITHDRAWN: "missing: subject withdrawn",
}
MISSING_RANGE = (-9999, -9991)
"""The SPSS user-missing range holding every numeric code."""

Cell = object
"""A visits_wide value: None (not applicable), a number, a text, a date or a `MissingCode`."""

_SCORE_INSTRUMENT = {c[0]: c[1] for c in SCORE_COLUMNS}


def visit_gap(v: VisitValues) -> MissingCode | None:
    """Why a visit has no values at all (None: its session was submitted)."""
    if v.status == WITHDRAWN:
        return MissingCode.WITHDRAWN
    if v.session is None:
        return MissingCode.MISSED if v.status in ("missed", "overdue") else MissingCode.NOT_DUE
    if v.session.state != "submitted":
        return MissingCode.INCOMPLETE
    return None


def visit_number(study: Study, visit_code: str) -> int | None:
    """The visit's place in the schedule, 1 for the first (sorts M0, M1, M3 ... M24)."""
    codes = study.visit_codes
    return codes.index(visit_code) + 1 if visit_code in codes else None


def session_date(v: VisitValues) -> date | None:
    """The day the visit's session started (a parked or in-progress visit's date too)."""
    return date.fromisoformat(v.session.started_at[:10]) if v.session is not None else None


def study_day(day0: date, v: VisitValues) -> int | None:
    """Days from day 0 (day 0 = 0) to the visit's date, or to its session's start when the
    session is not submitted."""
    when = v.visit_date or session_date(v)
    return (when - day0).days if when is not None else None


def wide_head(study: Study, record: SubjectRecord, v: VisitValues) -> list[Cell]:
    """The first visits_wide cells: subject_id ... status (see `codebook.visits_wide_columns`)."""
    subject = record.subject
    w = record.withdrawal
    return [
        subject.code,
        subject.site_code,
        v.code,
        visit_number(study, v.code),
        subject.day0,
        subject.year_of_birth,
        v.visit_date,
        study_day(subject.day0, v),
        v.session.id if v.session is not None else None,
        session_date(v),
        v.status,
        w.withdrawn_on if w is not None else None,
        w.reason if w is not None else None,
    ]


def wide_values(study: Study, items: Sequence[tuple[str, str]], v: VisitValues) -> list[Cell]:
    """The item, score and endpoint cells of one visit, each missing one a `MissingCode`.

    `items` are (item id, instrument id) in column order.
    """
    gap = visit_gap(v)
    given = study.visit(v.code).instruments if v.code in study.visit_codes else ()
    out: list[Cell] = []
    for item_id, instrument in items:
        a = v.answers.get(item_id)
        if a is not None:
            out.append(MissingCode.SKIPPED if a.status == "skipped" else a.value)
        elif instrument not in given:
            out.append(MissingCode.NOT_DUE)
        else:
            out.append(gap or MissingCode.SKIPPED)
    scores = v.scores
    for name in SCORE_NAMES:
        value = scores.get(name)
        if value is not None:
            out.append(value)
        elif _SCORE_INSTRUMENT[name] not in given:
            out.append(MissingCode.NOT_DUE)
        else:
            out.append(gap or MissingCode.UNCOMPUTABLE)
    baseline = v.code == study.endpoint.baseline_visit
    ends = v.endpoints
    for name in ENDPOINT_NAMES:
        end = ends.get(name)
        if end is not None:
            out.append(end)
        elif baseline:
            out.append(MissingCode.NOT_DUE)
        else:
            out.append(gap or MissingCode.UNDETERMINED)
    return out
