"""The kiosk's start-up path imports neither jsonschema (shipped instruments as released are not
re-validated) nor numpy or pandas (sqlite-utils imported without them)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from respine_desktop.paths import shipped_digests
from tests.support.storage import ROOT

PROBE = """
import json, sys
from respine_desktop import instruments, storage
instruments.load_instruments()
print(json.dumps(sorted(m for m in ("jsonschema", "numpy", "pandas") if m in sys.modules)))
import numpy  # still importable afterwards (the reports need it)
print(numpy.__name__)
"""


def test_loading_the_instruments_and_storage_imports_no_heavy_module() -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert json.loads(lines[0]) == []
    assert lines[1] == "numpy"


def test_every_shipped_instrument_has_its_released_digest() -> None:
    digests = shipped_digests()
    for name in ("odi.json", "sf36.json", "vas.json"):
        assert len(digests[f"instruments/{name}"]) == 64


def test_the_resources_are_where_importlib_resources_finds_them() -> None:
    # `resources_dir` is found from the package's own file (no importlib.resources at start-up);
    # it must be the folder importlib.resources gives for the package as installed.
    from importlib.resources import files

    from respine_desktop.paths import resource, resources_dir

    expected = Path(str(files("respine_desktop").joinpath("resources")))
    assert resources_dir() == expected
    assert resources_dir().is_absolute()
    assert resource("style", "kiosk.qss").is_file()
    assert (
        resource("i18n", "en.json").read_bytes()
        == expected.joinpath("i18n", "en.json").read_bytes()
    )
