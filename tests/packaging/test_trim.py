"""packaging/trim.py, what the frozen build leaves out, on the PySide6 wheel's real ELF files:
a cut Qt plugin takes with it the libraries only it links, a library something kept links stays,
a library left to the system is not followed, and the final check names a missing library."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path
from types import ModuleType

import PySide6
import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or shutil.which("readelf") is None,
    reason="the frozen build's trimming reads ELF files with binutils' readelf (Linux only)",
)

ROOT = Path(__file__).resolve().parents[2]
QT = Path(PySide6.__file__).parent / "Qt"
PLUGINS = "PySide6/Qt/plugins/"
# What PyInstaller never bundles, for these tests (the spec asks PyInstaller itself).
GLIBC = ("libc.so", "libm.so", "libdl.so", "libpthread.so", "librt.so", "libGL.so", "libEGL.so")


def _policy(name: str) -> bool:
    return not name.startswith(GLIBC)


@pytest.fixture(scope="module")
def trim() -> ModuleType:
    spec = importlib.util.spec_from_file_location("trim", ROOT / "packaging" / "trim.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _plugin(path: str) -> tuple[str, str, str]:
    return (PLUGINS + path, str(QT / "plugins" / path), "BINARY")


def _lib(name: str) -> tuple[str, str, str]:
    return (f"PySide6/Qt/lib/{name}", str(QT / "lib" / name), "BINARY")


def test_needed_reads_the_libraries_a_plugin_links(trim: ModuleType) -> None:
    assert "libQt6Network.so.6" in trim.needed(QT / "plugins/platforms/libqvnc.so")
    assert "libQt6Gui.so.6" in trim.needed(QT / "plugins/platforms/libqxcb.so")


def test_the_plugins_the_kiosk_never_loads_are_dropped_and_the_rest_kept(
    trim: ModuleType,
) -> None:
    found = sorted(p.relative_to(QT / "plugins").as_posix() for p in QT.glob("plugins/*/*.so"))
    kept, dropped = trim.drop_qt_plugins([_plugin(p) for p in found])
    kept_names = {Path(e[0]).name for e in kept}
    dropped_names = {Path(e[0]).name for e in dropped}
    # The platforms the deployment uses (wayland under cage, X11, linuxfb, offscreen for the
    # smoke test), touch input, printing, the style's SVG icons: kept.
    for name in ("libqwayland.so", "libqxcb.so", "libqlinuxfb.so", "libqoffscreen.so"):
        assert name in kept_names
    for name in ("libqevdevtouchplugin.so", "libcupsprintersupport.so", "libqsvg.so"):
        assert name in kept_names
    assert "libxdg-shell.so" in kept_names
    for name in ("libqvnc.so", "libqgtk3.so", "libqtuiotouchplugin.so", "libqjpeg.so"):
        assert name in dropped_names
    assert len(kept) + len(dropped) == len(found)


def test_a_cut_plugin_takes_the_libraries_only_it_links(trim: ModuleType) -> None:
    binaries = [
        _plugin("platforms/libqvnc.so"),
        _plugin("platforms/libqxcb.so"),
        _lib("libQt6Network.so.6"),
        _lib("libQt6XcbQpa.so.6"),
        _lib("libQt6Gui.so.6"),
        _lib("libQt6Core.so.6"),
    ]
    # PyInstaller's top-level symlinks to the libraries (in the datas) follow the libraries.
    datas = [
        ("libQt6Network.so.6", "PySide6/Qt/lib/libQt6Network.so.6", "SYMLINK"),
        ("libQt6Gui.so.6", "PySide6/Qt/lib/libQt6Gui.so.6", "SYMLINK"),
        ("matplotlib/mpl-data/matplotlibrc", "/x/matplotlibrc", "DATA"),
    ]
    # With the VNC platform: QtNetwork is linked, so it stays.
    assert "libQt6Network.so.6" in trim.linked_libraries(binaries)

    binaries, _ = trim.drop_qt_plugins(binaries)
    linked = trim.linked_libraries(binaries)
    kept, dropped = trim.keep_linked(binaries, linked)
    assert len(kept) == 4
    assert [Path(e[0]).name for e in dropped] == ["libQt6Network.so.6"]
    assert {"libQt6XcbQpa.so.6", "libQt6Gui.so.6", "libQt6Core.so.6"} <= linked
    kept_datas, dropped_datas = trim.keep_linked(datas, linked)
    assert dropped_datas == [datas[0]]
    assert kept_datas == datas[1:]


def _system_libcups() -> Path | None:
    for folder in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"):
        if (Path(folder) / "libcups.so.2").is_file():
            return Path(folder) / "libcups.so.2"
    return None


def test_a_library_left_to_the_system_is_neither_kept_nor_followed(trim: ModuleType) -> None:
    cups = _system_libcups()
    if cups is None:
        pytest.skip("this machine has no libcups.so.2 to collect (Debian: libcups2)")
    plugin = _plugin("printsupport/libcupsprintersupport.so")
    assert "libcups.so.2" in trim.needed(Path(plugin[1]))
    # Collected as PyInstaller does: the plugin, libcups, and the libraries libcups links.
    below = [
        (name, str(cups.with_name(name)), "BINARY")
        for name in trim.needed(cups)
        if cups.with_name(name).is_file() and not name.startswith(GLIBC)
    ]
    assert below, "libcups links TLS, Kerberos, Avahi libraries"
    collected = [plugin, ("libcups.so.2", str(cups), "BINARY"), *below]
    followed = trim.linked_libraries(collected, left_to_system=frozenset())
    assert {e[0] for e in collected[1:]} <= followed
    linked = trim.linked_libraries(collected)
    kept, dropped = trim.keep_linked(collected, linked)
    assert kept == [plugin]
    assert dropped == collected[1:]


def test_the_final_check_names_a_file_whose_library_is_missing(
    trim: ModuleType, tmp_path: Path
) -> None:
    folder = tmp_path / "respine"
    plugins = folder / "_internal" / "PySide6" / "Qt" / "plugins" / "platforms"
    plugins.mkdir(parents=True)
    shutil.copy(QT / "plugins/platforms/libqoffscreen.so", plugins)
    (folder / "_internal" / "README.txt").write_text("not an ELF file")
    problems = trim.unresolved(folder, _policy)
    names = {name for _file, name in problems}
    assert ("_internal/PySide6/Qt/plugins/platforms/libqoffscreen.so", "libQt6Gui.so.6") in problems
    assert not any(name.startswith(GLIBC) for name in names)

    # The library copied in (a symlink, as PyInstaller makes them, counts too): no longer named.
    lib = folder / "_internal" / "PySide6" / "Qt" / "lib"
    lib.mkdir()
    shutil.copy(QT / "lib/libQt6Gui.so.6", lib)
    (folder / "_internal" / "libQt6Core.so.6").symlink_to(QT / "lib/libQt6Core.so.6")
    names = {name for _file, name in trim.unresolved(folder, _policy)}
    assert "libQt6Gui.so.6" not in names
    assert "libQt6Core.so.6" not in names
    # ... but what libQt6Gui links and the folder lacks is named in its turn.
    assert any(file.endswith("libQt6Gui.so.6") for file, _ in trim.unresolved(folder, _policy))


def test_a_library_left_to_the_system_is_not_a_missing_one(
    trim: ModuleType, tmp_path: Path
) -> None:
    folder = tmp_path / "respine"
    folder.mkdir()
    shutil.copy(QT / "plugins/printsupport/libcupsprintersupport.so", folder)
    names = {name for _file, name in trim.unresolved(folder, _policy)}
    assert "libcups.so.2" not in names
    assert "libcups.so.2" in {
        n for _f, n in trim.unresolved(folder, _policy, left_to_system=frozenset())
    }
