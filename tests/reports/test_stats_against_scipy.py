"""Our own t quantile and Fisher's exact test against scipy's, over a grid.

scipy is a test-only dependency (pyproject's ``test`` extra): the application and its frozen build
compute both with the math module (`respine_desktop.reports.stats`).
"""

from __future__ import annotations

import itertools
import math

import pytest

from respine_desktop.reports.stats import fisher_p, incomplete_beta, t_quantile

scipy_stats = pytest.importorskip("scipy.stats", reason="scipy is in the test extra")

DFS = [*range(1, 61), 70, 80, 99, 100, 120, 150, 200, 250, 500, 1000, 5000, 100_000]


@pytest.mark.req("REP-04")
@pytest.mark.parametrize("df", DFS)
def test_t_975_quantile_matches_scipy(df: int) -> None:
    ours, theirs = t_quantile(df), float(scipy_stats.t.ppf(0.975, df))
    assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-9), (df, ours, theirs)


@pytest.mark.parametrize("p", [0.5, 0.6, 0.9, 0.95, 0.99, 0.995, 0.9995, 0.001, 0.025, 0.3])
@pytest.mark.parametrize("df", [1, 2, 3, 5, 10, 30, 200])
def test_other_t_quantiles_match_scipy(df: int, p: float) -> None:
    ours, theirs = t_quantile(df, p), float(scipy_stats.t.ppf(p, df))
    assert math.isclose(ours, theirs, rel_tol=1e-8, abs_tol=1e-9), (df, p, ours, theirs)


def test_incomplete_beta_matches_scipy() -> None:
    from scipy.special import betainc

    for a, b, x in itertools.product(
        [0.5, 1.0, 2.5, 10.0, 60.0], [0.5, 1.0, 3.0, 40.0], [0.0, 1e-6, 0.1, 0.5, 0.77, 0.999, 1.0]
    ):
        ours, theirs = incomplete_beta(a, b, x), float(betainc(a, b, x))
        assert math.isclose(ours, theirs, rel_tol=1e-9, abs_tol=1e-12), (a, b, x, ours, theirs)


def test_t_quantile_refuses_what_has_no_answer() -> None:
    with pytest.raises(ValueError, match="degrees of freedom"):
        t_quantile(0)
    with pytest.raises(ValueError, match="between 0 and 1"):
        t_quantile(5, 1.0)


def _tables() -> list[tuple[int, int, int, int]]:
    small = [
        (k1, n1, k2, n2)
        for n1 in range(1, 13)
        for n2 in range(1, 13)
        for k1 in range(n1 + 1)
        for k2 in range(n2 + 1)
    ]
    # Study-sized arms (tens to hundreds of subjects), unbalanced and near-ties included.
    large = [
        (k1, n1, k2, n2)
        for n1, n2 in [(28, 28), (30, 31), (56, 70), (80, 48), (150, 149), (400, 20)]
        for k1 in sorted({0, 1, n1 // 4, n1 // 2, n1 - 1, n1})
        for k2 in sorted({0, 1, n2 // 3, n2 // 2, n2 - 2, n2})
    ]
    return small + large


@pytest.mark.req("REP-04")
def test_fisher_two_sided_matches_scipy_over_a_grid() -> None:
    tables = _tables()
    assert len(tables) > 6000
    worst = 0.0
    for k1, n1, k2, n2 in tables:
        ours = fisher_p(k1, n1, k2, n2)
        _, theirs = scipy_stats.fisher_exact([[k1, n1 - k1], [k2, n2 - k2]], "two-sided")
        assert ours is not None
        worst = max(worst, abs(ours - float(theirs)))
        assert abs(ours - float(theirs)) <= 1e-9, ((k1, n1, k2, n2), ours, theirs)
    assert worst <= 1e-9


def test_fisher_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="out of range"):
        fisher_p(5, 4, 1, 4)
