"""IQ: what is installed — the build's identity, every shipped file, the runtime and the screen."""

from __future__ import annotations

import platform
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

from respine_desktop import __version__, json_text, storage
from respine_desktop.paths import RESOURCE_MANIFEST, resources_dir
from respine_desktop.qualification import manifest
from respine_desktop.qualification.check import Check


def build_identity() -> dict[str, str]:
    """Version, commit and build time: from ``BUILD_INFO.json`` in a frozen build, else the
    checkout's git commit (when git answers)."""
    if manifest.build_root() is not None:
        info = json_text.loads((manifest.build_files() / manifest.BUILD_INFO).read_text("utf-8"))
        return {str(k): str(v) for k, v in info.items()}
    commit = "unknown"
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).resolve().parent,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if done.returncode == 0:
            commit = done.stdout.strip()
    except OSError:
        pass
    return {"version": __version__, "commit": commit, "kind": "checkout or installed wheel"}


def identity(workdir: Path) -> Iterator[Check]:
    info = build_identity()
    yield Check(
        "IQ-01",
        "Build identity",
        f"version {__version__}, a known commit",
        ", ".join(f"{k} {v}" for k, v in info.items()),
        info.get("version") == __version__ and info.get("commit", "unknown") != "unknown",
    )


def shipped_files(workdir: Path) -> Iterator[Check]:
    resources = resources_dir()
    problems = manifest.compare(resources, resources / RESOURCE_MANIFEST)
    count = len(manifest.listed_files(resources))
    yield Check(
        "IQ-02",
        "Shipped resources match their manifest (SHA-256)",
        f"{count} files as listed in resources/{RESOURCE_MANIFEST}",
        "; ".join(problems) if problems else f"{count} files match",
        not problems,
    )
    root = manifest.build_root()
    if root is None:
        return
    problems = manifest.compare(root, manifest.build_files() / manifest.BUILD_MANIFEST)
    count = len(manifest.listed_files(root))
    yield Check(
        "IQ-03",
        "Every file of the frozen build matches the build manifest (SHA-256)",
        f"the files listed in {manifest.BUILD_MANIFEST} at build time",
        "; ".join(problems[:10]) if problems else f"{count} files match",
        not problems,
    )


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def screen_info() -> dict[str, object]:
    """The primary screen as Qt sees it, asked of a child process of this program (the domain
    imports no Qt): ``ui.screen_info`` prints it as JSON."""
    if getattr(sys, "frozen", False):
        command = [sys.executable, "--screen-info"]
    else:
        command = [sys.executable, "-m", "ui.launcher", "--screen-info"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    if done.returncode != 0:
        tail = done.stderr.strip().splitlines()[-1:] or ["no output"]
        raise RuntimeError(f"screen probe exited {done.returncode}: {tail[0]}")
    found: dict[str, object] = json_text.loads(done.stdout)
    return found


def runtime(workdir: Path) -> Iterator[Check]:
    versions = {
        "Python": platform.python_version(),
        "PySide6 (Qt)": _version("PySide6-Essentials"),
        "SQLite": storage.sqlite_library_version(),
        "reportlab": _version("reportlab"),
        "matplotlib": _version("matplotlib"),
        "OS": f"{platform.system()} {platform.release()} {platform.machine()}",
    }
    yield Check(
        "IQ-04",
        "Runtime components present",
        "Python ≥ 3.11, PySide6, SQLite ≥ 3.35, reportlab, matplotlib",
        ", ".join(f"{k} {v}" for k, v in versions.items()),
        sys.version_info >= (3, 11)
        and "not installed" not in versions.values()
        and tuple(int(p) for p in versions["SQLite"].split(".")[:2]) >= (3, 35),
    )
    screen = screen_info()
    width, height = screen.get("width", 0), screen.get("height", 0)
    yield Check(
        "IQ-05",
        "Screen size and density; the 100 mm VAS line at this density",
        "a screen of at least 800 × 600 logical pixels",
        ", ".join(f"{k} {v}" for k, v in screen.items()),
        isinstance(width, int)
        and isinstance(height, int)
        and min(width, height) >= 600
        and max(width, height) >= 800,
    )
