"""The kiosk app on an encrypted database: it opens unattended with the key in the OS store,
and says in one line that it cannot without it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from respine_desktop import storage
from tests.support.encryption import encrypted_db, forget_unlocked, key_env
from tests.support.storage import ROOT

__all__ = ["key_env"]  # the fixture, imported


def kiosk(db: Path, settings: Path) -> subprocess.CompletedProcess[str]:
    """The one place this file starts the kiosk app."""
    return subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            *("--db", str(db), "--quit-when-ready", "--settings", str(settings)),
        ],
        cwd=ROOT,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_kiosk_opens_an_encrypted_database_with_the_stored_key_only(
    tmp_path: Path, key_env: Path
) -> None:
    path = tmp_path / "site.db"
    encrypted_db(path).close()
    forget_unlocked()  # the kiosk is another process: only the OS store may give it the key
    refused = kiosk(path, tmp_path / "s.json")
    assert refused.returncode == 2
    errors = [line for line in refused.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and "encrypted and its key is not unlocked" in errors[0]
    assert "remember-key" in errors[0] and "Traceback" not in refused.stderr
    storage.unlock(path, "tablet passphrase for tests")
    storage.remember_key(path)
    forget_unlocked()
    opened = kiosk(path, tmp_path / "s.json")
    assert opened.returncode == 0, opened.stderr
