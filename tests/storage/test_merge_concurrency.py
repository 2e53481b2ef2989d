"""A kiosk process writing to the hub while a bundle is imported into it: neither fails.

The import holds the write lock for one transaction (all or nothing); a writer arriving
meanwhile waits (busy timeout) and then writes. The writer is a real child process writing
through the storage API, one transaction per event, as the kiosk does."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from respine_desktop import exports, storage
from tests.support.exports import controlled_clock, demo_db, env, export, install, merge
from tests.support.storage import ADMIN_PIN

WRITER = """
import json, sys
from pathlib import Path
from respine_desktop import storage
hub, stop = Path(sys.argv[1]), Path(sys.argv[2])
written, errors = 0, []
with storage.open_database(hub) as db:
    while not stop.exists():
        try:
            storage.log_event(db, "kiosk.heartbeat", entity="kiosk", payload={"n": written})
            written += 1
        except storage.StorageError as exc:
            errors.append(str(exc))
        if written == 1:
            print("ready", flush=True)  # the parent waits on this line
print(json.dumps({"written": written, "errors": errors}))
"""


def test_a_kiosk_writing_during_an_import_never_sees_a_locked_database(tmp_path: Path) -> None:
    demo_db(tmp_path / "kiosk.db", subjects=12)
    with controlled_clock():
        with storage.create_database(tmp_path / "hub.db", admin_pin=ADMIN_PIN) as hub:
            exports.write_key_file(hub, tmp_path / "site.key")
        install(tmp_path / "kiosk.db", tmp_path / "site.key")
        export(tmp_path / "kiosk.db", tmp_path / "kiosk.bundle")
    stop = tmp_path / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(tmp_path / "hub.db"), str(stop)],
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None
        # Blocks until the writer has committed its first event (or ends: then "" and its error).
        first = writer.stdout.readline()
        assert first == "ready\n", writer.stderr.read() if writer.stderr else first
        with storage.open_database(tmp_path / "hub.db") as db:
            before = int(
                db.conn.execute(
                    "SELECT count(*) FROM audit_log WHERE action='kiosk.heartbeat'"
                ).fetchone()[0]
            )
        summary = merge(tmp_path / "hub.db", tmp_path / "kiosk.bundle")
        with storage.open_database(tmp_path / "hub.db") as db:
            during = int(
                db.conn.execute(
                    "SELECT count(*) FROM audit_log WHERE action='kiosk.heartbeat'"
                ).fetchone()[0]
            )
    finally:
        stop.write_text("stop")
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    report = json.loads(out)
    assert report["errors"] == []
    assert during > before  # the kiosk went on writing around the import
    assert summary.result.inserted["subjects"] == 12
    assert storage.verify_database(tmp_path / "hub.db").ok
