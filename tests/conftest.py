"""Test set-up shared by every test: Qt on the offscreen platform, no Hypothesis deadline, the
system clock back after each test."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest
from hypothesis import settings

from respine_desktop import clock

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# Wrapping keys of the databases tests make (storage._key_wrap) go to a folder of this run, never
# to the user's data dir; child processes (and xdist's workers) inherit it. The process that made
# it removes it when it ends: no key folder is left behind in the temporary directory.
if "RESPINE_KEY_DIR" not in os.environ:
    _key_dir = tempfile.mkdtemp(prefix="respine-keys-")
    os.environ["RESPINE_KEY_DIR"] = _key_dir
    atexit.register(shutil.rmtree, _key_dir, ignore_errors=True)

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


# Traceability: a test names the requirements it proves with @pytest.mark.req("ID"); unknown ids
# stop the run, and the outcome of every marked test is recorded in build/traceability.json (read
# by `respine validate --trace`, shipped in the frozen build). With xdist the reports reach the
# controller, which writes the record once.
_TRACE: dict[str, dict[str, object]] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    from respine_desktop.qualification.trace import requirements

    known = {r.id for r in requirements()}
    for item in items:
        ids = [rid for mark in item.iter_markers("req") for rid in mark.args]
        unknown = sorted(set(ids) - known)
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: unknown requirement id(s) {unknown}")
        if ids:
            item.user_properties.append(("requirements", ids))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    ids = next((v for k, v in report.user_properties if k == "requirements"), None)
    if not ids:
        return
    entry = _TRACE.setdefault(report.nodeid, {"requirements": list(ids), "outcome": "passed"})
    if report.failed:
        entry["outcome"] = "failed"
    elif report.skipped:
        entry["outcome"] = "skipped"


def pytest_sessionfinish(session: pytest.Session) -> None:
    if hasattr(session.config, "workerinput") or not _TRACE:
        return
    import json
    from datetime import UTC, datetime

    from respine_desktop.qualification.trace import results_path

    path = results_path()
    path.parent.mkdir(exist_ok=True)
    run_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    path.write_text(json.dumps({"run_at": run_at, "tests": _TRACE}, indent=1), encoding="utf-8")
