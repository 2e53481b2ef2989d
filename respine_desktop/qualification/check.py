"""One qualification check's evidence, and the runner that gathers them all."""

from __future__ import annotations

import os
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Check:
    """The evidence of one check: requirement id, what it tests, expected, observed, verdict."""

    requirement: str
    title: str
    expected: str
    observed: str
    passed: bool

    @property
    def verdict(self) -> str:
        return "pass" if self.passed else "FAIL"


CheckFunction = Callable[[Path], Iterable[Check]]
KEY_ENVIRONMENT = ("RESPINE_KEY_DIR", "RESPINE_KEY_STORE")


def _guarded(function: CheckFunction, workdir: Path) -> Iterator[Check]:
    """The checks of `function`; an unexpected exception is itself a failed check (not a crash),
    its last line as the observation."""
    try:
        yield from function(workdir)
    except Exception as exc:
        where = traceback.extract_tb(exc.__traceback__)[-1]
        yield Check(
            f"ERROR-{function.__module__.rsplit('.', 1)[-1]}",
            f"{function.__name__} ran to its end",
            "no error",
            f"{type(exc).__name__}: {exc} ({Path(where.filename).name}:{where.lineno})",
            False,
        )


def run_checks(workdir: Path, progress: Callable[[str], None] | None = None) -> list[Check]:
    """Every IQ then OQ check, each group in its own subfolder of `workdir`."""
    from respine_desktop.qualification import crash, installation, operational

    groups: list[CheckFunction] = [
        installation.identity,
        installation.shipped_files,
        installation.runtime,
        operational.scoring_fixtures,
        operational.endpoint_boundaries,
        operational.database_life_cycle,
        crash.killed_writer,
        operational.tamper_detected,
        operational.odm_valid,
        operational.bundle_round_trip,
        operational.pdf_rendered,
    ]
    checks: list[Check] = []
    # The throw-away databases' wrapping keys go to the temporary folder, never to this
    # device's key store (`storage._key_wrap`, `storage._key_store`).
    saved = {name: os.environ.get(name) for name in KEY_ENVIRONMENT}
    os.environ.update({"RESPINE_KEY_DIR": str(workdir / "keys"), "RESPINE_KEY_STORE": "file"})
    try:
        for n, group in enumerate(groups, start=1):
            if progress is not None:
                progress(group.__name__.replace("_", " "))
            folder = workdir / f"{n:02d}-{group.__name__}"
            folder.mkdir()
            checks.extend(_guarded(group, folder))
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return checks
