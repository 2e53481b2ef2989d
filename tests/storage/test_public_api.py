"""The public face of `respine_desktop.storage`: its documented API is `__all__`, internals stay in.

The package docstring and each public submodule's docstring list their API in a ``Public API``
section (one ``- `name`...`` line per name); that list must equal the module's `__all__`, and
every name must exist. No module outside storage imports an internal (``_``-prefixed) storage
module, except the tests and benchmarks below that exercise internals on purpose.
"""

from __future__ import annotations

import ast
import importlib
import re
from pathlib import Path
from types import ModuleType

import pytest

from respine_desktop import storage

ROOT = Path(__file__).resolve().parents[2]
PUBLIC_SUBMODULES = (
    "respine_desktop.storage.export_reads",
    "respine_desktop.storage.bundle_merge",
    "respine_desktop.storage.report_reads",
    "respine_desktop.storage.stored_values",
)

# Tests and benchmarks that work on storage internals on purpose, with what they use them for.
INTERNALS_ALLOWED = {
    "bench/storage.py": "raw insert rates: the answers' columns, the bare schema",
    "tests/test_json_text.py": "the database key file's reader, given a file nested too deeply",
    "bench/hub_lookups.py": "a merge's look-ups timed with the application's SQLite driver",
    "tests/storage/test_storage_schema.py": "the migrations themselves",
    "tests/storage/test_storage_staff.py": "PIN hashing and the username and PIN formats",
    "tests/storage/test_storage_audit.py": "forging an entry's hash, the protective triggers",
    "tests/storage/test_conflict_resolution.py": "the schema an upgrade brings",
    "tests/storage/test_storage_views.py": "the views the schema defines",
    "tests/storage/test_storage_readonly_media.py": "the URI chosen for read-only media",
    "tests/cli/test_cli_db.py": "the protective triggers a verify checks",
    "tests/reports/test_reports_cli.py": "how many migrations an old file lacks",
    "tests/support/storage.py": "databases of an older schema",
    "tests/support/exports.py": "table digests over every table of the schema",
    "tests/exports/test_bundle_answer_content.py": "answers given on another instrument content",
    "tests/exports/test_bundle_forged.py": "forging a chain: entry hashes, answer digests",
    "tests/exports/test_bundle_recorded_once.py": "forging a chain: an entry appended, hashed",
    "tests/exports/test_bundle_answer_order.py": "forging a chain: an answer entry, digest",
    "tests/storage/test_merge_validation.py": "the validators and merge rules, row by row",
    "tests/support/encryption.py": "forgetting unlocked keys, as a new process would",
    "tests/storage/test_encryption.py": "the key store's service name, a recovery code",
    "bench/crypto.py": "the raw key of a benchmark database",
    "tests/storage/test_vas_calibrations.py": "the answers' digest as it was before 0005",
    "tests/exports/test_bundle_answer_calibration.py": "the calibration entries' index condition",
    "tests/exports/test_bundle_calibration_entries.py": "forging a chain: an entry's hash",
    "tests/cli/test_signin.py": "the stored hash of a PIN the policy now refuses (an old account)",
    "tests/storage/test_pin_policy.py": "the common-PIN list, lockout counts, older PIN hashes",
    "bench/pins.py": "the scrypt parameters the PIN hashes use, timed",
    "tests/storage/test_key_wrap_v2.py": "the wrapped keys' stored settings and wrap labels",
    "tests/storage/test_backup_concurrent.py": "a second backup run mid-way through a first",
    "tests/cli/test_cli_init_killed.py": "a link put under a new database's name as it is built",
    "tests/storage/test_signatures.py": "the canonical signed text, the append-only triggers",
    "tests/storage/test_merge_fast_paths.py": "column-wise validation against the row checks",
    "tests/storage/test_verify_devices.py": "a consistent rewrite: row images, entry hashes",
    "tests/storage/test_verify_answer_listing.py": "a consistent rewrite: the answers' digest",
    "tests/storage/test_merge_raw_attacks.py": "fast-path attacks: text pieces, row checker",
    "tests/storage/test_merge_staging.py": "answers staged before the lock: TEMP store, calls",
    "tests/storage/test_merge_staging_attacks.py": "staging attacked: paths, TOCTOU, TEMP",
    "tests/storage/test_merge_staging_cells.py": "staged copy against binding, cell for cell",
    "tests/exports/test_bundle_forged_staging.py": "forged edge values: staged or not, digests",
    "tests/storage/test_verify_append_only.py": "a transaction of the package, triggers dropped",
    "tests/storage/test_driver.py": "the driver's adapter of None",
    "tests/exports/test_bundle_answer_links.py": "forging a chain: a digest, scores recomputed",
    "tests/storage/test_verify_answer_links.py": "a consistent rewrite: a digest, scores",
    "tests/exports/test_bundle_withdrawal_subject.py": "forging a chain: entry hashes",
    "tests/exports/test_bundle_session_visit.py": "forging a chain: entry hashes",
    "tests/exports/test_bundle_answer_entries.py": "forging a chain: entry hashes",
    "tests/storage/test_answer_links.py": "the link rule the merge and verify share, in memory",
}


def documented(module: ModuleType) -> list[str]:
    """The names listed in the ``Public API`` section of a module's docstring."""
    doc = module.__doc__ or ""
    assert "\nPublic API\n----------\n" in doc, f"{module.__name__}: no Public API section"
    section = doc.split("\nPublic API\n----------\n", 1)[1]
    section = re.split(r"\n[^\n]+\n-+\n", section, maxsplit=1)[0]  # up to the next section
    return re.findall(r"^- `(\w+)", section, flags=re.MULTILINE)


def documented_submodules() -> list[str]:
    doc = storage.__doc__ or ""
    section = doc.split("\nPublic submodules\n-----------------\n", 1)[1]
    return re.findall(r"^- `([\w.]+)`", section, flags=re.MULTILINE)


@pytest.mark.parametrize("name", ["respine_desktop.storage", *PUBLIC_SUBMODULES])
def test_documented_api_is_all(name: str) -> None:
    module = importlib.import_module(name)
    names = documented(module)
    assert len(names) == len(set(names)), f"{name}: a name is documented twice"
    assert sorted(names) == sorted(module.__all__)
    for attribute in module.__all__:
        assert hasattr(module, attribute), f"{name}.{attribute} does not exist"
        assert not attribute.startswith("_")


def test_public_submodules_are_the_documented_ones() -> None:
    assert documented_submodules() == list(PUBLIC_SUBMODULES)
    package = Path(storage.__file__).parent
    public = {
        f"respine_desktop.storage.{p.stem}"
        for p in package.glob("*.py")
        if not p.stem.startswith("_")
    }
    assert public == set(PUBLIC_SUBMODULES)


def _storage_imports(tree: ast.AST) -> list[tuple[int, str]]:
    """Every storage module (or name imported from a storage module) an AST imports."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{a.name}") for a in node.names]
    return [(n, m) for n, m in found if m.startswith("respine_desktop.storage.")]


def _sources() -> list[Path]:
    files = [ROOT / "main.py"]
    for folder in ("respine_desktop", "ui", "tests", "bench"):
        files += sorted((ROOT / folder).rglob("*.py"))
    inside = ROOT / "respine_desktop" / "storage"
    return [f for f in files if inside not in f.parents]


def test_no_module_outside_storage_imports_its_internals() -> None:
    offenders = []
    for path in _sources():
        relative = path.relative_to(ROOT).as_posix()
        if relative in INTERNALS_ALLOWED:
            continue
        for line, name in _storage_imports(ast.parse(path.read_text(), str(path))):
            parts = name.split(".")[2:]
            if any(p.startswith("_") for p in parts):
                offenders.append(f"{relative}:{line}: {name}")
    assert offenders == []


def test_the_allowed_internal_imports_are_still_needed() -> None:
    for relative in INTERNALS_ALLOWED:
        tree = ast.parse((ROOT / relative).read_text())
        names = [m for _, m in _storage_imports(tree)]
        assert any(p.startswith("_") for m in names for p in m.split(".")[2:]), relative


def test_the_lazy_table_the_typed_imports_and_all_agree() -> None:
    # The package resolves its names lazily from `_WHERE` (name -> module); the same names are
    # imported under TYPE_CHECKING for mypy. All three lists must be the same names, and every
    # name must resolve to the object its module defines.
    tree = ast.parse((ROOT / "respine_desktop/storage/__init__.py").read_text(encoding="utf-8"))
    typed = {
        alias.asname or alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.If) and getattr(node.test, "id", "") == "TYPE_CHECKING"
        for stmt in node.body
        if isinstance(stmt, ast.ImportFrom)
        for alias in stmt.names
    }
    assert set(storage._WHERE) == set(storage.__all__) == typed
    for name, where in storage._WHERE.items():
        module, _, attribute = where.partition(":")
        module = module if "." in module else f"respine_desktop.storage.{module}"
        assert getattr(storage, name) is getattr(importlib.import_module(module), attribute or name)
    with pytest.raises(AttributeError, match="no attribute 'no_such_name'"):
        getattr(storage, "no_such_name")  # noqa: B009
