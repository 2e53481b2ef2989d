"""`_answer_links.bad_link`, the rule the merge and `verify` share, on rows in memory: the cases
a forged file or bundle reaches only with several rows (chains, cycles not through the row
named, forks)."""

from __future__ import annotations

from typing import Any

import pytest

from respine_desktop.storage._answer_links import bad_link


def _row(answer_id: str, supersedes: str | None, **other: str) -> tuple[Any, ...]:
    session, item = other.get("session", "S"), other.get("item", "odi_01")
    return (session, answer_id, supersedes, item.split("_")[0], item, 1.0)


ROWS = {
    r[1]: r
    for r in (
        _row("first", None),
        _row("second", "first"),
        _row("third", "second"),
        _row("fork", "first"),  # a second row replacing "first": legitimate
        _row("a", "b"),
        _row("b", "a"),
        _row("into", "a"),
        _row("self", "self"),
        _row("other-item", "first", item="odi_02"),
        _row("other-session", "first", session="T"),
        _row("nowhere", "missing"),
    )
}


@pytest.mark.parametrize(
    ("ids", "named", "problem"),
    [
        (["second", "third", "fork"], None, None),
        (["a"], "a", "whose own links lead back to it"),
        (["into"], "into", "whose links run in a cycle"),
        (["second", "self"], "self", "supersedes itself"),
        (["other-item"], "other-item", "an answer of odi odi_01, not of odi odi_02"),
        (["other-session"], "other-session", "which is not an answer of its session T"),
        (["nowhere"], "nowhere", "which is not an answer of its session S"),
    ],
    ids=["chain and fork", "cycle", "into a cycle", "itself", "item", "session", "no row"],
)
def test_the_first_wrong_link_is_named(
    ids: list[str], named: str | None, problem: str | None
) -> None:
    found = bad_link(ROWS, [ROWS[i] for i in ids])
    if named is None:
        assert found is None
        return
    assert found is not None
    row, text = found
    assert row[1] == named
    assert problem is not None and problem in text, text
