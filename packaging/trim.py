"""What the frozen build leaves out, and the check that nothing it needs went with it.

Used by `packaging/respine.spec` (imported from the spec's folder). PyInstaller collects every Qt
plugin of the PySide6 wheel and, for each, the shared libraries it links, copied from the build
machine: the GTK platform theme brings cairo, pango, gio and 20 more; the CUPS print plugin
brings libcups and through it GnuTLS, Kerberos, p11-kit, libunistring; the VNC platform and
the TUIO touch plugin bring QtNetwork. The kiosk uses none of them, so:

- `drop_qt_plugins` removes the plugins the app never loads (`DROPPED_QT_PLUGINS`);
- `linked_libraries` and `keep_linked` then keep a collected library only if a kept extension
  module or plugin still links it, directly or through another kept library (ELF ``NEEDED``
  entries read with ``readelf``): each cut plugin takes its libraries with it, and nothing a
  kept file links is lost;
- `LEFT_TO_SYSTEM` names the libraries taken from the system at run time instead: libcups
  (the print plugin's printer list): a tablet that prints has CUPS installed, hence its own
  libcups matching its cupsd; one without CUPS has no `lp` either and the console already says
  printing is unavailable (`ui/console/printing.py`).
- `unresolved` is the build's final check on the folder: every ``NEEDED`` entry of every file
  is in the folder, left to the system on purpose, or a library PyInstaller never bundles (the
  C library, the GPU drivers' libGL/libEGL, ...). The spec stops the build if one is not.

Linux only (ELF); on Windows the spec skips all of this.
"""

from __future__ import annotations

import fnmatch
import re
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

# A TOC entry of PyInstaller: (destination name, source path, type code).
Entry = tuple[str, str, str]

# Qt plugins (paths under PySide6/Qt/plugins/) the kiosk never loads. Kept: the platforms xcb
# (X11), wayland (the cage kiosk of docs/deployment.md, with its xdg-shell and decorations),
# linuxfb (a tablet without a compositor) and offscreen (smoke test, validate); the evdev input
# plugins (touch, mouse, keyboard, tablet with linuxfb; under X11 or Wayland touch comes through
# the display server); the ibus and compose input contexts; the SVG image and icon engines (the
# style's icons; PNG is built into QtGui); the CUPS print plugin (the print dialog's printer list).
DROPPED_QT_PLUGINS = (
    "platforms/libqvnc.so",  # a VNC server: pulls QtNetwork
    "platforms/libqvkkhrdisplay.so",  # Vulkan on a bare display
    "platforms/libqeglfs.so",  # EGL full screen (OpenGL); linuxfb covers the no-compositor case
    "platforms/libqminimalegl.so",
    "platforms/libqminimal.so",
    "egldeviceintegrations/*",  # eglfs's back ends
    "generic/libqtuiotouchplugin.so",  # TUIO touch over UDP: pulls QtNetwork
    "platformthemes/*",  # GTK 3 (cairo, pango, gio, ...) and xdg portal dialogs
    "wayland-graphics-integration-client/*",  # OpenGL/Vulkan surfaces; widgets draw to shm
    "wayland-shell-integration/libwl-shell-plugin.so",  # wl_shell, deprecated
    "wayland-shell-integration/libivi-shell.so",  # in-vehicle shell
    "imageformats/libqgif.so",  # the app reads PNG (built in) and SVG only
    "imageformats/libqicns.so",
    "imageformats/libqico.so",
    "imageformats/libqjpeg.so",
    "imageformats/libqtga.so",
    "imageformats/libqtiff.so",
    "imageformats/libqwbmp.so",
    "imageformats/libqwebp.so",
)
PLUGINS = "PySide6/Qt/plugins/"

# Libraries deliberately taken from the target system (see the module's docstring).
LEFT_TO_SYSTEM = frozenset({"libcups.so.2"})

_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")
_ELF_MAGIC = b"\x7fELF"


def is_elf(path: Path) -> bool:
    """Whether `path` is an ELF file (a shared library, an extension module, an executable)."""
    try:
        with path.open("rb") as file:
            return file.read(4) == _ELF_MAGIC
    except OSError:
        return False


def needed(path: Path) -> list[str]:
    """The ``NEEDED`` entries (sonames) of the ELF file at `path`."""
    done = subprocess.run(
        ["readelf", "--dynamic", "--wide", str(path)],
        capture_output=True,
        text=True,
        check=True,
    )
    return _NEEDED.findall(done.stdout)


def _plugin(dest: str) -> str | None:
    posix = dest.replace("\\", "/")
    return posix[len(PLUGINS) :] if posix.startswith(PLUGINS) else None


def is_dropped_plugin(dest: str) -> bool:
    """Whether the TOC destination `dest` is one of `DROPPED_QT_PLUGINS`."""
    plugin = _plugin(dest)
    return plugin is not None and any(fnmatch.fnmatch(plugin, p) for p in DROPPED_QT_PLUGINS)


def drop_qt_plugins(entries: Iterable[Entry]) -> tuple[list[Entry], list[Entry]]:
    """(kept, dropped): `entries` without the plugins of `DROPPED_QT_PLUGINS`."""
    kept: list[Entry] = []
    dropped: list[Entry] = []
    for entry in entries:
        (dropped if is_dropped_plugin(entry[0]) else kept).append(entry)
    return kept, dropped


def _is_library(entry: Entry) -> bool:
    """A shared library collected because something links it (not an extension module, not a
    plugin, not libpython, which the bootloader loads by name)."""
    dest, _src, kind = entry
    name = PurePosixPath(dest.replace("\\", "/")).name
    return (
        kind in ("BINARY", "SYMLINK")
        and _plugin(dest) is None
        and ".so" in name
        and not name.startswith("libpython")
    )


def _name(dest: str) -> str:
    return PurePosixPath(dest.replace("\\", "/")).name


def linked_libraries(
    binaries: Iterable[Entry],
    read_needed: Callable[[Path], list[str]] = needed,
    left_to_system: frozenset[str] = LEFT_TO_SYSTEM,
) -> set[str]:
    """The names of the libraries among `binaries` that a kept root links, directly or through
    another such library. The roots are every entry that is not a linked library
    (`_is_library`): extension modules, Qt plugins, libpython. A name in `left_to_system` is
    neither counted nor followed."""
    binaries = list(binaries)
    by_name: dict[str, list[Entry]] = {}
    for entry in binaries:
        if _is_library(entry) and entry[2] != "SYMLINK":
            by_name.setdefault(_name(entry[0]), []).append(entry)
    reached: set[str] = set()
    todo = [e for e in binaries if not _is_library(e) and is_elf(Path(e[1]))]
    while todo:
        for name in read_needed(Path(todo.pop()[1])):
            if name in reached or name in left_to_system or name not in by_name:
                continue
            reached.add(name)
            todo += [e for e in by_name[name] if is_elf(Path(e[1]))]
    return reached


def keep_linked(entries: Iterable[Entry], linked: set[str]) -> tuple[list[Entry], list[Entry]]:
    """(kept, dropped): `entries` (binaries, or datas, which hold the symlinks PyInstaller makes
    to libraries) without the libraries whose name is not in `linked`."""
    kept: list[Entry] = []
    dropped: list[Entry] = []
    for entry in entries:
        (dropped if _is_library(entry) and _name(entry[0]) not in linked else kept).append(entry)
    return kept, dropped


def unresolved(
    folder: Path,
    bundled_by_policy: Callable[[str], bool],
    read_needed: Callable[[Path], list[str]] = needed,
    left_to_system: frozenset[str] = LEFT_TO_SYSTEM,
) -> list[tuple[str, str]]:
    """(file, name) for every ``NEEDED`` entry of an ELF file under `folder` that is neither a
    file name in `folder`, nor in `left_to_system`, nor the dynamic loader, nor a library
    PyInstaller leaves to the system (`bundled_by_policy(name)` False: that is
    PyInstaller.depend.dylib.include_library)."""
    paths = sorted(folder.rglob("*"))
    present = {p.name for p in paths if p.is_file() or p.is_symlink()}
    problems = []
    for path in paths:
        if path.is_symlink() or not path.is_file() or not is_elf(path):
            continue
        for name in read_needed(path):
            if (
                name in present
                or name in left_to_system
                or name.startswith("ld-linux")
                or not bundled_by_policy(name)
            ):
                continue
            problems.append((path.relative_to(folder).as_posix(), name))
    return problems
