"""`respine validate`: the device's IQ/OQ evidence, on this checkout, as text and as a PDF."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from respine_desktop import cli
from respine_desktop.paths import resources_dir
from respine_desktop.qualification import installation, manifest, operational
from tests.support.storage import ROOT, env


def main(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "main.py", *args],
        cwd=ROOT,
        env=env(),
        input="",
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.req("IQ-01", "IQ-04", "IQ-05", "DB-02")
def test_validate_passes_on_the_checkout_and_writes_the_evidence(tmp_path: Path) -> None:
    result = main("validate", "--out", str(tmp_path / "iq-oq.pdf"))
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    verdicts = {line.split()[1] for line in lines if line.startswith("pass ")}
    # Every group of checks ran and passed (ids from docs/requirements.md).
    for req in ("IQ-01", "IQ-02", "IQ-04", "IQ-05", "SCO-01", "END-01", "DB-01", "DB-02"):
        assert req in verdicts, result.stdout
    for req in ("DB-03", "DB-04", "DB-05", "DB-06", "AUD-01", "EXP-01", "BUN-01", "REP-01"):
        assert req in verdicts, result.stdout
    assert not [line for line in lines if line.startswith("FAIL")]
    summary = lines[-2]
    assert summary.startswith("validate: ") and "checks passed" in summary
    text = "\n".join(p.extract_text() for p in PdfReader(tmp_path / "iq-oq.pdf").pages)
    assert "Installation and operational qualification" in text
    assert "PASSED: all" in text
    assert "FX-LB-01" in text and "AUD-01" in text and "Signature" in text


@pytest.fixture
def broken_resources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped resources whose ODI instrument was changed by one character."""
    copy = tmp_path / "resources"
    shutil.copytree(resources_dir(), copy)
    odi = copy / "instruments" / "odi.json"
    odi.write_text(odi.read_text(encoding="utf-8").replace('"', "'", 1), encoding="utf-8")
    monkeypatch.setattr(installation, "resources_dir", lambda: copy)
    return copy


@pytest.mark.req("IQ-02")
def test_a_changed_instrument_file_fails_naming_it(broken_resources: Path) -> None:
    checks = list(installation.shipped_files(broken_resources))
    assert [c.requirement for c in checks] == ["IQ-02"]
    assert not checks[0].passed
    assert "instruments/odi.json: changed" in checks[0].observed


def test_validate_exits_1_naming_the_failed_check(
    broken_resources: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the installation checks: the operational ones are the first test's.
    from respine_desktop.qualification import check

    real = check.run_checks
    monkeypatch.setattr(
        "respine_desktop.qualification.run_checks",
        lambda workdir, progress=None: [
            c for c in real(workdir, progress) if c.requirement.startswith("IQ-0")
        ],
    )
    assert cli.run(["validate"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  IQ-02" in out and "instruments/odi.json: changed" in out
    assert out.splitlines()[-1].endswith("FAILED: IQ-02")


@pytest.mark.req("IQ-02")
def test_resource_manifest_is_up_to_date() -> None:
    """After changing a resource: python -m respine_desktop.qualification.manifest"""
    root = resources_dir()
    assert manifest.compare(root, root / manifest.RESOURCE_MANIFEST) == []


def test_an_unexpected_error_is_a_failed_check_not_a_crash(tmp_path: Path) -> None:
    def broken(workdir: Path) -> list[operational.Check]:
        raise ValueError("disk on fire")

    from respine_desktop.qualification.check import _guarded

    (failed,) = list(_guarded(broken, tmp_path))
    assert not failed.passed and "ValueError: disk on fire" in failed.observed


@pytest.mark.req("IQ-03")
def test_manifest_names_missing_and_unlisted_files(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    listing = tmp_path / manifest.RESOURCE_MANIFEST
    listing.write_text(manifest.manifest_text(tmp_path))
    (tmp_path / "a.txt").unlink()
    (tmp_path / "c.txt").write_text("c")
    assert manifest.compare(tmp_path, listing) == [
        "a.txt: missing",
        "c.txt: not in the manifest",
    ]
