"""Bulk, streaming read of the current scores of a whole study, one subject at a time.

Study-wide summaries (reports, dashboards) need every subject's current scores but never all of
them at once: `iter_study_scores` runs one query over subjects in code order and yields each
subject's scores as soon as its rows are read, so memory stays bounded by one subject whatever
the size of the study. Only submitted sessions count, and only current (not superseded) score
rows; when two submitted sessions exist for one visit (merged kiosks) only the visit's chosen
session counts (`chosen_session`: the one submitted last).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from respine_desktop.instruments import instrument_ids
from respine_desktop.scoring import registry
from respine_desktop.storage._chosen_session import chosen_sql
from respine_desktop.storage._database import StudyDb, scalar
from respine_desktop.storage.stored_values import score_values

# The method read per instrument unless the caller asks otherwise: each instrument's default in
# the scoring registry (the one instrument list is the instrument files).
DEFAULT_METHODS: Mapping[str, str] = {i: registry.method(i).name for i in instrument_ids()}

ScoreValues = Mapping[str, float | None]


@dataclass(frozen=True, slots=True)
class SubjectScoreSet:
    """One subject's current scores: ``scores[visit_code][instrument_id] -> {key: value}``."""

    code: str
    site_code: str
    scores: Mapping[str, Mapping[str, ScoreValues]]


def count_subjects(db: StudyDb, site_code: str | None = None) -> int:
    """How many subjects `iter_study_scores` will yield (of one site if given)."""
    if site_code is None:
        return int(scalar(db.conn, "SELECT count(*) FROM subjects"))
    return int(scalar(db.conn, "SELECT count(*) FROM subjects WHERE site_code=?", [site_code]))


def iter_study_scores(
    db: StudyDb,
    *,
    site_code: str | None = None,
    methods: Mapping[str, str] | None = None,
) -> Iterator[SubjectScoreSet]:
    """Every subject (of one site if given) in code order with their current scores.

    `methods` picks the scoring method read per instrument (default: `DEFAULT_METHODS`; pass
    ``{"sf36": "rand", ...}`` for RAND-36). Subjects without submitted sessions are yielded with
    empty `scores`. Reads only; the query stays open while the caller consumes the iterator.
    """
    wanted = dict(methods or DEFAULT_METHODS)
    pairs = " OR ".join("(c.instrument_id=? AND c.method=?)" for _ in wanted)
    params: list[str] = [v for pair in wanted.items() for v in pair]
    where = ""
    if site_code is not None:
        where = "WHERE j.site_code=? "
        params.append(site_code)
    sql = (
        "SELECT j.code, j.site_code, s.visit_code, c.instrument_id, c.id, c.scores "
        "FROM subjects j "
        "LEFT JOIN sessions s ON s.subject_id = j.id AND s.state = 'submitted' "
        f"AND s.id = {chosen_sql('s.visit_id')} "
        "LEFT JOIN scores c ON c.session_id = s.id AND c.superseded_at IS NULL "
        f"AND ({pairs}) "
        f"{where}"
        "ORDER BY j.code, s.submitted_at, c.computed_at"
    )
    code: str | None = None
    site = ""
    scores: dict[str, dict[str, ScoreValues]] = {}
    for row in db.conn.execute(sql, params):
        if row["code"] != code:
            if code is not None:
                yield SubjectScoreSet(code, site, scores)
            code, site, scores = row["code"], row["site_code"], {}
        if row["scores"] is not None:
            by_visit = scores.setdefault(row["visit_code"], {})
            by_visit[row["instrument_id"]] = score_values(row["id"], row["scores"])
    if code is not None:
        yield SubjectScoreSet(code, site, scores)


def current_scoring_versions(db: StudyDb) -> list[str]:
    """The scoring versions of the current score rows (normally one), sorted."""
    return [
        str(r["scoring_version"])
        for r in db.conn.execute(
            "SELECT DISTINCT scoring_version FROM scores WHERE superseded_at IS NULL "
            "ORDER BY scoring_version"
        )
    ]
