"""The current head of the database's audit chains, read-only: what a printed report cites.

Each device keeps its own hash chain (see `audit`); ``devices.audit_seq`` / ``audit_head`` hold
each chain's last seq and hash. A report prints one hash that pins the state of the whole audit
log at the time it was made:

* one chain (a single kiosk): that chain's head hash, the same value `verify` checks;
* several chains (a hub that merged kiosks): SHA-256 (hex) of the lines
  ``<device_id>:<seq>:<head>`` joined by ``\\n``, sorted by device id.

Any later audit entry on any device changes it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from respine_desktop.storage._database import StudyDb


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
    if len(rows) == 1:
        head = str(rows[0]["audit_head"])
    else:
        text = "\n".join(f"{device}:{seq}:{digest}" for device, seq, digest in chains)
        head = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return ChainHead(hash=head, entries=sum(seq for _, seq, _ in chains), chains=chains)
