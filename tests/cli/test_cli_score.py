"""`python main.py score`: real CSV files in, real CSV files out, run as a child process."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from respine_desktop.scoring import score

MAIN = Path(__file__).resolve().parents[2] / "main.py"
SF36_IDS = [f"sf36_{n:02d}" for n in range(1, 37)]
ODI_IDS = [f"odi_{n:02d}" for n in range(1, 11)]


def cells(published: str) -> list[str]:
    """A fixture's semicolon-separated inputs as CSV cells (blank = unanswered)."""
    return published.split(";")


# Mario Negri samples 01 and 02 (published_fixtures.csv FX-LB-01/02).
SAMPLE_01 = cells("5;5;1;1;1;1;1;1;1;1;2;2;1;1;1;1;1;1;1;5;6;;;2;;5;6;1;2;5;2;1;1;5;3;5")
SAMPLE_02 = cells("1;1;2;2;;3;3;;3;;;;1;1;1;2;1;1;2;1;2;3;2;6;6;2;2;6;5;6;5;;;;;")


def run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(MAIN), "score", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        check=False,
    )


def write_csv(path: Path, rows: list[list[str]], delimiter: str = ",") -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        csv.writer(f, delimiter=delimiter).writerows(rows)
    return path


def read_csv(path: Path, delimiter: str = ",") -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter=delimiter))


def answers(row: dict[str, str], ids: list[str]) -> dict[str, int | None]:
    return {i: int(row[i]) if row[i] else None for i in ids}


def cell(value: float | None) -> str:
    return "" if value is None else repr(value)


def assert_user_error(result: subprocess.CompletedProcess[str], *words: str) -> None:
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr  # one line, no traceback
    for word in words:
        assert word in lines[0], lines[0]


@pytest.fixture
def sf36_csv(tmp_path: Path) -> Path:
    header = ["subject", "visit", *SF36_IDS, "comment"]
    return write_csv(
        tmp_path / "in.csv",
        [
            header,
            ["RSP-01-001", "M0", *SAMPLE_01, "first, with a comma"],
            ["RSP-01-002", "M0", *SAMPLE_02, ""],
            ["RSP-01-003", "M0", *[""] * 36, "nothing answered"],
        ],
    )


def test_sf36_standard_scores_are_appended_in_full_precision(
    sf36_csv: Path, tmp_path: Path
) -> None:
    """Rule: SF-36 v1 standard + PCS/MCS (the study's default); FX-LB-01/02 values."""
    result = run("--instrument", "sf36", sf36_csv, "--out", "out.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "3 rows scored" in result.stdout and "US 1990 norms" in result.stdout
    with (tmp_path / "out.csv").open(newline="", encoding="utf-8") as f:
        header = next(csv.reader(f))
    keys = ["PF", "RP", "RE", "VT", "MH", "SF", "BP", "GH", "PCS", "MCS"]
    assert header == ["subject", "visit", *SF36_IDS, "comment", *keys]
    rows = read_csv(tmp_path / "out.csv")
    with sf36_csv.open(newline="", encoding="utf-8") as f:
        originals = list(csv.DictReader(f))
    for row, original in zip(rows, originals, strict=True):
        assert {k: row[k] for k in original} == original  # passed through unchanged
        expected = score("sf36", answers(original, SF36_IDS))
        assert {k: row[k] for k in keys} == {k: cell(expected[k]) for k in keys}
    assert float(rows[0]["PCS"]) == pytest.approx(21.57120, abs=5e-6)
    assert rows[1]["GH"] == rows[1]["PCS"] == ""  # GH below the half-scale minimum
    assert all(rows[2][k] == "" for k in keys)


def test_sf36_rand(sf36_csv: Path, tmp_path: Path) -> None:
    """Rule: RAND-36 1.0 means of the answered recoded items, and HT."""
    result = run(
        "--instrument", "sf36", "--method", "rand", sf36_csv, "--out", "r.csv", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert "RAND 36-Item Health Survey 1.0" in result.stdout
    rows = read_csv(tmp_path / "r.csv")
    expected = score("sf36", answers(rows[1], SF36_IDS), method="rand")
    assert {k: rows[1][k] for k in expected} == {k: cell(v) for k, v in expected.items()}
    assert rows[0]["HT"] == "0.0"  # item 2 = 5


def test_odi_with_and_without_a_lower_minimum(tmp_path: Path) -> None:
    """Rule: ODI = 100 × sum / (5 × answered), missing below odi_min_sections (9 by default)."""
    source = write_csv(
        tmp_path / "odi.csv",
        [
            ["subject", *ODI_IDS],
            ["a", "2", "2", "2", "2", "2", "2", "1", "1", "1", "1"],
            ["b", "2", "2", "2", "2", "2", "2", "1", "1", "2", ""],
            ["c", "1", "1", "1", "1", "1", "1", "1", "2", "", ""],
        ],
    )
    assert run("--instrument", "odi", source, "--out", "o.csv", cwd=tmp_path).returncode == 0
    rows = read_csv(tmp_path / "o.csv")
    assert [(r["ODI"], r["answered"]) for r in rows] == [
        ("32.0", "10"),
        (repr(1600 / 45), "9"),
        ("", "8"),
    ]
    result = run(
        "--instrument", "odi", "--min-sections", "8", source, "--out", "o.csv", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert read_csv(tmp_path / "o.csv")[2]["ODI"] == "22.5"


def test_vas(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "vas.csv", [["vas_pain", "visit"], ["37.5", "M0"], ["", "M1"], ["100", "M3"]]
    )
    assert run("--instrument", "vas", source, "--out", "v.csv", cwd=tmp_path).returncode == 0
    assert [r["VAS"] for r in read_csv(tmp_path / "v.csv")] == ["37.5", "", "100.0"]


def test_semicolon_separated_file_keeps_its_delimiter(tmp_path: Path) -> None:
    source = write_csv(
        tmp_path / "fr.csv", [["sujet", *ODI_IDS], ["x", *["3"] * 10]], delimiter=";"
    )
    result = run("--instrument", "odi", source, "--out", "fr_out.csv", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert read_csv(tmp_path / "fr_out.csv", delimiter=";")[0]["ODI"] == "60.0"


def test_byte_order_mark_and_padded_cells(tmp_path: Path) -> None:
    source = tmp_path / "bom.csv"
    source.write_text("\ufeffvas_pain,id\r\n 42 ,1\r\n", encoding="utf-8")
    assert run("--instrument", "vas", source, "--out", "o.csv", cwd=tmp_path).returncode == 0
    assert read_csv(tmp_path / "o.csv")[0]["VAS"] == "42.0"


def test_no_rows_gives_the_header_only(tmp_path: Path) -> None:
    source = write_csv(tmp_path / "empty_rows.csv", [["vas_pain"]])
    assert run("--instrument", "vas", source, "--out", "o.csv", cwd=tmp_path).returncode == 0
    assert (tmp_path / "o.csv").read_text(encoding="utf-8").splitlines() == ["vas_pain,VAS"]


@pytest.mark.parametrize(
    ("cell_text", "words"),
    [
        ("7", ["line 3 (row 2)", "column sf36_21", "'7'"]),  # out of range
        ("0", ["row 2", "sf36_21", "'0'"]),
        ("2.0", ["row 2", "sf36_21", "'2.0'"]),  # a float where a code is expected
        ("two", ["row 2", "sf36_21", "'two'"]),
    ],
)
def test_bad_cell_names_row_and_column_and_leaves_no_output(
    tmp_path: Path, cell_text: str, words: list[str]
) -> None:
    bad = [*SAMPLE_01]
    bad[20] = cell_text
    source = write_csv(
        tmp_path / "bad.csv", [["subject", *SF36_IDS], ["s1", *SAMPLE_01], ["s2", *bad]]
    )
    result = run("--instrument", "sf36", source, "--out", "out.csv", cwd=tmp_path)
    assert_user_error(result, "bad.csv", *words)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.csv"]  # no half-written file


def test_a_failed_run_leaves_an_existing_output_untouched(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    out.write_text("previous results\n", encoding="utf-8")
    source = write_csv(tmp_path / "in.csv", [["vas_pain"], ["50"], ["100.5"]])
    result = run("--instrument", "vas", source, "--out", out, cwd=tmp_path)
    assert_user_error(result, "line 3 (row 2)", "column vas_pain", "'100.5'")
    assert out.read_text(encoding="utf-8") == "previous results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


@pytest.mark.parametrize(
    ("rows", "args", "words"),
    [
        ([["subject"], ["x"]], ["--instrument", "odi"], ["no odi item columns"]),
        ([["sf36_1", "sf36_02"], ["1", "1"]], ["--instrument", "sf36"], ["'sf36_1'"]),
        ([["odi_01", "odi_01"], ["1", "1"]], ["--instrument", "odi"], ["'odi_01'", "twice"]),
        ([["vas_pain", "VAS"], ["1", "2"]], ["--instrument", "vas"], ["'VAS'"]),
        ([["vas_pain", "x"], ["1"]], ["--instrument", "vas"], ["row 1", "1 fields"]),
        ([["vas_pain"]], ["--instrument", "eq5d"], ["'eq5d'"]),
        ([["vas_pain"]], ["--instrument", "vas", "--method", "rand"], ["--method"]),
        ([["sf36_01"]], ["--instrument", "sf36", "--method", "norms"], ["'norms'"]),
        ([["odi_01"]], ["--instrument", "odi", "--min-sections", "11"], ["'11'"]),
        ([["odi_01"]], ["--instrument", "odi", "--min-sections", "x"], ["'x'"]),
        ([["sf36_01"]], ["--instrument", "sf36", "--min-sections", "5"], ["--min-sections"]),
    ],
)
def test_bad_usage_is_one_line_and_exit_2(
    tmp_path: Path, rows: list[list[str]], args: list[str], words: list[str]
) -> None:
    source = write_csv(tmp_path / "in.csv", rows)
    assert_user_error(run(*args, source, "--out", "out.csv", cwd=tmp_path), *words)
    assert not (tmp_path / "out.csv").exists()


def test_missing_file_empty_file_and_same_file(tmp_path: Path) -> None:
    assert_user_error(
        run("--instrument", "vas", "nope.csv", "--out", "o.csv", cwd=tmp_path), "nope.csv"
    )
    (tmp_path / "empty.csv").write_text("", encoding="utf-8")
    assert_user_error(
        run("--instrument", "vas", "empty.csv", "--out", "o.csv", cwd=tmp_path), "empty"
    )
    write_csv(tmp_path / "same.csv", [["vas_pain"], ["1"]])
    assert_user_error(
        run("--instrument", "vas", "same.csv", "--out", "same.csv", cwd=tmp_path), "input"
    )
    assert_user_error(
        run("--instrument", "vas", "same.csv", "--out", "no/such/dir.csv", cwd=tmp_path),
        "no/such/dir.csv",
    )
    (tmp_path / "a_directory").mkdir()
    assert_user_error(
        run("--instrument", "vas", "same.csv", "--out", "a_directory", cwd=tmp_path),
        "a_directory",
    )
    (tmp_path / "a_directory").rmdir()
    (tmp_path / "latin1.csv").write_bytes("vas_pain,nom\n1,Jos\xe9\n".encode("latin-1"))
    assert_user_error(
        run("--instrument", "vas", "latin1.csv", "--out", "o.csv", cwd=tmp_path), "UTF-8"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.csv", "latin1.csv", "same.csv"]


def test_help_documents_the_command(tmp_path: Path) -> None:
    result = run("--help", cwd=tmp_path)
    assert result.returncode == 0
    assert "--instrument" in result.stdout and "docs/scoring.md" in result.stdout
