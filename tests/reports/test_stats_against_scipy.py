"""Our t quantile and Fisher's exact test against scipy.stats (a test-only dependency) over a grid:
scipy is the independent implementation the study report's figures are checked with."""

from __future__ import annotations

import pytest
from scipy.stats import fisher_exact, t

from respine_desktop.reports.stats import fisher_p, t_quantile

DEGREES = [*range(1, 121), 150, 200, 300, 500, 1_000, 2_000, 5_000, 10_000, 100_000]


@pytest.mark.req("REP-04")
@pytest.mark.parametrize("p", [0.9, 0.95, 0.975, 0.995, 0.9995])
def test_t_quantile_matches_scipy_to_1e_9(p: float) -> None:
    for df in DEGREES:
        ours, theirs = t_quantile(df, p), float(t.ppf(p, df))
        assert ours == pytest.approx(theirs, rel=1e-9, abs=0), (df, p)


def test_t_quantile_refuses_what_it_cannot_compute() -> None:
    for df, p in ((0, 0.975), (5, 0.5), (5, 1.0)):
        with pytest.raises(ValueError, match="t quantile needs"):
            t_quantile(df, p)


@pytest.mark.req("REP-04")
def test_fisher_matches_scipy_on_every_small_table() -> None:
    # every 2x2 table with arms of 1..14 subjects (14,161 tables)
    for n1 in range(1, 15):
        for n2 in range(1, 15):
            for k1 in range(n1 + 1):
                for k2 in range(n2 + 1):
                    theirs = float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]])[1])
                    ours = fisher_p(k1, n1, k2, n2)
                    assert ours == pytest.approx(theirs, rel=1e-9, abs=1e-300), (k1, n1, k2, n2)


@pytest.mark.parametrize(
    "table", [(2500, 5000, 2400, 5000), (57, 114, 40, 114), (0, 3000, 3000, 3000), (12, 13, 1, 900)]
)
def test_fisher_matches_scipy_on_large_arms(table: tuple[int, int, int, int]) -> None:
    k1, n1, k2, n2 = table
    theirs = float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]])[1])
    assert fisher_p(*table) == pytest.approx(theirs, rel=1e-9, abs=1e-300)


def test_fisher_refuses_impossible_counts() -> None:
    with pytest.raises(ValueError, match="0 <= k <= n"):
        fisher_p(5, 4, 1, 4)
