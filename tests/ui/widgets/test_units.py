"""Millimetres on screen are millimetres on the glass, at any scale factor: checked against the
screen's own size (logical pixels over physical millimetres) in real child processes."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.support.storage import ROOT

PROBE = """
from PySide6.QtWidgets import QApplication
from ui.widgets.units import mm
app = QApplication([])
screen = app.primaryScreen()
per_mm = screen.geometry().width() / screen.physicalSize().width()
print(screen.devicePixelRatio(), mm(100), 100 * per_mm)
"""


@pytest.mark.parametrize("scale", ["1", "1.5625", "2"])
def test_a_100_mm_line_is_100_mm_of_the_screen_at_every_scale_factor(scale: str) -> None:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR=scale)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    ratio, drawn, expected = (float(v) for v in done.stdout.split())
    assert ratio == pytest.approx(float(scale))
    assert abs(drawn - expected) <= 1  # whole logical pixels
