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
