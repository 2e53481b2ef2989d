"""The statistical methods against published values, and scipy kept off the kiosk's start-up."""

from __future__ import annotations

import subprocess

import pytest

from respine_desktop.reports import fmt
from respine_desktop.reports.stats import fisher_p, mean_ci, newcombe, t_quantile, wilson
from tests.support.reports import PYTHON, ROOT, env


@pytest.mark.req("REP-04")
def test_wilson_for_48_of_56() -> None:
    # The figure: 74.3 to 92.6 %.
    interval = wilson(48, 56)
    assert interval is not None
    assert fmt.ci(interval.low, interval.high, scale=100) == "74.3 to 92.6"


def test_wilson_edges() -> None:
    assert wilson(0, 0) is None
    zero = wilson(0, 10)
    assert zero is not None and zero.low == 0.0 and round(zero.high, 4) == 0.2775
    full = wilson(10, 10)
    assert full is not None and round(full.high, 9) == 1.0 and round(full.low, 4) == 0.7225


@pytest.mark.req("REP-04")
def test_newcombe_against_the_paper() -> None:
    # Newcombe (1998), Stat Med 17:873, method 10: 56/70 - 48/80 = 0.2000... his Table II
    # example gives 0.0524 to 0.3339.
    interval = newcombe(56, 70, 48, 80)
    assert interval is not None
    assert (round(interval.low, 4), round(interval.high, 4)) == (0.0524, 0.3339)
    assert newcombe(1, 0, 1, 2) is None


@pytest.mark.req("REP-04")
def test_fisher_exact_against_the_tea_tasting_table() -> None:
    # Fisher's lady tasting tea, [[3, 1], [1, 3]]: two-sided p = 34/70 = 0.4857.
    p = fisher_p(3, 4, 1, 4)
    assert p is not None and round(p, 4) == 0.4857
    assert fisher_p(1, 0, 1, 1) is None
    assert fmt.p_value(0.0004) == "< 0.001" and fmt.p_value(0.04449) == "0.044"


@pytest.mark.req("REP-04")
def test_t_interval_of_a_mean() -> None:
    # 1..5: mean 3, SD 1.5811; t(4) = 2.7764: 3 -/+ 1.9632.
    assert round(t_quantile(4), 4) == 2.7764
    m = mean_ci(5, 3.0, 1.5811388)
    assert m.ci is not None and (round(m.ci.low, 3), round(m.ci.high, 3)) == (1.037, 4.963)
    assert mean_ci(1, 3.0, None).ci is None


@pytest.mark.parametrize(
    "modules",
    [
        "ui.app, ui.kiosk.flow, ui.kiosk.window",
        "ui.console.page, respine_desktop.reports",
    ],
)
def test_the_kiosk_and_the_console_do_not_import_scipy(modules: str) -> None:
    code = f"import sys, {modules}; print('scipy' in sys.modules, 'svglib' in sys.modules)"
    done = subprocess.run(
        [PYTHON, "-c", code], cwd=ROOT, env=env(), capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
