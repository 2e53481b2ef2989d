"""Every requirement has a test; docs/requirements.md is current; `validate --trace` reports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from respine_desktop import cli
from respine_desktop.qualification import trace
from tools import traceability


def test_every_requirement_has_a_test_and_every_marker_a_requirement() -> None:
    ids = [r.id for r in trace.requirements()]
    assert len(ids) == len(set(ids)), "a requirement id is listed twice"
    marked = traceability.marked_tests()
    assert [rid for rid in ids if not marked.get(rid)] == []
    assert sorted(set(marked) - set(ids)) == []


def test_the_requirements_page_is_current() -> None:
    assert traceability.main(["--check"]) == 0, "run: python -m tools.traceability"


def _record(tmp_path: Path, outcomes: dict[str, tuple[list[str], str]]) -> Path:
    path = tmp_path / trace.RESULTS
    tests = {nodeid: {"requirements": ids, "outcome": o} for nodeid, (ids, o) in outcomes.items()}
    path.write_text(json.dumps({"run_at": "2026-12-04T01:00:00Z", "tests": tests}))
    return path


def test_trace_passes_when_every_requirement_has_a_passing_test(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = [r.id for r in trace.requirements()]
    path = _record(tmp_path, {f"t.py::test_{n}": ([rid], "passed") for n, rid in enumerate(ids)})
    monkeypatch.setattr(trace, "results_path", lambda: path)
    assert cli.run(["validate", "--trace"]) == 0
    out = capsys.readouterr().out
    assert f"{len(ids)} of {len(ids)} requirements proved" in out
    assert "passed   t.py::test_0" in out


def test_trace_fails_naming_a_failed_or_untested_requirement(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = [r.id for r in trace.requirements()]
    outcomes = {f"t.py::test_{n}": ([rid], "passed") for n, rid in enumerate(ids[2:])}
    outcomes["t.py::test_broken"] = ([ids[0]], "failed")
    monkeypatch.setattr(trace, "results_path", lambda: _record(tmp_path, outcomes))
    assert cli.run(["validate", "--trace"]) == 1
    out = capsys.readouterr().out
    assert f"FAIL        {ids[0]}" in out and f"not run     {ids[1]}" in out
    assert out.splitlines()[-1].endswith(f"not proved: {ids[0]}, {ids[1]}")


def test_trace_without_a_recorded_run_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(trace, "results_path", lambda: tmp_path / "none.json")
    assert cli.run(["validate", "--trace"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "no test run recorded" in err[0]
