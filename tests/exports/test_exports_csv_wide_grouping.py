"""`wide_rows`' per-run grouping of a subject's answers and its current answers of a session
(built in C where nothing is superseded) are what the plain per-row loops give, on random
interleavings of sessions, skips, corrections, forks and duplicated items; a stored score row's
values are accepted exactly when the per-value check accepted them."""

from __future__ import annotations

import json
import math
import random
import sys

import pytest

from respine_desktop.exports.wide_rows import _by_session, _current, _score_values
from respine_desktop.storage import Answer


def row(
    id_: str, session: str, item: str, *, skipped: bool = False, supersedes: str | None = None
) -> Answer:
    status = "skipped" if skipped else "answered"
    value = None if skipped else 1
    return Answer(
        id_, session, "odi", "1", "c", item, value, status, "en", "1", "d", "t", None, supersedes
    )


def by_session_per_row(answers: list[Answer]) -> tuple[dict[str, list[Answer]], set[str]]:
    """The loop `_by_session` replaced."""
    by_session: dict[str, list[Answer]] = {}
    answered: set[str] = set()
    for a in answers:
        by_session.setdefault(a.session_id, []).append(a)
        if a.status == "answered":
            answered.add(a.session_id)
    return by_session, answered


def current_per_row(rows: list[Answer]) -> tuple[dict[str, Answer], bool]:
    """The loop `_current` runs when a row is superseded, for every session."""
    superseded = {a.supersedes for a in rows if a.supersedes is not None}
    out: dict[str, Answer] = {}
    current = 0
    for a in rows:
        if a.id not in superseded:
            out[a.item_id] = a
            current += 1
    return out, current != len(out)


def random_rows(rng: random.Random, n: int) -> list[Answer]:
    rows: list[Answer] = []
    for k in range(n):
        earlier = rng.choice(rows).id if rows and rng.random() < 0.15 else None
        rows.append(
            row(
                f"a{k}",
                rng.choice(["s1", "s2", "s3"]),
                rng.choice(["odi_01", "odi_02", "odi_03"]),
                skipped=rng.random() < 0.2,
                supersedes=earlier,
            )
        )
    return rows


@pytest.mark.parametrize("seed", range(200))
def test_grouping_and_current_answers_are_the_per_row_loops(seed: int) -> None:
    rng = random.Random(seed)
    rows = random_rows(rng, rng.randrange(0, 30))
    if seed % 2:  # sessions one after the other, as a subject's mostly come
        rows.sort(key=lambda a: a.session_id)
    got, answered = _by_session(rows)
    want, want_answered = by_session_per_row(rows)
    assert (got, answered) == (want, want_answered)
    assert list(got) == list(want)  # sessions in the order they first appear
    for session_rows in want.values():
        current, forked = _current(session_rows)
        expected, expected_forked = current_per_row(session_rows)
        assert (current, forked) == (expected, expected_forked)
        assert list(current) == list(expected)  # and the items in the same order


def test_a_session_of_skips_only_is_not_answered() -> None:
    rows = [row("a", "s1", "odi_01", skipped=True), row("b", "s2", "odi_01")]
    rows += [row("c", "s1", "odi_02", skipped=True)]
    by_session, answered = _by_session(rows)
    assert answered == {"s2"}
    assert [a.id for a in by_session["s1"]] == ["a", "c"]


def test_an_empty_id_superseded_is_not_current() -> None:
    rows = [row("", "s1", "odi_01"), row("b", "s1", "odi_01", supersedes="")]
    assert _current(rows) == current_per_row(rows) == ({"odi_01": rows[1]}, False)


def test_an_item_twice_without_a_correction_is_a_fork_the_later_row_wins() -> None:
    rows = [row("a", "s1", "odi_01"), row("b", "s1", "odi_01")]
    current, forked = _current(rows)
    assert (current["odi_01"].id, forked) == ("b", True)
    assert _current([]) == ({}, False)


def score_values_per_value(text: str) -> dict[str, object]:
    """The per-value check `_score_values` replaced; a number no scorer writes (NaN, Infinity,
    an integer no double holds, a VAS or ODI off 0..100) refused too (review18)."""
    try:
        values = json.loads(text)
    except ValueError:
        return {}
    if not isinstance(values, dict) or not all(
        v is None
        or (
            isinstance(v, int | float)
            and not isinstance(v, bool)
            and (isinstance(v, float) or abs(v) <= sys.float_info.max)
            and math.isfinite(v)
            and (k not in ("VAS", "ODI") or 0 <= v <= 100)
        )
        for k, v in values.items()
    ):
        return {}
    return values


@pytest.mark.parametrize(
    "text",
    [
        '{"PF": 50.0, "RP": 25, "PCS": null}',
        "{}",
        '{"PF": true}',
        '{"PF": false, "RP": 1}',
        '{"PF": "12"}',
        '{"PF": [1]}',
        '{"PF": {"x": 1}}',
        '{"PF": NaN, "RP": Infinity}',
        '{"PF": -0.0, "RP": 1e308, "GH": 123456789012345678901234567890}',
        '{"PF": 1, "GH": ' + "1" * 400 + "}",
        '{"VAS": 100, "ODI": 0.0}',
        '{"VAS": 100.5}',
        '{"ODI": -1}',
        "[1, 2]",
        "12",
        "null",
        "not JSON",
        "",
    ],
)
def test_stored_score_values_are_accepted_as_by_the_per_value_check(text: str) -> None:
    assert _score_values(text) == score_values_per_value(text)
