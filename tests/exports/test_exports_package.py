"""The exports package is lazy: every public name resolves to its submodule's object, and a CSV
export's worker process (which imports `csv_export`) loads neither the bundles nor the ODM and
REDCap writers."""

from __future__ import annotations

import ast
import importlib
import subprocess
import sys

import pytest

from respine_desktop import exports


def test_the_public_names_are_where_the_package_says() -> None:
    where = exports._WHERE
    assert set(where) == set(exports.__all__)
    for name, module_name in where.items():
        full = module_name if "." in module_name else f"respine_desktop.exports.{module_name}"
        assert getattr(exports, name) is getattr(importlib.import_module(full), name), name
    assert set(exports.__all__) <= set(dir(exports))


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no_such_export"):
        exports.no_such_export  # type: ignore[attr-defined]  # noqa: B018


def test_a_csv_worker_loads_no_other_export() -> None:
    code = (
        "import sys\n"
        "import respine_desktop.exports.csv_export\n"
        "print(sorted(m for m in sys.modules if m.startswith('respine_desktop.')))\n"
    )
    run = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = ast.literal_eval(run.stdout)  # a printed list of module names
    assert "respine_desktop.exports.csv_export" in loaded
    for other in ("bundle", "bundle_envelope", "odm", "redcap", "stats", "device_keys"):
        assert f"respine_desktop.exports.{other}" not in loaded
    assert "respine_desktop.storage.bundle_merge" not in loaded
