"""Test set-up shared by every test: Qt on the offscreen platform, paths to shared material."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

# Hypothesis' per-example deadline is a timing assertion; on shared, loaded machines it only
# produces flaky failures, so it is off for every property test.
from hypothesis import settings  # noqa: E402

settings.register_profile("respine", deadline=None)
settings.load_profile("respine")
