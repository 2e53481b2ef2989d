"""`export stats`: .sav, .dta and .xpt read back with pyreadstat keep names valid in each format,
variable labels, value labels and the distinct missing codes; values equal ones worked out by
hand; the SAS and R scripts name every file; bad input exits 2 with nothing written."""

from __future__ import annotations

import csv
import math
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyreadstat
import pytest

from respine_desktop.exports.stats_names import check_names, short_label, xpt_name
from tests.support.cli import main_py
from tests.support.exports import scenario_db

FILES = (
    "visits_wide.sav", "visits_wide.dta", "visits_wide.xpt",
    "answers_long.sav", "answers_long.dta", "answers_long.xpt",
    "stats_names.csv", "read_stats.sas", "read_stats.R",
)  # fmt: skip
MISSING = {
    -9991: "missing: skipped",
    -9992: "missing: not due",
    -9993: "missing: visit missed",
    -9994: "missing: uncomputable",
    -9995: "missing: undetermined",
    -9996: "missing: session incomplete",
    -9997: "missing: subject withdrawn",
}


def main(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """`main.py ...` as a child process, signed in as the administrator (the role matrix)."""
    return main_py(*args)


@pytest.fixture(scope="module")
def out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    root = tmp_path_factory.mktemp("stats")
    scenario_db(root / "study.db")
    run = main("export", "stats", "--db", root / "study.db", "--out", root / "out")
    assert run.returncode == 0, run.stderr
    assert "3 subjects, 18 visit rows, 330 answer rows" in run.stdout
    yield root / "out"


def read(path: Path) -> tuple[Any, Any]:
    reader = {".sav": pyreadstat.read_sav, ".dta": pyreadstat.read_dta}.get(path.suffix)
    if reader is None:
        return pyreadstat.read_xport(str(path))
    return reader(str(path), user_missing=True)


def by_visit(frame: Any, subject: str = "subject_id", visit: str = "visit") -> dict[str, Any]:
    return {(row[subject], row[visit]): row for row in frame.to_dict("records")}


def test_every_file_is_written(out: Path) -> None:
    assert sorted(p.name for p in out.iterdir()) == sorted(FILES)


def test_spss_keeps_labels_value_labels_and_missing_codes(out: Path) -> None:
    frame, meta = read(out / "visits_wide.sav")
    labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
    assert labels["visit_number"].startswith("place of the visit in the schedule")
    assert meta.variable_value_labels["odi_01"][0.0] == "I have no pain at the moment"
    for code, text in MISSING.items():
        assert meta.variable_value_labels["odi_01"][float(code)] == text
        assert meta.variable_value_labels["RESPONDER"][float(code)] == text
    assert meta.variable_value_labels["RESPONDER"][1.0] == "yes"
    assert meta.missing_ranges["VAS"] == [{"lo": -9999.0, "hi": -9991.0}]
    rows = by_visit(frame)
    m0 = rows["RSP-01-001", "M0"]
    assert m0["odi_08"] == -9991 and m0["odi_01"] == 3  # skipped / answered
    assert rows["RSP-01-001", "M3"]["VAS"] == -9993  # missed
    assert rows["RSP-01-001", "M24"]["VAS"] == -9992  # not due
    assert rows["RSP-01-002", "M3"]["VAS"] == -9996  # parked
    assert rows["RSP-01-001", "M0"]["RESPONDER"] == -9992  # baseline: no endpoint
    # without user_missing, every code reads as missing
    plain, _ = pyreadstat.read_sav(str(out / "visits_wide.sav"))
    assert math.isnan(by_visit(plain)["RSP-01-001", "M0"]["odi_08"])


def test_stata_uses_extended_missing_values_and_80_character_labels(out: Path) -> None:
    frame, meta = read(out / "visits_wide.dta")
    assert all(len(label) <= 80 for label in meta.column_labels)
    assert all(len(name) <= 32 for name in meta.column_names)
    long_labels = [lab for lab in meta.column_labels if lab.endswith("...")]
    assert long_labels  # the SF-36 item texts are longer than 80 characters
    assert {"s", "m", "n"} <= set(meta.missing_user_values["odi_08"])  # the codes present
    assert meta.variable_value_labels["odi_08"]["s"] == "missing: skipped"
    assert meta.variable_value_labels["odi_03"][2] == (
        "Pain prevents me from lifting heavy weights off the floor, but I can manage if they "
        "are conveniently placed eg. on a table"
    )
    rows = by_visit(frame)
    assert rows["RSP-01-001", "M0"]["odi_08"] == "s"
    assert rows["RSP-01-001", "M3"]["ODI"] == "m"
    assert rows["RSP-01-001", "M1"]["VAS_CHG"] == pytest.approx(60.1 - 72.5)


def test_sas_xport_has_8_character_names_40_character_labels_and_the_codes(out: Path) -> None:
    frame, meta = read(out / "visits_wide.xpt")
    assert meta.table_name == "VISITSW"
    assert all(len(n) <= 8 and n == n.upper() for n in meta.column_names)
    assert all(len(label) <= 40 for label in meta.column_labels)
    rows = by_visit(frame, "SUBJID", "VISIT")
    m1 = rows["RSP-01-001", "M1"]
    # by hand: ODI 9 sections of 2 + a corrected section of 4 = 22/50 = 44 %; M0 60 %
    assert m1["ODI"] == pytest.approx(44.0) and m1["ODICHG"] == pytest.approx(-16.0)
    assert (m1["VASMCID"], m1["ODIMCID"], m1["RESPONDR"]) == (0, 1, 1)
    assert m1["VISITNUM"] == 2 and m1["STUDYDAY"] == 30 and m1["BIRTHYR"] == 1961
    assert rows["RSP-01-001", "M0"]["ODI08"] == -9991
    _, long_meta = read(out / "answers_long.xpt")
    assert long_meta.table_name == "ANSWERSL" and "COUNTS" in long_meta.column_names
    script = (out / "read_stats.sas").read_text(encoding="utf-8")
    assert 'xport "visits_wide.xpt"' in script and "set xVISITSW.VISITSW;" in script
    assert "if _n(_i) = -9991 then _n(_i) = .S;" in script
    assert ".U = 'missing: uncomputable'" in script and "ODI08 F" in script


def test_answers_long_carries_counts_and_the_skipped_code(out: Path) -> None:
    frame, meta = read(out / "answers_long.sav")
    skipped = frame[frame["status"] == "skipped"]
    assert set(skipped["code"]) == {-9991.0}
    assert meta.variable_value_labels["counts"] == {0.0: "no", 1.0: "yes"}
    odi3 = frame[(frame["item"] == "odi_03") & (frame["visit"] == "M1")]
    odi3 = odi3[odi3["subject_id"] == "RSP-01-001"]
    assert list(odi3["code"]) == [2.0, 4.0] and list(odi3["counts"]) == [0.0, 1.0]
    dta, _ = read(out / "answers_long.dta")
    assert set(dta[dta["status"] == "skipped"]["code"]) == {"s"}


def test_the_name_mapping_and_the_r_script(out: Path) -> None:
    with open(out / "stats_names.csv", newline="", encoding="utf-8") as f:
        names = list(csv.DictReader(f))
    mapping = {(r["table"], r["column"]): r["xpt"] for r in names}
    assert mapping["visits_wide", "SF36_PCS_MCID"] == "PCSMCID"
    assert mapping["visits_wide", "sf36_12"] == "SF3612"
    assert mapping["answers_long", "instrument_version"] == "INSTRVER"
    assert ("answers_long", "label") not in mapping  # left to the CSV (value labels have it)
    script = (out / "read_stats.R").read_text(encoding="utf-8")
    assert 'read_sav("visits_wide.sav", user_na = TRUE)' in script
    assert 'read_sav("answers_long.sav", user_na = TRUE)' in script


def test_names_and_labels_rules() -> None:
    assert xpt_name("odi_01") == "ODI01" and xpt_name("RAND36_PF") == "RAND36PF"
    assert short_label("a " * 50, 40).endswith("...") and len(short_label("a " * 50, 40)) <= 40
    assert short_label("short", 40) == "short"
    with pytest.raises(ValueError, match="share the XPORT name"):
        check_names(["odi_01", "odi01"])
    with pytest.raises(ValueError, match="8 characters"):
        check_names(["a_very_long_column"])
    with pytest.raises(ValueError, match="not a valid Stata name"):
        check_names(["1abc"])


def test_a_missing_parent_directory_exits_2_and_writes_nothing(tmp_path: Path) -> None:
    scenario_db(tmp_path / "s.db")
    run = main("export", "stats", "--db", tmp_path / "s.db", "--out", tmp_path / "no" / "out")
    assert run.returncode == 2, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "no such directory" in errors[0]
    assert "Traceback" not in run.stderr and not (tmp_path / "no").exists()
