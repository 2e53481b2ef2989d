"""After a merge, the hub recomputes the scores of every session the bundle touched.

The hub does not trust a bundle's score rows: for each session that gained answers or score rows,
inside the merge's transaction,

- every (instrument, method) that has score rows has exactly one current row, and each
  superseded row names its replacement, a row of the same session, instrument and method (a
  score is never superseded without replacement);
- every current row of the current scoring version equals the scores recomputed from the
  session's merged current answers (`scores.compute`, the study's ODI minimum), as `verify`
  checks them.

A difference refuses the whole bundle (`InvalidInput` naming the score row and session): this is
stricter than recomputing and storing the hub's own values, and chosen on purpose. A signed bundle
whose scores differ from its own answers was made by a broken or tampered kiosk; replacing its
values silently would hide that, and the kiosk's own reports and exports (already given to staff)
would disagree with the hub's. Refusing keeps the hub byte-identical and names the row to
investigate.
"""

from __future__ import annotations

import itertools
from collections.abc import Container, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from respine_desktop.storage import _scores as scores
from respine_desktop.storage._answer_links import bad_link
from respine_desktop.storage._database import StudyDb
from respine_desktop.storage._errors import InvalidInput

__all__ = ["check_score_rows", "check_scores"]

_BATCH = 500


def check_scores(db: StudyDb, session_ids: Sequence[str]) -> None:
    """Raise InvalidInput at the first score row of these sessions that breaks a rule above."""
    conn = db.conn
    for start in range(0, len(session_ids), _BATCH):
        batch = list(session_ids[start : start + _BATCH])
        marks = ", ".join("?" for _ in batch)
        rows = conn.execute(
            "SELECT session_id, id, supersedes, instrument_id, item_id, value FROM answers "
            f"WHERE session_id IN ({marks}) ORDER BY session_id, rowid",
            batch,
        ).fetchall()
        score_rows = conn.execute(
            "SELECT id, session_id, instrument_id, method, scores, scoring_version, "
            f"superseded_by FROM scores WHERE session_id IN ({marks}) "
            "ORDER BY session_id, instrument_id, method",
            batch,
        ).fetchall()
        check_score_rows(db.study.odi_min_sections, rows, score_rows)


def check_score_rows(
    min_sections: int,
    answers: Iterable[Sequence[Any]],
    score_rows: Iterable[Mapping[str, Any]],
    new: Container[str] = (),
) -> None:
    """`check_scores` on rows given rather than read (the merged state a merge's preparation
    foresees): `answers` (session_id, id, supersedes, instrument_id, item_id, value), by
    position, ordered by session then as written (``rowid``, as `verify` and
    `answers.current_rows` order them: of two current answers of an item, a fork, the later
    written counts, never the later by its clock), `score_rows` (id, session_id, instrument_id,
    method, scores, scoring_version, superseded_by) ordered by session, instrument and
    method; `min_sections`: the study's ODI minimum. The rows of `new` (ids: a bundle's rows
    the hub lacks) that supersede one are checked to name an answer of their session and item,
    their links ending at a first answer (`_answer_links`), in the pass that finds each
    session's superseded rows (nothing more read: a session without a link costs nothing)."""
    version = scores.scoring_version()
    current: dict[str, list[tuple[str, str, float | None]]] = {}
    for session_id, of_session in itertools.groupby(answers, key=itemgetter(0)):
        given = list(of_session)
        superseded = {r[2] for r in given if r[2] is not None}
        if superseded and new:
            _check_links(given, new)
        current[session_id] = [(r[3], r[4], r[5]) for r in given if r[1] not in superseded]
    for session_id, group in itertools.groupby(score_rows, key=lambda r: r["session_id"]):
        _check_session(session_id, list(group), current.get(session_id, []), version, min_sections)


def _check_links(rows: list[Sequence[Any]], new: Container[str]) -> None:
    """The links of one session's new rows (`check_score_rows`)."""
    linking = [r for r in rows if r[2] is not None and r[1] in new]
    found = bad_link({r[1]: r for r in rows}, linking) if linking else None
    if found is not None:
        row, problem = found
        raise InvalidInput(f"answers row {row[1]}, field supersedes: {problem}")


def _check_session(
    session_id: str,
    rows: list[Mapping[str, Any]],
    answers: list[tuple[str, str, float | None]],
    version: str,
    min_sections: int,
) -> None:
    by_id = {r["id"]: r for r in rows}
    given = scores.scoring_input(answers)
    computed: dict[str, dict[str, dict[str, float | None]]] = {}
    for (instrument_id, method), group in itertools.groupby(
        rows,
        key=lambda r: (r["instrument_id"], r["method"]),
    ):
        kind = list(group)
        current = [r for r in kind if r["superseded_by"] is None]
        where = f"(session {session_id}, {instrument_id} {method})"
        if len(current) != 1:
            rule = "no current score" if not current else f"{len(current)} current scores"
            raise InvalidInput(
                f"scores of {where}: {rule}; a score is superseded only by its replacement"
            )
        for r in kind:
            replaced_by = by_id.get(r["superseded_by"])
            if r["superseded_by"] is not None and (
                replaced_by is None
                or (replaced_by["instrument_id"], replaced_by["method"]) != (instrument_id, method)
            ):
                raise InvalidInput(
                    f"scores row {r['id']} {where}, field superseded_by: "
                    "not a score of the same session, instrument and method"
                )
        row = current[0]
        if row["scoring_version"] != version:
            continue
        if instrument_id not in computed:
            try:
                computed[instrument_id] = scores.compute(
                    instrument_id, given.get(instrument_id, {}), min_sections=min_sections
                )
            except ValueError:
                computed[instrument_id] = {}
        expected = computed[instrument_id].get(method)
        text = row["scores"]
        if expected is None or not scores.holds(text, expected):
            raise InvalidInput(
                f"scores row {row['id']} {where}, field scores: {text} differs from the "
                f"hub's recomputation from the merged answers "
                f"({scores.dumps(expected) if expected is not None else 'none'})"
            )
