"""One error base: every package's user-facing error is a RespineError, caught once by the CLI."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

from respine_desktop import cli, exports, instruments, reports, storage, study
from respine_desktop.errors import RespineError
from respine_desktop.reports.arms import ArmsFileError
from respine_desktop.session import FlowError
from tests.support.storage import ROOT, env


@pytest.mark.parametrize(
    "error",
    [
        storage.StorageError,
        storage.MergeRefused,
        exports.ExportError,
        exports.BundleError,
        instruments.InstrumentError,
        study.StudyConfigError,
        reports.ReportOutputError,
        ArmsFileError,
        cli.UsageError,
    ],
)
def test_every_user_facing_error_root_is_a_respine_error(error: type[Exception]) -> None:
    assert issubclass(error, RespineError)


def test_a_bug_in_the_caller_is_not_dressed_as_a_user_error() -> None:
    assert not issubclass(FlowError, RespineError)


def test_the_message_is_one_line_whatever_it_wraps() -> None:
    assert str(RespineError("cannot read x.csv:\n  line 3\tbad")) == "cannot read x.csv: line 3 bad"


def test_no_command_catches_a_tuple_of_domain_errors() -> None:
    """The CLI catches `RespineError` once (in `cli.run`); commands no longer convert each
    package's error into a usage error by hand."""
    offenders = []
    for path in (ROOT / "respine_desktop" / "cli").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ExceptHandler) and isinstance(node.type, ast.Tuple):
                names = [ast.unparse(e) for e in node.type.elts]
                if any(n.endswith(("Error", "Refused")) and "OSError" not in n for n in names):
                    offenders.append(f"{path.name}:{node.lineno} {names}")
    assert offenders == []


def test_a_storage_error_ends_in_one_line_and_exit_2(tmp_path: Path) -> None:
    not_a_db = tmp_path / "notes.db"
    not_a_db.write_text("these are not the droids\n" * 50)
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "status", "--db", str(not_a_db)],
        env=env(),
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ") and done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr
