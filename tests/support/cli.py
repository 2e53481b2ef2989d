"""Running `python main.py ...` signed in: the one place the tests add ``--user``/``--pin-stdin``.

`signed_in(argv)` appends ``--user admin --pin-stdin`` to a command the role matrix
(`respine_desktop.cli._roles`) says needs sign-in and returns the PIN line to send on standard
input; `main_py(*argv)` runs it as a child process. The test databases' administrator has the
demo administrator's PIN (`ADMIN`, `ADMIN_PIN`), so demo and test databases sign in alike.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from respine_desktop import demo
from respine_desktop.cli._roles import MATRIX, rule_for

ROOT = Path(__file__).resolve().parents[2]
ADMIN, ADMIN_PIN = demo.DEMO_ADMIN, demo.DEMO_ADMIN_PIN


def command_key(argv: list[str]) -> str:
    """The role-matrix key of `argv`: ``"export csv"``, ``"status"``."""
    words = [a for a in argv if not a.startswith("-")][:2]
    if len(words) == 2 and f"{words[0]} {words[1]}" in MATRIX:
        return f"{words[0]} {words[1]}"
    return words[0] if words else ""


def needs_sign_in(argv: list[str]) -> bool:
    return (
        bool(argv) and not argv[0].startswith("-") and rule_for(command_key(argv)).roles is not None
    )


def signed_in(
    argv: list[str | Path], user: str = ADMIN, pin: str = ADMIN_PIN
) -> tuple[list[str], str | None]:
    """`argv` with the sign-in options its command needs, and the text for standard input."""
    words = [str(a) for a in argv]
    if not needs_sign_in(words):
        return words, None
    return [*words, "--user", user, "--pin-stdin"], f"{pin}\n"


def env() -> dict[str, str]:
    """Environment for child processes running this checkout's code."""
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    return e


def main_py(
    *argv: str | Path,
    user: str = ADMIN,
    pin: str = ADMIN_PIN,
    cwd: Path = ROOT,
    environment: dict[str, str] | None = None,
    timeout: float | None = None,
    sign_in: bool = True,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """`python main.py ARGV` signed in as `user` where its command needs it (as it is with
    `sign_in` False, `stdin` sent as given)."""
    words, pin_line = (
        signed_in(list(argv), user, pin) if sign_in else ([str(a) for a in argv], None)
    )
    stdin = stdin if stdin is not None else pin_line
    return subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *words],
        cwd=cwd,
        env=environment if environment is not None else env(),
        input=stdin if stdin is not None else "",
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
