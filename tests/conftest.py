"""Test set-up shared by every test: Qt on the offscreen platform, no Hypothesis deadline."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


# Hypothesis' per-example deadline is a timing assertion; on shared, loaded machines it only
# produces flaky failures, so it is off for every property test.
from hypothesis import settings

settings.register_profile("respine", deadline=None)
settings.load_profile("respine")
