"""The built wheel stands on its own: installed (not editable) in a fresh virtual environment, the
`respine` command runs the app and the headless commands from a folder outside the checkout, and
reads the resources shipped inside the wheel."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

from tests.support.cli import signed_in
from tests.support.storage import ROOT


def run(cmd: list[str | Path], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    argv, pin = signed_in(cmd[1:])  # the command's words, signed in where it needs it
    return subprocess.run(
        [str(cmd[0]), *argv],
        cwd=cwd,
        env=env,
        input=pin,
        capture_output=True,
        text=True,
        check=False,
    )


def pip(*args: str | Path) -> subprocess.CompletedProcess[str]:
    """This environment's pip (the fresh venv has none of its own; `--python` points at it)."""
    return subprocess.run(
        [sys.executable, "-m", "pip", "-q", *map(str, args)],
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    built = pip("wheel", "--no-deps", "--no-build-isolation", "-w", out, ROOT)
    assert built.returncode == 0, built.stderr
    (found,) = out.glob("respine_desktop-*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A fresh venv holding the wheel. Its dependencies (Qt, matplotlib, ...) are borrowed from
    this test environment by a plain path entry, which adds no `.pth` file of it: the editable
    install of the checkout stays invisible, so only the wheel's own files can run."""
    home = tmp_path_factory.mktemp("venv")
    venv.create(home, with_pip=False)
    bin_dir = home / ("Scripts" if os.name == "nt" else "bin")
    site = Path(sysconfig.get_path("purelib", vars={"base": str(home), "platbase": str(home)}))
    (site / "borrowed_dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    done = pip("--python", bin_dir / "python", "install", "--no-deps", wheel)
    assert done.returncode == 0, done.stderr
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["QT_QPA_PLATFORM"] = "offscreen"
    env["PATH"] = str(bin_dir) + os.pathsep + env.get("PATH", "")
    return bin_dir, env


def test_the_wheel_carries_the_resources_and_no_tests(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "respine_desktop/resources/instruments/sf36.json",
        "respine_desktop/resources/study/respine.toml",
        "respine_desktop/resources/i18n/fr.json",
        "respine_desktop/resources/style/kiosk.qss",
        "ui/launcher.py",
    ):
        assert needed in names
    assert not [n for n in names if n.startswith(("tests/", "bench/", "tools/"))]
    entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "respine = ui.launcher:main" in zipfile.ZipFile(wheel).read(entry_points).decode()


def test_the_installed_command_runs_from_outside_the_checkout(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    bin_dir, env = installed
    respine = bin_dir / "respine"
    where = run(
        [bin_dir / "python", "-c", "import respine_desktop; print(respine_desktop.__file__)"],
        tmp_path,
        env,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).is_relative_to(bin_dir.parent)  # the wheel's copy, not ours

    version = run([respine, "--version"], tmp_path, env)
    assert version.returncode == 0 and version.stdout.startswith("RESPINE Desktop ")

    (tmp_path / "in.csv").write_text("id,vas_pain\nA,72.5\nB,\n", encoding="utf-8")
    scored = run(
        [respine, "score", "--instrument", "vas", "in.csv", "--out", "out.csv"], tmp_path, env
    )
    assert scored.returncode == 0, scored.stderr
    assert (
        (tmp_path / "out.csv").read_text(encoding="utf-8").splitlines()[1].startswith("A,72.5,72.5")
    )

    db = tmp_path / "study.db"
    demo = run([respine, "demo", "--db", db, "--subjects", "3"], tmp_path, env)
    assert demo.returncode == 0, demo.stderr
    report = run([respine, "report", "study", "--db", db, "--out", "study.pdf"], tmp_path, env)
    assert report.returncode == 0, report.stderr
    assert (tmp_path / "study.pdf").read_bytes().startswith(b"%PDF-")

    app = run([respine, "--db", db, "--quit-when-ready"], tmp_path, env)
    assert app.returncode == 0, app.stderr
