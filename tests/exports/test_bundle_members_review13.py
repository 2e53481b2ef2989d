"""review13: the bundle's members inflated and hashed on two threads (`bundle._check_members`)
leave a process the merge can fork from (`meanwhile.can_fork`), every time.

`ThreadPoolExecutor`'s shutdown joins its threads as Python sees them: a thread's Python state
is gone when its join returns, while the system still lists the thread (in
``/proc/self/task``) for the moment it takes to end. A merge asking `can_fork` in that moment
ran its checks in line instead of beside the write (3 imports in 15 of a small bundle from the
command line, measured before the fix): the work of issue 12 lost at random.

Each check runs in a fresh Python process (one thread, as the command line), many times over;
also when a member is refused, when the ZIP is damaged (the error raised in a thread) and when
it is read from memory (a sealed bundle's ZIP, decrypted).
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from respine_desktop import storage
from tests.support.exports import ROOT, TODAY, do_visit, env, export, hub_and_kiosks
from tests.support.storage import coord

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc: Linux")

_SCRIPT = textwrap.dedent(
    """
    import io, json, sys, threading, zipfile
    from respine_desktop import meanwhile
    from respine_desktop.exports import bundle
    from respine_desktop.exports.errors import BundleError

    path, case, runs = sys.argv[1], sys.argv[2], int(sys.argv[3])
    single = []
    for _ in range(runs):
        # "in memory": a ZIP read from memory, as a sealed bundle's once decrypted
        source = io.BytesIO(open(path, "rb").read()) if case == "in memory" else path
        with zipfile.ZipFile(source) as zf:
            manifest = json.loads(zf.read(bundle.MANIFEST))
            if case == "refused":  # the last member's hash is not its own
                manifest["members"][-1]["sha256"] = "0" * 64
            try:
                bundle._check_members(zf, manifest, True)
                outcome = "read"
            except (BundleError, *bundle._READ_ERRORS) as exc:
                outcome = type(exc).__name__
        single.append((outcome, threading.active_count(), meanwhile.can_fork()))
    print(json.dumps(single))
    """
)


@pytest.fixture(scope="module")
def bundle_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("members")
    with hub_and_kiosks(root) as (_hub, a, _b, c):
        day0 = TODAY - timedelta(days=100)
        with storage.open_database(a) as db:
            for n in range(3):
                code = f"RSP-01-0{50 + n}"
                storage.register_subject(db, code, day0=day0, staff=coord(db))
                do_visit(db, c, code, "M0", day0, vas=60.0, odi=3, sf36=3)
        export(a, root / "k.bundle")
    return root / "k.bundle"


def _damaged(source: Path, out: Path) -> Path:
    """`source` with a byte of its answers member's compressed data changed (its directory
    intact: the member fails to inflate, or to match its CRC, in its thread)."""
    import zipfile

    with zipfile.ZipFile(source) as zf:
        info = zf.getinfo(next(n for n in zf.namelist() if "answers" in n))
    data = bytearray(source.read_bytes())
    local = info.header_offset  # its local header: name and extra lengths at 26 and 28
    start = local + 30 + int.from_bytes(data[local + 26 : local + 28], "little")
    start += int.from_bytes(data[local + 28 : local + 30], "little")
    for at in range(start + 8, start + info.compress_size - 8):
        data[at] ^= 0x5A
    out.write_bytes(bytes(data))
    return out


@pytest.mark.parametrize("case", ["valid", "refused", "damaged", "in memory"])
def test_the_member_threads_have_ended_when_the_check_returns(
    bundle_file: Path, tmp_path: Path, case: str
) -> None:
    path = _damaged(bundle_file, tmp_path / "d.bundle") if case == "damaged" else bundle_file
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(path), case, "60"],
        cwd=ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    runs = json.loads(done.stdout)
    expected = {"valid": "read", "refused": "BundleError", "damaged": None, "in memory": "read"}[
        case
    ]
    outcomes = {outcome for outcome, _, _ in runs}
    if expected is not None:
        assert outcomes == {expected}
    else:
        assert len(outcomes) == 1 and outcomes != {"read"}, outcomes
    # one thread left each time, and the system agrees: a merge would fork
    assert [(threads, forks) for _, threads, forks in runs] == [(1, True)] * len(runs)
