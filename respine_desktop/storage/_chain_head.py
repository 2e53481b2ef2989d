"""The current head of the database's audit chains, read-only: what a printed report cites.

Each device keeps its own hash chain (see `audit`); ``devices.audit_seq`` / ``audit_head`` hold
each chain's last seq and hash. A report prints one hash that pins the state of the whole audit
log at the time it was made:

* one chain (a single kiosk): that chain's head hash, the same value `verify` checks;
* several chains (a hub that merged kiosks): SHA-256 (hex) of the lines
  ``<device_id>:<seq>:<head>`` joined by ``\\n``, sorted by device id.

Any later audit entry on any device changes it.

Anchors: `receipt` (what ``status --receipt`` writes and a hub records at each import) lists
each chain's ``device:seq:hash``; `verify --expect` (`parse_expected`, `expected_problem`) then
proves the file still contains those heads, so an older copy of the file put back in its place
(a rollback) or a chain rewritten consistently inside the file is caught.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from respine_desktop import json_text
from respine_desktop.storage._database import StudyDb
from respine_desktop.storage._errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ChainHead:
    """The audit chains' heads: `hash` to print, `entries` in all chains, the chains themselves."""

    hash: str
    entries: int
    chains: tuple[tuple[str, int, str], ...]

    @property
    def short(self) -> str:
        """The first 16 hex digits (for screens; reports print `hash` in full)."""
        return self.hash[:16]


def audit_chain_head(db: StudyDb) -> ChainHead:
    """The current head of the audit chain(s) of `db` (reads only the ``devices`` table)."""
    rows = db.conn.execute("SELECT id, audit_seq, audit_head FROM devices ORDER BY id").fetchall()
    chains = tuple((str(r["id"]), int(r["audit_seq"]), str(r["audit_head"])) for r in rows)
    return ChainHead(hash=combined(chains), entries=sum(seq for _, seq, _ in chains), chains=chains)


# Anchors outside the file: heads printed or recorded earlier, checked by `verify --expect`.

_HEX64 = re.compile(r"^[0-9a-f]{64}\Z")
_LINE = re.compile(r"^(?P<device>[^:\s]+):(?P<seq>[0-9]+):(?P<hash>[0-9a-f]{64})\Z")
RECEIPT_FORMAT = "respine-chain-heads/1"


@dataclass(frozen=True, slots=True)
class ExpectedHead:
    """A head the database must still contain: one chain's (device, seq, hash), or a bare hash
    (a chain's head hash, or the combined hash of several chains as reports print it)."""

    hash: str
    device: str | None = None
    seq: int | None = None

    def __str__(self) -> str:
        if self.device is None:
            return self.hash[:16]
        return f"{self.device}:{self.seq}:{self.hash[:16]}"


def receipt(db: StudyDb, made_at: str) -> dict[str, object]:
    """A receipt of every chain's head (JSON-ready): what `verify --expect FILE` reads back."""
    head = audit_chain_head(db)
    return {
        "format": RECEIPT_FORMAT,
        "study_id": db.study_id,
        "site_code": db.site_code,
        "device_id": db.device_id,
        "made_at": made_at,
        "combined": head.hash,
        "chains": [{"device": d, "seq": s, "hash": h} for d, s, h in head.chains],
    }


def parse_expected(spec: str) -> list[ExpectedHead]:
    """`spec` as given to ``--expect``: a hash, ``DEVICE:SEQ:HASH``, or the path of a file
    holding a receipt (JSON) or such lines. InvalidInput if none of these."""
    text = spec.strip()
    if _HEX64.match(text.lower()):
        return [ExpectedHead(text.lower())]
    line = _LINE.match(text)
    if line:
        return [ExpectedHead(line["hash"], line["device"], int(line["seq"]))]
    path = Path(spec)
    if not path.is_file():
        raise InvalidInput(
            f"--expect {spec!r}: not a 64-digit hash, DEVICE:SEQ:HASH or a receipt file"
        )
    try:
        content = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{path}: cannot read the receipt ({exc})") from None
    try:
        data = json_text.loads(content)
    except json.JSONDecodeError:
        data = None
    if isinstance(data, dict):
        chains = data.get("chains")
        if data.get("format") != RECEIPT_FORMAT or not isinstance(chains, list):
            raise InvalidInput(f"{path}: not a receipt of chain heads ({RECEIPT_FORMAT})")
        out = []
        for n, chain in enumerate(chains, start=1):
            try:
                item = f"{chain['device']}:{int(chain['seq'])}:{chain['hash']}"
            except (TypeError, KeyError, ValueError):
                raise InvalidInput(f"{path}: chain {n} lacks device, seq or hash") from None
            out += _lines(path, [item])
        return out
    return _lines(path, [ln for ln in content.splitlines() if ln.strip() and ln[0] != "#"])


def _lines(path: Path, lines: list[str]) -> list[ExpectedHead]:
    out = []
    for n, raw in enumerate(lines, start=1):
        text = raw.strip()
        if _HEX64.match(text):
            out.append(ExpectedHead(text))
            continue
        line = _LINE.match(text)
        if line is None:
            raise InvalidInput(f"{path}: line {n} is not DEVICE:SEQ:HASH or a 64-digit hash")
        out.append(ExpectedHead(line["hash"], line["device"], int(line["seq"])))
    if not out:
        raise InvalidInput(f"{path}: no chain head in it")
    return out


def expected_problem(conn: sqlite3.Connection, expected: ExpectedHead) -> str | None:
    """Why the database does not extend `expected` (None: it does).

    A chain's head is still there when its device's entry #seq has that hash (the chain check
    then proves everything after it links to it). A bare hash must be an entry's hash in some
    chain, or the current combined hash of all chains.
    """
    if expected.device is not None:
        row = conn.execute(
            "SELECT hash FROM audit_log WHERE device_id=? AND seq=?",
            [expected.device, expected.seq],
        ).fetchone()
        if row is None:
            return (
                f"expected head {expected}: device {expected.device} has no entry "
                f"#{expected.seq} (an older copy of the file?)"
            )
        if str(row["hash"]) != expected.hash:
            return (
                f"expected head {expected}: entry #{expected.seq} of device {expected.device} "
                "has another hash (the chain was rewritten)"
            )
        return None
    if conn.execute("SELECT 1 FROM audit_log WHERE hash=? LIMIT 1", [expected.hash]).fetchone():
        return None
    rows = conn.execute("SELECT id, audit_seq, audit_head FROM devices ORDER BY id").fetchall()
    chains = tuple((str(r["id"]), int(r["audit_seq"]), str(r["audit_head"])) for r in rows)
    if combined(chains) == expected.hash:
        return None
    return (
        f"expected head {expected}: no chain holds it (an older copy, or a rewritten chain; "
        "a combined hash only matches the state it was printed for: give DEVICE:SEQ:HASH)"
    )


def combined(chains: tuple[tuple[str, int, str], ...]) -> str:
    """The hash a report prints for these chains (see the module docstring)."""
    if len(chains) == 1:
        return chains[0][2]
    text = "\n".join(f"{device}:{seq}:{digest}" for device, seq, digest in chains)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
