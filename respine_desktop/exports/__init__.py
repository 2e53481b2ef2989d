"""Exports for data managers and multi-kiosk sites: CSV, CDISC ODM 1.3.2, REDCap, site bundles.

Public API (each takes an open `StudyDb` first; `progress(fraction, message)` is optional and
called as the export advances, at most once per whole percent, then once with 1.0 at the end)::

    export_csv(db, out_dir, progress=None) -> CsvExport         # answers_long, visits_wide ...
    export_odm(db, out_file, history=False, progress=None) -> OdmExport
    export_redcap(db, out_dir, progress=None) -> RedcapExport   # dictionary, events, records
    export_bundle(db, out_file, since=None, key=None, progress=None) -> BundleInfo
    verify_bundle(db, path, key=None) -> BundleInfo             # checks only, writes nothing
    import_bundle(db, path, key=None, progress=None) -> ImportSummary
    write_key_file(db, out) / install_key_file(db, path, replace=False)   # the site key
    write_device_file(db, out, role="kiosk"|"hub") -> DeviceFile          # public device keys
    read_device_file(path) -> DeviceFile
    enrol_device_file(db, path) -> (DeviceFile, changed)                  # hub enrols a kiosk
    install_hub_file(db, path, replace=False) -> (DeviceFile, changed)    # kiosk learns its hub
    list_conflicts(db) -> [Conflict]                            # flagged by bundle imports

Every export streams subject by subject (memory stays flat as the study grows) and writes its
files under a ``.partial`` name, renamed into place only when complete. User errors raise
`ExportError` (`BundleError` for a refused bundle: nothing was written) with a one-line message.

From a GUI: run the export in a worker thread that opens its own `StudyDb` (SQLite connections
stay in the thread that made them; exports only read, so ``open_database(path, readonly=True)``
for csv/odm/redcap) and forward `progress` to the progress bar through a queued signal. An
exception raised by the callback (e.g. the user pressed Cancel) stops the export: no output file
is replaced and an import is rolled back.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from respine_desktop import lazy

# The package is lazy: a name is imported from its submodule when first used (PEP 562), so that
# a CSV export's worker process, which imports `csv_export` (and so this package) to run its part,
# does not load the bundles' cryptography and merge nor the ODM and REDCap writers (about 0.2 s of
# CPU per worker). `_WHERE` maps every public name to the module that defines it (a submodule of
# this package, or an absolute module); the same imports are written below for the type checkers.
# To add a public name: one line in `_WHERE`, the import in the TYPE_CHECKING block, the name in
# `__all__` (a test checks that the three agree).
if TYPE_CHECKING:
    from respine_desktop.exports.bundle import (
        BundleInfo,
        ImportSummary,
        export_bundle,
        import_bundle,
        parse_since,
        verify_bundle,
    )
    from respine_desktop.exports.csv_export import CsvExport, export_csv
    from respine_desktop.exports.device_keys import (
        DeviceFile,
        enrol_device_file,
        install_hub_file,
        read_device_file,
        write_device_file,
    )
    from respine_desktop.exports.errors import BundleError, ExportError
    from respine_desktop.exports.key_file import (
        KeyFile,
        install_key_file,
        read_key_file,
        write_key_file,
    )
    from respine_desktop.exports.odm import OdmExport, export_odm
    from respine_desktop.exports.progress import Progress
    from respine_desktop.exports.redcap import RedcapExport, export_redcap
    from respine_desktop.storage.bundle_merge import Conflict, list_conflicts

_WHERE: dict[str, str] = {
    "BundleInfo": "bundle",
    "ImportSummary": "bundle",
    "export_bundle": "bundle",
    "import_bundle": "bundle",
    "parse_since": "bundle",
    "verify_bundle": "bundle",
    "CsvExport": "csv_export",
    "export_csv": "csv_export",
    "DeviceFile": "device_keys",
    "enrol_device_file": "device_keys",
    "install_hub_file": "device_keys",
    "read_device_file": "device_keys",
    "write_device_file": "device_keys",
    "BundleError": "errors",
    "ExportError": "errors",
    "KeyFile": "key_file",
    "install_key_file": "key_file",
    "read_key_file": "key_file",
    "write_key_file": "key_file",
    "OdmExport": "odm",
    "export_odm": "odm",
    "Progress": "progress",
    "RedcapExport": "redcap",
    "export_redcap": "redcap",
    "Conflict": "respine_desktop.storage.bundle_merge",
    "list_conflicts": "respine_desktop.storage.bundle_merge",
}


# Not seen by the type checkers: an unknown name stays an error for mypy (it sees the imports
# above), not an Any.
if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy.attributes(__name__, _WHERE, globals())


__all__ = [
    "BundleError",
    "BundleInfo",
    "Conflict",
    "CsvExport",
    "DeviceFile",
    "ExportError",
    "ImportSummary",
    "KeyFile",
    "OdmExport",
    "Progress",
    "RedcapExport",
    "enrol_device_file",
    "export_bundle",
    "export_csv",
    "export_odm",
    "export_redcap",
    "import_bundle",
    "install_hub_file",
    "install_key_file",
    "list_conflicts",
    "parse_since",
    "read_device_file",
    "read_key_file",
    "verify_bundle",
    "write_device_file",
    "write_key_file",
]
