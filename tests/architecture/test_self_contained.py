"""The repository stands alone: no tracked file reads or names the reference folder beside it."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Written in two parts so that this file does not name it itself.
OUTSIDE = "../" + "shared"


def tracked_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    return [ROOT / name.decode() for name in listed if name]


def test_no_tracked_file_names_the_folder_outside_the_repository() -> None:
    files = tracked_files()
    assert len(files) > 100  # the listing worked: this is the checkout, not an empty tree
    naming = [
        str(f.relative_to(ROOT))
        for f in files
        if f.is_file() and OUTSIDE.encode() in f.read_bytes()
    ]
    assert naming == []


def test_what_the_tests_read_is_in_the_repository() -> None:
    data = ROOT / "tests" / "data"
    for needed in (
        "reference/published_fixtures.csv",
        "schemas/odm-1.3.2/ODM1-3-2.xsd",
        "schemas/odm_validate.py",
        "redcap_examples/longitudinal.dictionary.csv",
    ):
        assert (data / needed).is_file(), needed
    assert "source" in (data / "README.md").read_text(encoding="utf-8")
