"""Site bundles: everything a hub needs from a kiosk, in one signed file, and its import.

Format 3 (a kiosk that has its hub's key, `import hub-key`): the ZIP below, with manifest
``format_version`` 3 and ``key_id`` the device key's fingerprint, is encrypted to the hub and
signed by the device (`exports.bundle_envelope`; docs/security-bundles.md); the hub imports it
only from an enrolled device, and only when the manifest's device is the signer. Formats 1 and
2 (below: signed with the shared site key, not encrypted) are written by a device without a hub
key and still imported during the transition, flagged as such in the import summary and the
``bundle.imported`` audit entry, until the hub refuses them (`storage.set_hmac_bundles`).

File format: one ZIP file (deflate) holding

* ``data/<table>.jsonl``: rows as JSON arrays, columns in the order the manifest lists, up to
  1,000 rows per line (each line a JSON array of rows: one parse per batch, not per row), for
  sites, devices, staff (no PIN hashes), subjects, visits, sessions, session_choices, answers,
  scores and audit_log (see `storage.bundle_merge` for what `since` cuts);
* ``manifest.json``: format and version, bundle id, study id and OID, site, device, creation
  time, `since`, application and scoring versions, the signing key's id, and for each member its
  table, columns, row count, byte count and SHA-256;

and, as the ZIP archive comment (the very last bytes of the file), a fixed-length signature
line ``RESPINE-BUNDLE-SIGNATURE v1 HMAC-SHA256 key=<key id> mac=<64 hex>``: the HMAC-SHA256,
under the site key, of every byte of the file before the signature. Any changed, added or
removed byte anywhere in the file (data, manifest, ZIP headers) breaks it; a truncated file has
lost it.

Signature choice: HMAC-SHA256 with a per-site secret (`storage.site_key`), from the standard
library. No Ed25519 implementation is installed (``cryptography`` / ``PyNaCl`` are not
dependencies), and the threat is a bundle altered, damaged or swapped on its way from a kiosk to
the hub (USB stick, shared folder), not a kiosk of the site forging another's data: the devices of
a site are provisioned by the same staff, so a shared secret gives the integrity and origin check
needed, with no new dependency and no key pair per device to manage. (A signature that a hub can
check but not produce would need Ed25519 and a public key registered per kiosk.)

Format versions: 2 added ``session_choices`` (a reviewer's choice of the session that counts for
a conflicted visit). A bundle of format 1 (an older version's) has every other member and is
still imported, as carrying no choices; an older version refuses a bundle of format 2, naming
its version.

Import checks, before writing anything: the signature line is there (else: truncated or not a
bundle); the manifest's format version; the study (a bundle of another study is refused, naming
both); the key id; the HMAC over the whole file; exactly the expected members, each matching its
SHA-256, size and row count. Before anything is inflated, from the ZIP central directory: no
member name twice, no member above `MAX_MEMBER_BYTES` nor compressed more than `MAX_RATIO` times,
no more than `MAX_TOTAL_BYTES` in all; while inflating, no member past its declared size and no
line above `MAX_LINE_BYTES` (a signed bundle is trusted for its content, not for the memory and
time it may cost). Then the rows are merged in one transaction
(`storage.bundle_merge.merge_bundle`), which refuses broken or discontinuous audit chains. Any
refusal raises `BundleError` with the reason; the hub is unchanged.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import io
import itertools
import json
import re
import uuid
import zipfile
import zlib
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from threading import get_native_id
from typing import IO, Any, cast

from respine_desktop import __version__, clock, files, json_text, meanwhile, scoring
from respine_desktop.exports.errors import BundleError, ExportError
from respine_desktop.exports.files import atomic_binary, output_file
from respine_desktop.exports.new_keys import kept_with
from respine_desktop.exports.progress import Progress, Ticker
from respine_desktop.storage import (
    StorageError,
    StudyDb,
    device_private_keys,
    ensure_device_keys,
    ensure_site_key,
    get_site_key,
    has_audit_entry,
    hmac_bundles_accepted,
    hub_key,
    installed_site_key_id,
    keys_read_only,
    own_device_key,
    rewrap_secrets,
    site_key_id,
)
from respine_desktop.storage.bundle_merge import (
    BUNDLE_COLUMNS,
    RAW_LINE_TABLES,
    TABLES,
    MergeResult,
    bundle_rows,
    count_rows,
    merge_bundle,
)

FORMAT = "respine-site-bundle"
FORMAT_VERSION = 2
SEALED_FORMAT_VERSION = 3  # encrypted to the hub, signed by the device (bundle_envelope)
# Members a bundle of format 2 or 3 may carry or not, after the required ones (a bundle
# written before withdrawals existed has none): exports-v3, `storage._merge_withdrawals`.
OPTIONAL_TABLES: tuple[str, ...] = ("withdrawals",)
_REQUIRED = tuple(t for t in TABLES if t not in OPTIONAL_TABLES)
# The tables each format version requires (format 2 added session_choices).
FORMAT_TABLES: Mapping[int, tuple[str, ...]] = {
    1: tuple(t for t in _REQUIRED if t != "session_choices"),
    2: _REQUIRED,
    3: _REQUIRED,
}
HMAC_FORMATS = (1, 2)
MANIFEST = "manifest.json"
ALGORITHM = "HMAC-SHA256"
_SIGNATURE_PREFIX = b"RESPINE-BUNDLE-SIGNATURE v1 HMAC-SHA256 key="
_SIGNATURE = re.compile(
    rb"RESPINE-BUNDLE-SIGNATURE v1 HMAC-SHA256 key=([0-9a-f]{16}) mac=([0-9a-f]{64})"
)
_SIGNATURE_LENGTH = len(_SIGNATURE_PREFIX) + 16 + len(b" mac=") + 64
_MAX_MANIFEST = 1 << 20  # a few kB in practice
# Caps an import checks before inflating anything (from the ZIP central directory), and again
# while inflating (in case a header lies): a signed bundle is trusted for its content, not for
# the memory and time it may cost. A 10,000-subject hub's answers member is about 0.3 GB; rows
# written as JSON compress 3 to 20 times, a deflate bomb up to about 1,000 times.
MAX_MEMBER_BYTES = 1 << 30
MAX_TOTAL_BYTES = 2 << 30
MAX_RATIO = 200  # checked for members above 1 MiB
MAX_LINE_BYTES = 32 << 20  # a line holds up to 1,000 rows
_CHUNK = 1 << 16
_KEPT_CHUNK = 1 << 20  # read into memory for the import: larger steps
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_ROWS_PER_LINE = 1000
_COUNTED = ("subjects", "sessions", "answers", "audit_log")


def member_name(table: str) -> str:
    return f"data/{table}.jsonl"


@dataclass(frozen=True)
class BundleInfo:
    """A bundle's manifest, as written or as verified."""

    path: Path
    bundle_id: str
    study_id: str
    site_code: str
    device_id: str
    created_at: str
    since: str | None
    key_id: str
    rows: Mapping[str, int]
    sha256: str
    format_version: int = FORMAT_VERSION

    @property
    def transition(self) -> bool:
        """A site-key HMAC bundle (format 1 or 2): accepted during the transition only."""
        return self.format_version < SEALED_FORMAT_VERSION

    def describe(self) -> str:
        counts = ", ".join(
            f"{self.rows.get(t, 0)} {t.replace('_log', ' entries')}" for t in _COUNTED
        )
        since = f" since {self.since}" if self.since else ""
        return (
            f"bundle {self.bundle_id} of device {self.device_id} (site {self.site_code})"
            f"{since}: {counts}"
        )


@dataclass(frozen=True)
class ImportSummary:
    """What `import_bundle` did."""

    bundle: BundleInfo
    result: MergeResult

    def describe(self) -> str:
        r = self.result
        if not r.changed:
            return f"bundle {self.bundle.bundle_id} already imported: nothing changed"
        new = ", ".join(f"{r.inserted[t]} {t.replace('_log', ' entries')}" for t in _COUNTED)
        text = (
            f"imported bundle {self.bundle.bundle_id} of device {self.bundle.device_id}: new {new}"
        )
        if r.subjects_matched_by_code:
            text += f"; {r.subjects_matched_by_code} subjects matched by code"
        if r.conflicts:
            text += f"; {len(r.conflicts)} conflicts flagged for review"
        if self.bundle.transition:
            text += (
                f"; TRANSITION: an unencrypted site-key (HMAC) bundle of format "
                f"{self.bundle.format_version}, not signed by its device"
            )
        else:
            text += f"; signed by device key {self.bundle.key_id}"
        return text


def parse_since(text: str) -> str:
    """A `--since` value (ISO date = midnight UTC, or ISO date-time) as a stored UTC timestamp."""
    try:
        if len(text) == 10:
            moment = datetime.combine(date.fromisoformat(text), datetime.min.time(), UTC)
        else:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is None:
                raise ValueError("no time zone")
    except ValueError:
        raise ValueError(
            f"--since {text!r}: expected an ISO date (2025-03-01) or a date-time with a time "
            "zone (2025-03-01T09:00:00Z)"
        ) from None
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _file_sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return _sha256_of(f)


def _mac(key: bytes, f: IO[bytes], length: int) -> str:
    """HMAC-SHA256 of the first `length` bytes of `f`."""
    mac = hmac.new(key, digestmod=hashlib.sha256)
    f.seek(0)
    left = length
    while left > 0:
        chunk = f.read(min(_CHUNK, left))
        if not chunk:
            break
        mac.update(chunk)
        left -= len(chunk)
    return mac.hexdigest()


def _sign_in_place(f: IO[bytes], key: bytes) -> None:
    """Replace the placeholder comment at the end of the ZIP file `f` with the signature."""
    end = f.seek(0, 2)
    body = end - _SIGNATURE_LENGTH
    line = _SIGNATURE_PREFIX + site_key_id(key).encode() + b" mac=" + _mac(key, f, body).encode()
    assert len(line) == _SIGNATURE_LENGTH
    f.seek(body)
    f.write(line)


def export_bundle(
    db: StudyDb,
    out: str | Path,
    *,
    since: str | None = None,
    key: bytes | None = None,
    progress: Progress | None = None,
) -> BundleInfo:
    """Write the signed bundle of `db` to `out` (replaced if it exists).

    `since`: a stored-format UTC timestamp (see `parse_since`) cutting the append-only streams;
    `key`: a site key to sign with (an HMAC bundle of format 2). Without it: format 3 (encrypted
    to the hub, signed by this device) when this database has its hub's key, else format 2 under
    this database's site key (created at first use).
    """
    try:
        path = output_file(Path(out))
    except OSError as exc:
        raise ExportError(str(exc)) from None
    from respine_desktop.exports import bundle_envelope as envelope  # cryptography: when used

    bundle_id = str(uuid.uuid4())
    created = clock.now_iso()
    total = sum(count_rows(db, t, since) for t in TABLES)  # progress only: the manifest counts
    ticker = Ticker(progress, total, "bundle export")
    done = 0
    members: list[dict[str, object]] = []
    counts: dict[str, int] = {}
    hub = hub_key(db) if key is None else None
    with (
        kept_with(db, path, making=_makes_keys(db, hub is not None, key)),
        atomic_binary(path, readable=True) as f,
        contextlib.ExitStack() as stack,
    ):
        # The keys (made at first use) once the file is open, kept only with the bundle in
        # place (`new_keys.kept_with`): an output that cannot be written, or a disk that
        # fills, leaves the database as it was.
        if hub is not None:
            sender = ensure_device_keys(db)
            private = device_private_keys(db)
            key_id = sender.fingerprint
        else:
            key = key if key is not None else ensure_site_key(db)
            key_id = site_key_id(key)
        version = FORMAT_VERSION if hub is None else SEALED_FORMAT_VERSION
        target: IO[bytes] = f
        if hub is not None:  # the ZIP, then sealed into `f`
            target = stack.enter_context(io.BytesIO())  # in memory only (bundle_envelope)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
            for table in TABLES:
                h = hashlib.sha256()
                size = rows = 0
                with zf.open(member_name(table), "w", force_zip64=True) as m:
                    buffer: list[tuple[Any, ...]] = []
                    for row in bundle_rows(db, table, since):
                        buffer.append(row)
                        if len(buffer) >= _ROWS_PER_LINE:
                            size += _flush(m, h, buffer)
                            rows += len(buffer)
                            ticker.tick(done + rows, table)
                            buffer = []
                    size += _flush(m, h, buffer)
                    rows += len(buffer)
                    done += rows
                counts[table] = rows
                members.append(
                    {
                        "name": member_name(table),
                        "table": table,
                        "columns": list(BUNDLE_COLUMNS[table]),
                        "rows": rows,
                        "bytes": size,
                        "sha256": h.hexdigest(),
                    }
                )
            manifest = {
                "format": FORMAT,
                "format_version": version,
                "bundle_id": bundle_id,
                "study_id": db.study_id,
                "study_oid": db.study.oid,
                "site_code": db.site_code,
                "device_id": db.device_id,
                "created_at": created,
                "since": since,
                "app_version": __version__,
                "scoring_version": scoring.SCORING_VERSION,
                "key_id": key_id,
                "signature": f"{ALGORITHM} over the whole file, in the ZIP comment"
                if hub is None
                else "Ed25519 by the device, over the sealed file (bundle_envelope)",
                "members": members,
            }
            zf.writestr(MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode())
            if hub is None:
                zf.comment = b"\0" * _SIGNATURE_LENGTH  # placeholder, signed below
        if hub is None:
            assert key is not None
            _sign_in_place(f, key)
        else:
            envelope.seal(target, f, sender=sender, private=private, recipient=hub)
    info = BundleInfo(
        path=path,
        bundle_id=bundle_id,
        study_id=db.study_id,
        site_code=db.site_code,
        device_id=db.device_id,
        created_at=created,
        since=since,
        key_id=key_id,
        rows=counts,
        sha256=_file_sha256(path),
        format_version=version,
    )
    ticker.done(f"bundle export: {info.describe()}")
    return info


def _makes_keys(db: StudyDb, sealed: bool, key: bytes | None) -> bool:
    """Whether this bundle makes its database's keys (its first: the device keys of a sealed
    bundle, the site key of an HMAC one without a `key` given)."""
    if sealed:
        return own_device_key(db) is None
    return key is None and installed_site_key_id(db) is None


def _flush(m: IO[bytes], h: Any, buffer: list[tuple[Any, ...]]) -> int:
    """Write one line: the JSON array of the buffered rows. Returns the bytes written."""
    if not buffer:
        return 0
    data = (_ENCODER.encode(buffer) + "\n").encode("utf-8")
    h.update(data)
    m.write(data)
    return len(data)


# -- reading and verifying -------------------------------------------------------------------


def _whole(source: IO[bytes]) -> bytes:
    """The whole bundle file `source` (open), at most `envelope.MAX_SEALED_BYTES` (asked for
    by its size: a read of the cap would reserve that much memory for any bundle)."""
    from respine_desktop.exports.bundle_envelope import MAX_SEALED_BYTES

    size = source.seek(0, io.SEEK_END)
    if size > MAX_SEALED_BYTES:
        raise BundleError(
            f"the bundle is {size / 1e6:,.0f} MB, more than a bundle can hold "
            f"({MAX_SEALED_BYTES / 1e6:,.0f} MB): damaged, or not a bundle"
        )
    source.seek(0)
    data = source.read(size + 1)
    if len(data) != size:
        raise BundleError("the bundle changed while it was read: refused, import it again")
    return data


def _sha256_of(source: IO[bytes]) -> str:
    h = hashlib.sha256()
    source.seek(0)
    for chunk in iter(lambda: source.read(_CHUNK), b""):
        h.update(chunk)
    return h.hexdigest()


def _signature(data: bytes) -> tuple[str, str, int]:
    """(key id, mac, signed length) from the signature line ending the bundle `data`."""
    head, tail = data[:4], data[-_SIGNATURE_LENGTH:]
    size = len(data)
    found = _SIGNATURE.fullmatch(tail)
    if found is None:
        if head == b"PK\x03\x04":
            raise BundleError("the bundle is truncated or damaged (its signature line is missing)")
        raise BundleError("not a RESPINE bundle")
    return found.group(1).decode(), found.group(2).decode(), size - _SIGNATURE_LENGTH


def _format_tables(zf: zipfile.ZipFile, names: set[str]) -> tuple[str, ...]:
    """The tables the bundle's format version carries (the current format's when the manifest
    cannot tell: `_manifest` then refuses the bundle for what is wrong with it)."""
    try:
        if MANIFEST in names and zf.getinfo(MANIFEST).file_size <= _MAX_MANIFEST:
            version = json_text.loads(zf.read(MANIFEST)).get("format_version")
            if isinstance(version, int) and version in FORMAT_TABLES:
                return FORMAT_TABLES[version]
    except (UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        pass
    return TABLES


def _check_sizes(zf: zipfile.ZipFile) -> None:
    """Refuse duplicate members and members too large or too compressed to be rows, from the
    central directory, before anything is inflated."""
    listed = zf.namelist()
    twice = sorted({n for n in listed if listed.count(n) > 1})
    if twice:
        raise BundleError(f"the bundle holds {twice[0]} more than once: tampered")
    total = 0
    for info in zf.infolist():
        total += info.file_size
        if info.file_size > MAX_MEMBER_BYTES:
            raise BundleError(
                f"{info.filename} would inflate to {info.file_size:,} bytes, more than the "
                f"{MAX_MEMBER_BYTES:,} a bundle member may hold: refused before inflating"
            )
        ratio = info.file_size / max(info.compress_size, 1)
        if info.file_size > 1 << 20 and ratio > MAX_RATIO:
            raise BundleError(
                f"{info.filename} would inflate {ratio:,.0f} times ({info.file_size:,} bytes), "
                f"no table compresses more than {MAX_RATIO} times: refused before inflating"
            )
    if total > MAX_TOTAL_BYTES:
        raise BundleError(
            f"the bundle would inflate to {total:,} bytes, more than {MAX_TOTAL_BYTES:,}: "
            "refused before inflating"
        )


def _manifest(zf: zipfile.ZipFile) -> dict[str, Any]:
    _check_sizes(zf)
    names = set(zf.namelist())
    required = _format_tables(zf, names)
    expected = {MANIFEST, *(member_name(t) for t in required)}
    if required != FORMAT_TABLES[1]:  # formats 2 and 3 may carry the optional members
        expected |= names & {member_name(t) for t in OPTIONAL_TABLES}
    if names != expected:
        missing = sorted(expected - names)
        extra = sorted(names - expected)
        detail = f"missing {', '.join(missing)}" if missing else f"unexpected {', '.join(extra)}"
        raise BundleError(f"not a complete RESPINE bundle ({detail})")
    if zf.getinfo(MANIFEST).file_size > _MAX_MANIFEST:
        raise BundleError("the manifest is too large")
    try:
        manifest = json_text.loads(zf.read(MANIFEST))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleError(f"the manifest is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BundleError("not a RESPINE site bundle (no manifest of that format)")
    return manifest


def _check_manifest(db: StudyDb, manifest: Mapping[str, Any], signed_key: str) -> None:
    """Refusals that need only the manifest (read before the signature is checked: they refuse)."""
    version = manifest.get("format_version")
    if not isinstance(version, int) or version not in FORMAT_TABLES:
        raise BundleError(
            f"bundle format version {version!r} is not supported "
            f"(this is version {__version__}, reading formats "
            f"{', '.join(str(v) for v in FORMAT_TABLES)})"
        )
    if manifest.get("study_id") != db.study_id:
        raise BundleError(
            f"the bundle belongs to study {manifest.get('study_id')!r}, this database to study "
            f"{db.study_id!r}: refused"
        )
    if manifest.get("key_id") != signed_key:
        raise BundleError("the bundle's manifest and signature name different keys: tampered")
    members = manifest.get("members")
    listed = [
        m.get("table") if isinstance(m, dict) else None
        for m in (members if isinstance(members, list) else ())
    ]
    required = list(FORMAT_TABLES[version])
    optional = [t for t in OPTIONAL_TABLES if t in listed[len(required) :]] if version > 1 else []
    if not isinstance(members, list) or listed != required + optional:
        raise BundleError("the bundle's manifest does not list the expected tables")
    for m in members:
        if m.get("columns") != list(BUNDLE_COLUMNS[m["table"]]) or m.get("name") != member_name(
            m["table"]
        ):
            raise BundleError(f"the bundle's {m['table']} table has other columns than expected")


def _check_signature(f: IO[bytes], key: bytes, signed_key: str, mac: str, length: int) -> None:
    mine = site_key_id(key)
    if signed_key != mine:
        raise BundleError(
            f"the bundle is signed with site key {signed_key}, this database has site key "
            f"{mine}: install this site's key (import key) or check where the bundle comes from"
        )
    expected = _mac(key, f, length)
    if not hmac.compare_digest(expected, mac):
        raise BundleError("the bundle's signature does not match its content: tampered or damaged")


def _check_members(
    zf: zipfile.ZipFile, manifest: Mapping[str, Any], keep: bool = False
) -> dict[str, bytes]:
    """Every member matches its hash and size in the manifest, no line too long; with `keep`,
    returns the members' inflated bytes by name (read once: the import parses them from
    memory), otherwise nothing.

    With `keep` (an import), the members are inflated and hashed by two threads at once (zlib
    and hashlib work without Python's global lock: the two largest members, answers and the
    audit log, take about as long as all of them in one thread); the first member refused, in
    the manifest's order, is the one named, as when they are read one after another. The
    threads have ended when this returns (a merge forks only from a single thread)."""
    # an optional member in the file must be listed in the (signed) manifest, and the reverse
    listed = {m["name"] for m in manifest["members"]}
    for t in OPTIONAL_TABLES:
        if (member_name(t) in listed) != (member_name(t) in zf.namelist()):
            raise BundleError(f"the bundle's {t} member and its manifest disagree: tampered")
    members: list[Mapping[str, Any]] = list(manifest["members"])
    if not keep:
        for m in members:
            _check_member(zf, m, keep)
        return {}
    threads: list[int] = []  # their system ids, to see them gone (`meanwhile.threads_gone`)
    try:
        with ThreadPoolExecutor(
            max_workers=_MEMBER_THREADS, initializer=lambda: threads.append(get_native_id())
        ) as pool:
            read = [pool.submit(_check_member, zf, m, keep) for m in members]
            try:
                return {m["name"]: future.result() for m, future in zip(members, read, strict=True)}
            finally:
                for future in read:  # a refusal: the members not started are not read
                    future.cancel()
    finally:
        meanwhile.threads_gone(threads)


_MEMBER_THREADS = 2


def _check_member(zf: zipfile.ZipFile, m: Mapping[str, Any], keep: bool) -> bytes:
    """One member checked against its hash and size (`_check_members`); its bytes with
    `keep`, else none."""
    h = hashlib.sha256()
    size = line = 0
    cap = min(zf.getinfo(m["name"]).file_size, MAX_MEMBER_BYTES)
    chunks: list[bytes] = []
    with zf.open(m["name"]) as f:
        for chunk in iter(lambda: f.read(_KEPT_CHUNK if keep else _CHUNK), b""):
            h.update(chunk)
            size += len(chunk)
            if size > cap:  # zipfile stops at the declared size; this is the second lock
                raise BundleError(f"{m['name']} inflates past its declared size: refused")
            line = _longest_line(m["name"], chunk, line)
            if keep:
                chunks.append(chunk)
    if h.hexdigest() != m.get("sha256") or size != m.get("bytes"):
        raise BundleError(f"{m['name']} does not match its hash in the manifest: tampered")
    return b"".join(chunks)


def _longest_line(name: str, chunk: bytes, run: int) -> int:
    """The length of the line still open after `chunk` (`run` bytes open before it); BundleError
    once a line passes `MAX_LINE_BYTES`."""
    start = 0
    while True:
        end = chunk.find(b"\n", start)
        run += (len(chunk) if end < 0 else end) - start
        if run > MAX_LINE_BYTES:
            raise BundleError(f"{name} has a line longer than {MAX_LINE_BYTES:,} bytes: refused")
        if end < 0:
            return run
        run, start = 0, end + 1


class _MemberRows:
    """The rows of one member, line by line (iterated once), read from its bytes (kept by
    `_check_members`) or from the ZIP; BundleError if their number is not `expected`. `tick` is
    called with each line's number of rows (the import's progress).

    With `keep_lines`, the text of each line is kept too (`lines`, once iterated): the merge
    takes an answer entry's digest from its rows' text when it is canonical
    (`storage.bundle_merge.RAW_LINE_TABLES`) rather than serialising the rows again. `lines` is
    None when not kept, or when a line parses only as bytes (not UTF-8 text)."""

    def __init__(
        self,
        source: zipfile.ZipFile | bytes,
        table: str,
        expected: int,
        keep_lines: bool,
        tick: Callable[[int], None] | None = None,
    ) -> None:
        self.source, self.table, self.expected, self.tick = source, table, expected, tick
        self.lines: list[str] | None = [] if keep_lines else None
        self._reading: Generator[list[Sequence[Any]], None, None] | None = None

    def __iter__(self) -> Iterator[Sequence[Any]]:
        self._reading = self._read()
        return itertools.chain.from_iterable(self._reading)  # a line's rows at C speed

    def close(self) -> None:
        """Close the member (a refusal may leave it half read)."""
        if self._reading is not None:
            self._reading.close()

    def _read(self) -> Generator[list[Sequence[Any]], None, None]:
        name = member_name(self.table)
        count = 0
        # the member's bytes when `_check_members` kept them, else read from the ZIP again
        # (zipfile's own readline works in small steps: a large buffer reads a line at once)
        with (
            io.BytesIO(self.source)
            if isinstance(self.source, bytes)
            else io.BufferedReader(cast(io.RawIOBase, self.source.open(name)), 1 << 20)
        ) as f:
            lines = iter(lambda: f.readline(MAX_LINE_BYTES + 1), b"")
            for n, line in enumerate(lines, start=1):
                if len(line) > MAX_LINE_BYTES:  # pragma: no cover - `_check_members` refused it
                    raise BundleError(f"{name} line {n} is longer than {MAX_LINE_BYTES:,} bytes")
                batch = self._parse(name, n, line)
                if not isinstance(batch, list):
                    raise BundleError(f"{name} line {n} is not a list of rows")
                count += len(batch)
                if self.tick is not None:
                    self.tick(len(batch))
                yield batch
        self.source = b""  # read: its bytes are not needed any more
        if count != self.expected:
            raise BundleError(f"{name} has {count} rows, the manifest says {self.expected}")

    def _parse(self, name: str, n: int, line: bytes) -> Any:
        try:
            if self.lines is not None:
                try:
                    text = line.decode("utf-8")
                    batch = json_text.loads(text)
                except json_text.NestedTooDeeply:
                    raise
                except ValueError:  # e.g. a BOM or UTF-16: parsed as bytes below, lines not kept
                    self.lines = None
                else:
                    self.lines.append(text)
                    return batch
            return json_text.loads(line)
        except json_text.NestedTooDeeply:
            raise BundleError(
                f"{name} line {n} is nested too deeply to hold rows: refused"
            ) from None
        except (UnicodeDecodeError, json.JSONDecodeError):
            raise BundleError(f"{name} line {n} is not valid JSON") from None


_AUDIT_ID = BUNDLE_COLUMNS["audit_log"].index("id")
_AUDIT_DEVICE = BUNDLE_COLUMNS["audit_log"].index("device_id")
_AUDIT_HASH = BUNDLE_COLUMNS["audit_log"].index("hash")


def _checked_rows(
    db: StudyDb,
    zf: zipfile.ZipFile,
    info: BundleInfo,
    table: str,
    tick: Callable[[int], None] | None = None,
    kept: dict[str, bytes] | None = None,
) -> Iterable[Sequence[Any]]:
    """The rows of `table` (none when the bundle's format lacks it: session_choices in format
    1). In a device-signed bundle, an audit entry of another device's chain must be one this
    database holds already: a device signs for its own chain only."""
    if table not in info.rows:
        return ()
    source = kept.pop(member_name(table), zf) if kept is not None else zf  # held once
    rows = _MemberRows(source, table, info.rows[table], table in RAW_LINE_TABLES, tick)
    if table != "audit_log" or info.transition:
        return rows
    return _own_chain(db, rows, info.device_id)


def _own_chain(db: StudyDb, rows: Iterable[Sequence[Any]], signer: str) -> Iterator[Sequence[Any]]:
    for row in rows:
        if row[_AUDIT_DEVICE] != signer and not has_audit_entry(
            db, str(row[_AUDIT_ID]), str(row[_AUDIT_HASH])
        ):
            raise BundleError(
                f"the bundle of device {signer} carries audit entry {row[_AUDIT_ID]} of device "
                f"{row[_AUDIT_DEVICE]}, which this hub does not hold: one device cannot sign "
                "for another, refused"
            )
        yield row


_READ_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, KeyError)


def verify_bundle(db: StudyDb, path: str | Path, *, key: bytes | None = None) -> BundleInfo:
    """Check a bundle against `db` (study, signature, every hash) without writing anything."""
    with _opened(db, Path(path), key) as (_, info, _):
        return info


@contextlib.contextmanager
def _opened(
    db: StudyDb, path: Path, key: bytes | None, *, keep: bool = False
) -> Iterator[tuple[zipfile.ZipFile, BundleInfo, dict[str, bytes]]]:
    """The verified bundle's ZIP (decrypted for format 3) and what it is; BundleError naming
    `path` when it is refused. Errors of the caller's block pass through unchanged. The keys
    are only read (`storage.keys_read_only`): checking a bundle writes nothing."""
    if not path.is_file():
        raise BundleError(files.not_a_file(path, "bundle file"))
    from respine_desktop.exports import bundle_envelope as envelope  # cryptography: when used

    with contextlib.ExitStack() as stack:
        stack.enter_context(keys_read_only())
        # One open of the file, every check and every read through it: a file renamed over the
        # name between two opens (a shared folder) was read by one and not by the other (the
        # signature checked on the genuine bundle, the rows read from another).
        try:
            source = stack.enter_context(open(path, "rb"))
            if source.read(len(envelope.MAGIC)) == envelope.MAGIC:
                plain, sender = stack.enter_context(envelope.open_sealed(db, source))
                zf = stack.enter_context(zipfile.ZipFile(plain))
                manifest = _manifest(zf)
                if manifest.get("device_id") != sender.key.device_id:
                    raise BundleError(
                        f"the bundle is signed by device {sender.key.device_id} but carries "
                        f"the data of device {manifest.get('device_id')}: one device cannot "
                        "sign for another, refused"
                    )
                _check_manifest(db, manifest, sender.key.fingerprint)
                if manifest["format_version"] != SEALED_FORMAT_VERSION:
                    raise BundleError("a sealed bundle must hold a manifest of format 3")
                signed_key = sender.key.fingerprint
                sha256 = _sha256_of(source)
            else:
                # (in memory: the signature, then every row, checked on the same bytes, even
                # should someone write into the file meanwhile)
                data = _whole(source)
                sha256 = hashlib.sha256(data).hexdigest()
                signed_key, mac, length = _signature(data)
                zf = stack.enter_context(zipfile.ZipFile(io.BytesIO(data)))
                manifest = _manifest(zf)
                _check_manifest(db, manifest, signed_key)
                if manifest["format_version"] not in HMAC_FORMATS:
                    raise BundleError("a bundle of format 3 must be sealed: tampered")
                if not hmac_bundles_accepted(db):
                    raise BundleError(
                        f"a site-key (HMAC) bundle of format {manifest['format_version']}: this "
                        "hub no longer accepts them (the transition has ended); export it again "
                        "on a kiosk that has this hub's key ('import hub-key')"
                    )
                _check_signature(
                    io.BytesIO(data),
                    key if key is not None else _installed_key(db),
                    signed_key,
                    mac,
                    length,
                )
            kept = _check_members(zf, manifest, keep)
        except BundleError as exc:
            raise BundleError(f"{path}: {exc}") from None
        except _READ_ERRORS as exc:
            raise BundleError(f"{path}: the bundle is damaged ({exc})") from None
        yield (
            zf,
            BundleInfo(
                path=path,
                bundle_id=str(manifest.get("bundle_id")),
                study_id=str(manifest["study_id"]),
                site_code=str(manifest.get("site_code")),
                device_id=str(manifest.get("device_id")),
                created_at=str(manifest.get("created_at")),
                since=manifest.get("since"),
                key_id=signed_key,
                rows={m["table"]: int(m["rows"]) for m in manifest["members"]},
                sha256=sha256,
                format_version=int(manifest["format_version"]),
            ),
            kept,
        )


def _installed_key(db: StudyDb) -> bytes:
    key = get_site_key(db)
    if key is None:
        raise BundleError(
            f"{db.path} has no site key yet: install the site's key first "
            "(python main.py import key --db PATH KEYFILE)"
        )
    return key


def import_bundle(
    db: StudyDb,
    path: str | Path,
    *,
    key: bytes | None = None,
    progress: Progress | None = None,
    committed: Callable[[], None] = lambda: None,
) -> ImportSummary:
    """Verify the bundle at `path` and merge it into `db` (see the module docstring);
    `committed` is called as soon as the merge has committed (`storage.merge_bundle`).

    Idempotent: a bundle imported already changes nothing. Raises `BundleError` (nothing
    written) when it is refused.
    """
    path = Path(path)
    with _opened(db, path, key, keep=True) as (zf, info, kept):
        total = sum(info.rows.values())
        ticker = Ticker(progress, total, "bundle import")
        done = 0

        def tick(rows: int) -> None:  # called per line read (up to 1,000 rows)
            nonlocal done
            before, done = done, done + rows
            if done // 1000 != before // 1000:  # as before: every thousand rows
                ticker.tick(done)

        opened: list[Iterable[Sequence[Any]]] = []

        def rows(table: str) -> Iterable[Sequence[Any]]:
            found = _checked_rows(db, zf, info, table, tick, kept)
            opened.append(found)
            return found

        try:
            result = merge_bundle(
                db,
                rows,
                bundle={
                    "bundle_id": info.bundle_id,
                    "device_id": info.device_id,
                    "site_code": info.site_code,
                    "created_at": info.created_at,
                    "since": info.since,
                    "key_id": info.key_id,
                    "sha256": info.sha256,
                    "file": path.name,
                    "format_version": info.format_version,
                    "signature": "site key HMAC (transition)"
                    if info.transition
                    else "device Ed25519, encrypted to this hub",
                },
                committed=committed,
            )
        except StorageError as exc:
            raise BundleError(f"{path}: refused: {exc}") from None
        except BundleError as exc:
            raise BundleError(f"{path}: {exc}") from None
        except _READ_ERRORS as exc:
            raise BundleError(f"{path}: the bundle is damaged ({exc})") from None
        finally:
            for member in opened:  # a refusal mid-table leaves its member open: close it now
                close = getattr(member, "close", None)
                if close is not None:
                    close()
    # Merged: the first use of this database's keys outside `_opened` (which only read them, so
    # that a refused bundle left them as they were) moves an old layout under the database key;
    # one that cannot be moved now is left to the next use, which says why.
    with contextlib.suppress(StorageError):
        rewrap_secrets(db)
    summary = ImportSummary(info, result)
    ticker.done(summary.describe())
    return summary
