"""The import-linter contracts cover a module nobody listed: a copy of the packages with one new
module holding a forbidden import fails `lint-imports` on the contract it breaks, while the
untouched copy passes (so the failure comes from the new module, not from the copy)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.storage import ROOT

LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


@pytest.fixture(scope="module")
def copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The two packages and the contracts, copied to a folder of their own."""
    root = tmp_path_factory.mktemp("tree")
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "resources")
    for package in ("respine_desktop", "ui"):
        shutil.copytree(ROOT / package, root / package, ignore=ignore)
    shutil.copy(ROOT / "pyproject.toml", root)
    return root


def lint(root: Path) -> subprocess.CompletedProcess[str]:
    # The copy shadows the installed checkout; wide columns keep each contract on one line.
    env = dict(os.environ, PYTHONPATH=str(root), COLUMNS="200")
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def with_module(copy: Path, module: str, source: str) -> Path:
    path = copy / Path(*module.split(".")).with_suffix(".py")
    path.write_text(source, encoding="utf-8")
    return path


def test_the_untouched_copy_keeps_every_contract(copy: Path) -> None:
    done = lint(copy)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "broken" in done.stdout and "0 broken" in done.stdout


@pytest.mark.parametrize(
    ("module", "source", "contract"),
    [
        (
            "respine_desktop.reports.sneaky_sql",
            "import sqlite3\n",
            "Only storage imports sqlite_utils and sqlite3",
        ),
        (
            "respine_desktop.new_helper",
            "from PySide6.QtCore import QObject\n",
            "The domain never imports Qt or the ui layer",
        ),
        (
            "respine_desktop.scoring.peek",
            "from respine_desktop import storage\n",
            "The domain's layers",
        ),
        (
            "ui.new_chart",
            "import matplotlib\n",
            "Only reports imports reportlab and matplotlib",
        ),
    ],
)
def test_a_new_module_with_a_forbidden_import_breaks_its_contract(
    copy: Path, module: str, source: str, contract: str
) -> None:
    added = with_module(copy, module, source)
    try:
        done = lint(copy)
    finally:
        added.unlink()
    assert done.returncode == 1, done.stdout + done.stderr
    broken = [line for line in done.stdout.splitlines() if " BROKEN" in line]
    assert any(line.startswith(contract) for line in broken), done.stdout
    assert module in done.stdout
