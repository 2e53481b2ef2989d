"""Test set-up shared by every test: Qt on the offscreen platform, no Hypothesis deadline, the
system clock back after each test."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import settings

from respine_desktop import clock

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Wrapping keys of the databases tests make (storage._key_wrap) go to a folder of this run, never
# to the user's data dir; child processes inherit it.
os.environ.setdefault("RESPINE_KEY_DIR", tempfile.mkdtemp(prefix="respine-keys-"))

# Hypothesis' per-example deadline is a timing assertion; on shared, loaded machines it only
# produces flaky failures, so it is off for every property test.
settings.register_profile("respine", deadline=None)
settings.load_profile("respine")


@pytest.fixture(autouse=True)
def _system_clock_after_each_test() -> Iterator[None]:
    """A test that sets the application clock (`tests.support.storage.fixed_clock`) gets it back
    to the system clock afterwards, so no later test of the same worker inherits a frozen time."""
    yield
    clock.set_clock(None)
