"""CSV and REDCap files are replaced as a set: one interrupted between renames is finished next."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from respine_desktop import exports, files, storage
from respine_desktop.exports.subject_parts import SET_JOURNAL, finish_interrupted_set
from tests.cli.test_cli_db import main
from tests.cli.test_cli_hostile_paths import refused
from tests.support.exports import demo_db, env
from tests.support.storage import ROOT

NAMES = ("answers_long.csv", "visits_wide.csv", "codebook.csv", "audit_trail.csv")

# A child exporting the CSV files that is killed (SIGKILL) at its second rename: the first file
# is new, the others are still the earlier export's.
KILLED_BETWEEN_RENAMES = """
import os, signal, sys
from pathlib import Path
from respine_desktop import exports, files, storage
renames = 0
real = files.replace
def replace(temp, final):
    global renames
    renames += 1
    if renames == 2:
        os.kill(os.getpid(), signal.SIGKILL)
    real(temp, final)
files.replace = replace
with storage.open_database(Path(sys.argv[1]), readonly=True) as db:
    exports.export_csv(db, Path(sys.argv[2]), workers=1)
"""


def export(db_path: Path, out: Path) -> dict[str, bytes]:
    # Today's statuses, like the child's (which runs on the system clock).
    with storage.open_database(db_path, readonly=True) as db:
        exports.export_csv(db, out, workers=1)
    return {n: (out / n).read_bytes() for n in NAMES}


def test_a_set_half_replaced_by_a_killed_export_is_finished_by_the_next(tmp_path: Path) -> None:
    db_path = tmp_path / "kiosk.db"
    demo_db(db_path, subjects=2)
    out = tmp_path / "csv"
    old = export(db_path, out)
    demo_db_more = tmp_path / "more.db"
    demo_db(demo_db_more, subjects=3)
    new = export(demo_db_more, tmp_path / "reference")
    assert old["answers_long.csv"] != new["answers_long.csv"]
    assert old["visits_wide.csv"] != new["visits_wide.csv"]

    child = subprocess.run(
        [sys.executable, "-c", KILLED_BETWEEN_RENAMES, str(demo_db_more), str(out)],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr
    assert (out / SET_JOURNAL).exists()  # a reader can tell the set is being replaced
    now = {n: (out / n).read_bytes() for n in NAMES}
    assert now["answers_long.csv"] == new["answers_long.csv"]  # the mix the journal repairs
    assert now["visits_wide.csv"] == old["visits_wide.csv"]

    assert finish_interrupted_set(out)
    assert {n: (out / n).read_bytes() for n in NAMES} == new
    assert sorted(p.name for p in out.iterdir()) == sorted(NAMES)
    assert not finish_interrupted_set(out)


def test_the_next_export_finishes_the_set_first(tmp_path: Path) -> None:
    db_path = tmp_path / "kiosk.db"
    demo_db(db_path, subjects=2)
    out = tmp_path / "csv"
    expected = export(db_path, out)
    (out / "visits_wide.csv").rename(out / "visits_wide.csv.partial")
    (out / "visits_wide.csv").write_bytes(b"an earlier export\n")
    (out / SET_JOURNAL).write_text(
        '[["answers_long.csv.partial", "answers_long.csv"], '
        '["visits_wide.csv.partial", "visits_wide.csv"]]',
        encoding="utf-8",
    )
    assert export(db_path, out) == expected
    assert sorted(p.name for p in out.iterdir()) == sorted(NAMES)


def test_a_redcap_set_interrupted_between_renames_is_finished_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db_path = tmp_path / "kiosk.db"
    demo_db(db_path, subjects=2)
    with storage.open_database(db_path, readonly=True) as db:
        exports.export_redcap(db, tmp_path / "reference")
    expected = {p.name: p.read_bytes() for p in (tmp_path / "reference").iterdir()}
    out = tmp_path / "redcap"
    out.mkdir()
    for name in expected:
        (out / name).write_bytes(b"an earlier export\n")
    real = files.replace
    renames = []

    def failing(temp: Path, final: Path) -> None:
        renames.append(final.name)
        if len(renames) == 3:
            raise OSError("simulated crash between two renames")
        real(temp, final)

    monkeypatch.setattr(files, "replace", failing)
    with (
        storage.open_database(db_path, readonly=True) as db,
        pytest.raises(OSError, match="simulated"),
    ):
        exports.export_redcap(db, out)
    assert (out / SET_JOURNAL).exists()
    assert {n for n in expected if (out / n).read_bytes() == expected[n]} == set(renames[:2])
    monkeypatch.setattr(files, "replace", real)
    assert finish_interrupted_set(out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == expected


# Journals no export writes: each could make the next export rename a file it plants (or finds)
# anywhere the user may write. Refused before any rename.
PLANTED = {
    "a file outside the folder": '[["evil.partial", "../victim/file.txt"]]',
    "an absolute path": '[["evil.partial", "{victim}"]]',
    "a partial of another name": '[["evil.partial", "answers_long.csv"]]',
    "not a list of pairs": '{"evil.partial": "answers_long.csv"}',
    "a pair of three": '[["evil.partial", "evil", "x"]]',
    "a name that is no text": '[["evil.partial", 7]]',
}


@pytest.mark.parametrize("journal", sorted(PLANTED))
def test_a_journal_no_export_wrote_is_refused_and_nothing_renamed(
    tmp_path: Path, journal: str
) -> None:
    db_path = tmp_path / "kiosk.db"
    demo_db(db_path, subjects=2)
    victim = tmp_path / "victim" / "file.txt"
    victim.parent.mkdir()
    victim.write_text("precious\n")
    out = tmp_path / "csv"
    out.mkdir()
    (out / "evil.partial").write_text("planted\n")
    (out / SET_JOURNAL).write_text(PLANTED[journal].replace("{victim}", str(victim)))
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    with (
        storage.open_database(db_path, readonly=True) as db,
        pytest.raises(exports.ExportError, match=f"{SET_JOURNAL}: .*not an export"),
    ):
        exports.export_csv(db, out, workers=1)
    result = main("export", "csv", "--db", str(db_path), "--out", str(out))
    refused(result, f"{SET_JOURNAL}: ")
    assert victim.read_text() == "precious\n"
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
