"""How many subjects are in each status at each visit, counted by the database in one query.

The same rule as `worklist` (`schedule.visit_status` applied as day-0 ranges through
`schedule.day0_bounds`), but grouped instead of listed, so a study of any size costs one scan and
no per-subject objects. ``window_closed`` counts the subjects whose visit window closed before
the day asked for, whatever their status: with ``complete`` it gives the visits that were
expected to be done by then (the denominator of completeness).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from respine_desktop import schedule
from respine_desktop.schedule import VISIT_STATUSES, VisitStatus
from respine_desktop.storage._database import StudyDb


@dataclass(frozen=True, slots=True)
class VisitCount:
    """One visit's subjects by status as of `on`; `expected` = complete or window closed."""

    visit_code: str
    statuses: Mapping[VisitStatus, int] = field(default_factory=dict)
    window_closed: int = 0
    expected: int = 0

    def count(self, status: VisitStatus) -> int:
        return self.statuses.get(status, 0)

    @property
    def complete(self) -> int:
        return self.count("complete")

    @property
    def window_opened(self) -> int:
        """Subjects for whom the visit is no longer "not yet due"."""
        return sum(n for s, n in self.statuses.items() if s != "not_yet_due")


def visit_status_counts(
    db: StudyDb, on: date | None = None, site_code: str | None = None
) -> list[VisitCount]:
    """Subjects by status at every visit of the schedule (in order), as of `on` (default today).

    All sites unless `site_code` is given.
    """
    on = on or schedule.today()
    values: list[str] = []
    params: list[Any] = []
    for order, visit in enumerate(db.study.visits):
        earliest, latest = schedule.day0_bounds(visit, on)
        values.append("(?, ?, ?, ?)")
        params += [visit.code, order, earliest.isoformat(), latest.isoformat()]
    where = ""
    if site_code is not None:
        where = "WHERE s.site_code = ? "
        params.append(site_code)
    sql = (
        f"WITH plan(code, ord, earliest, latest) AS (VALUES {', '.join(values)}) "
        "SELECT plan.code, "
        " CASE WHEN v.state IS NOT NULL THEN v.state "
        "  WHEN s.day0 > plan.latest THEN 'not_yet_due' "
        "  WHEN s.day0 >= plan.earliest THEN 'due' ELSE 'overdue' END AS status, "
        " s.day0 < plan.earliest AS closed, count(*) AS n "
        "FROM subjects s CROSS JOIN plan "
        "LEFT JOIN visits v ON v.subject_id = s.id AND v.visit_code = plan.code "
        f"{where}"
        "GROUP BY 1, 2, 3"
    )
    statuses: dict[str, dict[VisitStatus, int]] = {c: {} for c in db.study.visit_codes}
    closed: dict[str, int] = dict.fromkeys(db.study.visit_codes, 0)
    expected: dict[str, int] = dict.fromkeys(db.study.visit_codes, 0)
    for row in db.conn.execute(sql, params):
        code, status, is_closed, n = row["code"], row["status"], row["closed"], row["n"]
        if status not in VISIT_STATUSES:  # pragma: no cover - the schema's CHECK forbids it
            raise ValueError(f"visit {code}: unknown state {status!r} in the database")
        statuses[code][status] = statuses[code].get(status, 0) + int(n)
        if is_closed:
            closed[code] += int(n)
        if is_closed or status == "complete":
            expected[code] += int(n)
    return [
        VisitCount(code, statuses[code], closed[code], expected[code])
        for code in db.study.visit_codes
    ]
