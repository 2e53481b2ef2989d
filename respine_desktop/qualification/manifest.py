"""SHA-256 manifests of the shipped files, and their check.

Two manifests, each listing ``<sha256>  <path>`` per line (paths with ``/``, sorted):

* ``resources/MANIFEST.sha256``, in the package (checkout, wheel and frozen build alike): every
  resource file (instruments, texts, style, study, fonts, schemas, qualification data). Rewritten
  by ``python -m respine_desktop.qualification.manifest`` after a resource changes; a test fails
  while it is out of date.
* ``BUILD_MANIFEST.sha256`` beside the frozen build's libraries (``sys._MEIPASS``): every file
  of the built folder (the executable's folder, paths relative to it), written by
  `packaging/respine.spec` at build time, with the build's identity in ``BUILD_INFO.json`` next
  to it.

A file changed, missing or added after the manifest was written is named by `compare`.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

from respine_desktop.paths import RESOURCE_MANIFEST, parse_manifest, resources_dir

BUILD_MANIFEST = "BUILD_MANIFEST.sha256"
BUILD_INFO = "BUILD_INFO.json"
_SKIPPED = {RESOURCE_MANIFEST, BUILD_MANIFEST, BUILD_INFO, "__pycache__"}


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def listed_files(root: Path) -> list[str]:
    """Every regular file under `root` a manifest covers, relative, sorted."""
    found = []
    for path in root.rglob("*"):
        relative = path.relative_to(root)
        if _SKIPPED.intersection(relative.parts) or path.suffix == ".pyc":
            continue
        if path.is_file() and not path.is_symlink():
            found.append(relative.as_posix())
    return sorted(found)


def manifest_text(root: Path) -> str:
    return "".join(f"{sha256_file(root / name)}  {name}\n" for name in listed_files(root))


def compare(root: Path, manifest: Path) -> list[str]:
    """One line per file of `root` that differs from `manifest` (changed, missing, unlisted)."""
    expected = parse_manifest(manifest.read_text(encoding="utf-8"))
    actual = set(listed_files(root))
    problems = [f"{name}: missing" for name in sorted(set(expected) - actual)]
    problems += [f"{name}: not in the manifest" for name in sorted(actual - set(expected))]
    problems += [
        f"{name}: changed (SHA-256 {sha256_file(root / name)[:12]}…, expected {digest[:12]}…)"
        for name, digest in sorted(expected.items())
        if name in actual and sha256_file(root / name) != digest
    ]
    return problems


def build_root() -> Path | None:
    """The frozen build's folder (the executable's), or None in a checkout or a wheel."""
    return Path(sys.executable).resolve().parent if getattr(sys, "frozen", False) else None


def build_files() -> Path:
    """The folder of the frozen build's `BUILD_MANIFEST` and `BUILD_INFO` (its libraries)."""
    return Path(getattr(sys, "_MEIPASS", "."))


def write_build_manifest(folder: Path, libraries: Path, info: dict[str, str]) -> int:
    """At build time: the manifest of every file of `folder` and the build's identity, both
    written into `libraries` (the folder PyInstaller puts beside the executable)."""
    import json

    (libraries / BUILD_MANIFEST).write_text(manifest_text(folder), encoding="utf-8", newline="\n")
    (libraries / BUILD_INFO).write_text(json.dumps(info, indent=1), encoding="utf-8")
    return len(listed_files(folder))


def main() -> None:
    """Rewrite the resource manifest (developers, after changing a resource)."""
    root = resources_dir()
    (root / RESOURCE_MANIFEST).write_text(manifest_text(root), encoding="utf-8", newline="\n")
    print(f"{root / RESOURCE_MANIFEST}: {len(listed_files(root))} files")


if __name__ == "__main__":
    main()
