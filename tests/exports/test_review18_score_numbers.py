"""A stored score value that is a JSON number no scorer writes (``NaN``, ``Infinity``, an integer
of hundreds of digits, a VAS of 1e308), edited in the file: the reports and ODM --history refuse
it in one line naming the row (`stored_values.score_values`), the CSV export scores the session
from its answers as for any damaged score row; each of them ended in a traceback from the
endpoints (``ValueError: VAS baseline: nan is not a finite number``, ``OverflowError``).
`score_number` is also the bundle's field check of a score row (an integer no double holds was an
``OverflowError`` out of ``math.isfinite`` there)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from respine_desktop.storage.stored_values import TamperedValue, score_number, score_values
from tests.cli.test_cli_db import main
from tests.storage.test_verify_inspector import edit_behind_the_app

HUGE = "1" * 400
VALUES = {"nan": "NaN", "infinity": "-Infinity", "huge": HUGE, "off-range": "1e308"}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    result = main("demo", "--db", str(path), "--subjects", "2", "--seed", "3")
    assert result.returncode == 0, result.stderr
    return path


@pytest.mark.parametrize("value", sorted(VALUES))
def test_a_score_no_scorer_writes_is_refused_or_rescored(
    demo: Path, tmp_path: Path, value: str
) -> None:
    db = tmp_path / "t.db"
    shutil.copy(demo, db)
    edit_behind_the_app(
        db, [f"UPDATE scores SET scores='{{\"VAS\":{VALUES[value]}}}' WHERE instrument_id='vas'"]
    )
    subject = "RSP-01-001"
    for args in (
        ["report", "patient", "--db", db, "--subject", subject, "--out", tmp_path / "p.pdf"],
        ["report", "study", "--db", db, "--out", tmp_path / "s.pdf"],
        ["export", "odm", "--history", "--db", db, "--out", tmp_path / "h.xml"],
    ):
        result = main(*map(str, args))
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 2, result.stderr
        assert "error: scores row" in result.stderr.strip().splitlines()[-1], result.stderr
    (tmp_path / "csv").mkdir()
    result = main("export", "csv", "--db", str(db), "--out", str(tmp_path / "csv"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "csv" / "visits_wide.csv").exists()


def test_score_values_read_only_what_the_scorers_write() -> None:
    assert score_values("s", '{"VAS":72.5,"n":3,"x":null}') == {"VAS": 72.5, "n": 3, "x": None}
    assert score_values("s", '{"ODI":0,"PCS":-12.5}') == {"ODI": 0, "PCS": -12.5}
    for text in ('{"VAS":NaN}', '{"PCS":Infinity}', f'{{"PCS":{HUGE}}}', '{"ODI":100.5}'):
        with pytest.raises(TamperedValue, match="scores row s"):
            score_values("s", text)
    assert not score_number("PCS", True)
    assert score_number("PCS", 10**300) and not score_number("PCS", 2**1024)
