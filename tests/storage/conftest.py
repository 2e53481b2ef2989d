"""Fixtures of the storage tests: a study database with one registered subject."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from respine_desktop.storage import StudyDb
from tests.support.storage import SUBJECT, subject_db


@pytest.fixture
def db(tmp_path: Path) -> Iterator[StudyDb]:
    """A fresh database at the tests' fixed clock with `SUBJECT` registered (day 0 = today)."""
    with subject_db(tmp_path / "study.db", SUBJECT) as database:
        yield database
