"""A command whose stdout reader goes away (`demo ... | head -1`) stops quietly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.support.storage import ROOT, env


def test_a_closed_stdout_ends_the_command_quietly(tmp_path: Path) -> None:
    with subprocess.Popen(
        [sys.executable, "main.py", "demo", "--db", str(tmp_path / "d.db"), "--subjects", "2"],
        cwd=ROOT,
        env=env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as child:
        assert child.stdout is not None and child.stderr is not None
        child.stdout.close()  # the reader is gone before the first line: its first write fails
        stderr = child.stderr.read().decode()
        assert child.wait(timeout=300) == 141
    assert stderr == ""
    # What was committed before the reader went away is a sound database.
    check = subprocess.run(
        [sys.executable, "main.py", "verify", "--db", str(tmp_path / "d.db")],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert check.returncode == 0, check.stderr


def test_an_export_whose_progress_reader_goes_away_stops_quietly_and_writes_nothing(
    tmp_path: Path,
) -> None:
    """`export ... 2>&1 | head -1`, the reader gone before the first progress line: the export
    stops as a command whose stdout reader went away does (141), with nothing written (it ended
    in exit 1: the error made of the broken pipe could not be printed either)."""
    from tests.support.cli import signed_in
    from tests.support.exports import demo_db

    db = tmp_path / "d.db"
    demo_db(db, subjects=6)
    out = tmp_path / "out"
    out.mkdir()
    for command in (
        ["export", "odm", "--db", str(db), "--out", str(out / "x.xml")],
        ["export", "csv", "--db", str(db), "--out", str(out / "csv")],
        ["report", "study", "--db", str(db), "--out", str(out / "r.pdf")],
    ):
        argv, pin = signed_in(command)
        with subprocess.Popen(
            [sys.executable, "main.py", *argv],
            cwd=ROOT,
            env=env(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        ) as child:
            assert child.stdin is not None and child.stdout is not None
            child.stdin.write((pin or "").encode())
            child.stdin.close()
            child.stdout.close()  # the reader is gone: the first progress line fails
            assert child.wait(timeout=300) == 141, command
        assert list(out.iterdir()) == [], command
