"""The user's data and configuration folders found without platformdirs (start-up speed) are
the folders platformdirs names, under every variant of the variables it reads."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Literal

import platformdirs
import pytest

from respine_desktop.paths import user_config_dir, user_data_dir

ROOT = Path(__file__).resolve().parents[2]
APP = "respine-desktop"
VARIABLES = ("HOME", "XDG_DATA_HOME", "XDG_CONFIG_HOME", "ANDROID_DATA", "ANDROID_ROOT")
UNSET = None

CASES = [
    {"HOME": "/home/kiosk"},
    {"HOME": "/home/kiosk/"},
    {"HOME": "/"},
    {"HOME": "/home/kiosk", "XDG_DATA_HOME": "/srv/data", "XDG_CONFIG_HOME": "/srv/conf/"},
    {"HOME": "/home/kiosk", "XDG_DATA_HOME": "", "XDG_CONFIG_HOME": ""},
    {"HOME": "/home/kiosk", "XDG_DATA_HOME": "relative/data", "XDG_CONFIG_HOME": "~/conf"},
    {"HOME": "relative/home"},  # platformdirs answers (the user's entry in the password file)
    {"HOME": UNSET},
    {"HOME": UNSET, "XDG_DATA_HOME": "/srv/data", "XDG_CONFIG_HOME": "/srv/conf"},
    {"HOME": "/home/kiosk", "ANDROID_DATA": "/data", "ANDROID_ROOT": "/system"},
    {"HOME": "/home/kiosk", "ANDROID_DATA": "/data"},
]


@pytest.mark.parametrize("case", CASES, ids=[str(sorted(c.items())) for c in CASES])
@pytest.mark.parametrize("appauthor", [False, None])
def test_the_folders_are_platformdirs_folders(
    case: dict[str, str | None], appauthor: Literal[False] | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in VARIABLES:
        value = case.get(name)
        if value is None:
            monkeypatch.delenv(name, raising=False)
        else:
            monkeypatch.setenv(name, value)
    try:
        expected_data = platformdirs.user_data_dir(APP, appauthor)
        expected_config = platformdirs.user_config_dir(APP, appauthor)
    except RuntimeError as exc:  # no home found at all: ours says the same
        with pytest.raises(RuntimeError, match=re.escape(str(exc))):
            user_data_dir(APP, appauthor)
        return
    assert user_data_dir(APP, appauthor) == expected_data
    assert user_config_dir(APP, appauthor) == expected_config


@pytest.mark.skipif(sys.platform != "linux", reason="platformdirs answers elsewhere")
def test_the_kiosk_without_paths_uses_the_user_folders_and_not_platformdirs(
    tmp_path: Path,
) -> None:
    # No --db and no --settings: the first-run set-up on the default database path, in the
    # data folder platformdirs names (created), with the settings read from its config folder.
    env = {k: v for k, v in os.environ.items() if k not in VARIABLES}
    env.update(HOME=str(tmp_path), QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    probe = (
        "import sys, runpy; sys.argv = ['main.py', '--quit-when-ready'];\n"
        "try:\n    runpy.run_path(sys.argv[0], run_name='__main__')\n"
        "except SystemExit as exc:\n"
        "    print('platformdirs' in sys.modules, exc.code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "0"]
    data = tmp_path / ".local" / "share" / APP
    assert data.is_dir() and not (data / "respine.db").exists()
