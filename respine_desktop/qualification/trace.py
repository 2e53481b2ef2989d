"""Requirements and their traceability: requirement → tests → results.

The requirements live in ``resources/qualification/requirements.toml`` (docs/requirements.md is
generated from it, with the tests that prove each one, by ``tools/traceability.py``). A test
names the requirements it proves with ``@pytest.mark.req("ID")``; the test run (tests/
conftest.py) records each marked test's outcome in ``build/traceability.json``, which a frozen
build ships beside its libraries. `respine validate --trace` prints the matrix from that record.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from respine_desktop import json_text
from respine_desktop.paths import resource
from respine_desktop.qualification import manifest

RESULTS = "traceability.json"


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    area: str
    text: str


def requirements() -> list[Requirement]:
    """Every user requirement, in document order."""
    with resource("qualification", "requirements.toml").open("rb") as f:
        data = tomllib.load(f)
    return [Requirement(r["id"], r["area"], r["text"]) for r in data["requirement"]]


def results_path() -> Path:
    """Where the last test run's record is: beside a frozen build's libraries, or in the
    checkout's ``build/`` folder."""
    if manifest.build_root() is not None:
        return manifest.build_files() / RESULTS
    return Path(__file__).resolve().parents[2] / "build" / RESULTS


def load_results(path: Path | None = None) -> dict[str, Any] | None:
    """The recorded run ({"run_at", "tests": {nodeid: {"requirements", "outcome"}}}), or None."""
    path = path or results_path()
    if not path.is_file():
        return None
    found: dict[str, Any] = json_text.loads(path.read_text(encoding="utf-8"))
    return found


@dataclass(frozen=True, slots=True)
class TraceRow:
    requirement: Requirement
    tests: tuple[tuple[str, str], ...]  # (test node id, outcome)

    @property
    def verdict(self) -> str:
        outcomes = {outcome for _, outcome in self.tests}
        if not self.tests:
            return "not run"
        if outcomes == {"passed"}:
            return "pass"
        return "FAIL" if "failed" in outcomes else "incomplete"


def matrix(results: dict[str, Any]) -> list[TraceRow]:
    """Requirement → (test, outcome) for every requirement, from a recorded run."""
    by_requirement: dict[str, list[tuple[str, str]]] = {}
    for nodeid, test in sorted(results.get("tests", {}).items()):
        for rid in test["requirements"]:
            by_requirement.setdefault(rid, []).append((nodeid, test["outcome"]))
    return [TraceRow(r, tuple(by_requirement.get(r.id, ()))) for r in requirements()]
